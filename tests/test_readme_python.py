"""Every Python snippet of the documentation's Python API page (docs/python-api.md) and the
README's runs, in order, in one namespace, in a folder holding a small cat.png (so the
snippets stay quick)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def python_snippets() -> list[str]:
    pages = ROOT / "docs" / "python-api.md", ROOT / "README.md"
    return [snippet for page in pages
            for snippet in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)]


def test_readme_python_section_runs(chelsea, tmp_path, monkeypatch, one_thread):
    snippets = python_snippets()
    assert len(snippets) >= 4
    joined = "".join(snippets)
    for name in ("run_dream", "params_from", "run_zoom", "run_video"):
        assert name in joined
    Image.fromarray((chelsea[::3, ::3] * 255).round().astype(np.uint8)).save(tmp_path / "cat.png")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for snippet in snippets:
        exec(compile(snippet, "python-api.md", "exec"), namespace)  # noqa: S102
    dream, again = (np.asarray(Image.open(tmp_path / n)) for n in ("dream.png", "again.png"))
    assert np.array_equal(dream, again)  # the re-run is bit-identical
    assert not np.array_equal(dream, np.asarray(Image.open(tmp_path / "other.png")))
    for name in ("zoom.mp4", "dreamed.mp4", "watched.png", "mixed.png"):
        assert (tmp_path / name).stat().st_size > 0

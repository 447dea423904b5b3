"""The documentation site: the gallery script makes every picture, the site builds in strict
mode (a broken link, a missing page, picture, snippet or API reference fails it), the
notebook runs at build time and shows its pictures, and the site takes the set-up commands,
the CLI's help and the API names from their single sources.

The gallery is made at the small size into docs/gallery/ (git-ignored), as CI builds it; the
site goes to a temporary folder. Together about a minute on 2 cores.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = DOCS / "gallery"

pytest.importorskip("mkdocs", reason="the docs extra is not installed")
pytest.importorskip("mkdocs_jupyter", reason="the docs extra is not installed")


def read(site: Path, page: str) -> str:
    return (site / page).read_text()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Make the gallery at the small size, then build the site strictly; the built folder."""
    out = tmp_path_factory.mktemp("site") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([sys.executable, str(DOCS / "gallery.py"), "--small"], cwd=ROOT, env=env,
                   check=True, capture_output=True, text=True)
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text.split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"([\w/-]+\.(?:md|ipynb))\s*$", nav, flags=re.M)


def test_every_page_of_the_nav_is_built(site):
    pages = nav_pages()
    for name in ("getting-started.md", "dreaming.md", "layer-tour.md", "videos.md", "models.md",
                 "studio.md", "batch.md", "python-api.md", "reference.md", "bad-input.md",
                 "performance.md", "how-it-works.md", "architecture.md", "gallery.md",
                 "notebooks/dreaming.ipynb"):
        assert name in pages, name
    for page in pages:
        assert (site / re.sub(r"\.(md|ipynb)$", ".html", page)).is_file(), page


def test_the_site_shows_only_gallery_pictures_and_every_one_of_them(site):
    manifest = json.loads((GALLERY / "manifest.json").read_text())
    assert manifest["small"]
    pictures = [p for g in manifest["groups"] for p in g["pictures"]]
    assert len(pictures) >= 30
    shown = {p["show"] or p["file"] for p in pictures}
    used = set()
    for page in site.rglob("*.html"):
        for src in re.findall(r'<img[^>]* src="([^"]+)"', page.read_text()):
            if src.startswith("data:"):
                continue  # the notebook's own outputs
            name = src.rsplit("gallery/", 1)[-1]
            # Besides the gallery: the studio's screenshots (they need a browser), the
            # microscope's channel atlases and the flicker benchmark's side-by-side video
            # (minutes each; their captions give the command).
            committed = name == "flicker.gif" \
                or re.fullmatch(r"(studio|studio-[\w-]+|atlas-[\w-]+)\.png", name)
            assert "gallery/" in src or committed, f"{page.name}: {src}"
            used.add(name)
            assert (page.parent / src).is_file(), f"{page.name}: {src}"
    assert shown <= used, f"made but never shown: {sorted(shown - used)}"
    gallery = read(site, "gallery.html")
    for picture in pictures:
        if picture["command"]:
            assert html.escape(picture["command"], quote=False) in gallery, picture["command"]
    for kind in ("tour.png", "zoom.gif", "preset-subtle.png", "pyramid-recursive.png",
                 "smoothing-4.png", "step-0.06.png", "guided.png", "masked.png",
                 "keep-colors.png", "class-jellyfish.png", "model-efficientnet_lite2.png"):
        assert kind in shown, kind
    with Image.open(GALLERY / "zoom.gif") as gif:
        assert gif.n_frames > 1  # an animation, not a still


def test_a_gallery_picture_is_made_again_from_its_stored_parameters(site, tmp_path):
    exe = Path(sys.executable).with_name("inceptionism")
    again = tmp_path / "again.png"
    subprocess.run([exe, "dream", "--params-from", "preset-painterly.png", "cat.png", "-o",
                    str(again), "-q"], cwd=GALLERY, check=True, capture_output=True)
    made, remade = (np.asarray(Image.open(p)) for p in (GALLERY / "preset-painterly.png", again))
    assert np.array_equal(made, remade)
    assert not np.array_equal(made, np.asarray(Image.open(GALLERY / "cat.png").convert("RGB")))


def test_the_notebook_ran_at_build_time_and_shows_its_pictures(site):
    page = read(site, "notebooks/dreaming.html")
    assert page.count("data:image/png") >= 5  # photo, dream, three layers, class, mask
    assert "data:image/gif" in page  # the zoom loop
    assert "Traceback" not in page and "ename" not in page
    cells = json.loads((DOCS / "notebooks" / "dreaming.ipynb").read_text())["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    assert "%pip install" in "".join(first["source"])  # runs in Colab as it is
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")  # committed bare


def test_the_reference_documents_every_public_name(site):
    import inceptionism

    page = read(site, "reference.html")
    for name in inceptionism.__all__:
        if not name.startswith("_"):
            assert f'id="inceptionism.{name}"' in page, name
    assert ":class:`" not in page  # Sphinx roles are read as links or code


def test_commands_come_from_the_cli_and_the_readme(site):
    from click.testing import CliRunner

    from inceptionism.cli import cli

    page = html.unescape(re.sub(r"<[^>]+>", "", read(site, "commands.html")))
    for name in cli.commands:
        text = CliRunner().invoke(cli, [name, "--help"], prog_name="inceptionism",
                                  terminal_width=74).output
        assert text.strip() in page, name
    start = html.unescape(re.sub(r"<[^>]+>", "", read(site, "getting-started.html")))
    readme = (ROOT / "README.md").read_text()
    for marker in ("main-command", "test-command"):
        command = re.search(rf"<!-- {marker} -->\n```sh\n(.+)\n```", readme).group(1)
        assert command in start, marker


def test_readme_is_short_and_undated():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).exists(), link


def test_every_performance_table_says_when_where_and_how():
    lines = (DOCS / "performance.md").read_text().splitlines()
    starts = [i for i, line in enumerate(lines)
              if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))]
    assert len(starts) >= 3
    for i in starts:
        section = max(j for j in range(i) if lines[j].startswith("## "))
        before = "\n".join(lines[section:i])
        assert re.search(r"20\d\d-\d\d-\d\d", before), lines[i]  # the date
        assert "benchmarks" in before, lines[i]  # the command or its results file
        assert re.search(r"cores|H200|GPU", before), lines[i]  # the machine

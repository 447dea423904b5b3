"""The README: exactly two marked set-up commands (the main one really works), and every
example command of the README and the documentation pages uses options the CLI has, with
values it accepts.

CI (.ci/run) executes both commands verbatim in a fresh virtual environment; here we check
their shape and run the main command's dreaming part with this environment's console script.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from PIL import Image

from inceptionism.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    return dict(re.findall(r"<!-- (\w[\w-]*-command) -->\n```sh\n(.+)\n```", text))


def test_exactly_two_setup_commands():
    commands = readme_commands()
    assert set(commands) == {"main-command", "test-command"}
    for command in commands.values():
        assert "python3 -m venv .venv" in command
        assert "torch==2.13.0" in command  # the CPU wheel; a range would pull a CUDA build
    assert "-e '.[test]'" in commands["test-command"]
    assert commands["test-command"].endswith("python -m pytest")
    assert (ROOT / ".ci" / "run").read_text().count("readme_command ") >= 2


def test_main_command_dreams_on_the_sample(tmp_path):
    steps = [shlex.split(part) for part in readme_commands()["main-command"].split("&&")]
    runs = [s for s in steps if s[0].endswith("bin/inceptionism")]
    assert [s[1] for s in runs] == ["sample", "dream"]
    exe = Path(sys.executable).with_name("inceptionism")
    for step in runs:
        subprocess.run([exe, *step[1:]], cwd=tmp_path, check=True, capture_output=True)
    sample_name = runs[0][2]
    dream_name = runs[1][runs[1].index("-o") + 1]
    with Image.open(tmp_path / sample_name) as a, Image.open(tmp_path / dream_name) as b:
        assert a.size == b.size
        diff = np.abs(np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float))
        assert diff.mean() > 10  # a dream, not a copy


def example_commands(*pages: Path) -> list[str]:
    """Command lines shown as code: in a fenced block or indented by four spaces."""
    pages = pages or (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
    lines = []
    for page in pages:
        fenced = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif fenced or line.startswith("    "):
                lines.append(line.strip())
    return [line.split("  #")[0].strip() for line in lines if line.startswith("inceptionism ")]


def test_readme_has_example_commands():
    readme = example_commands(ROOT / "README.md")
    for name in ("dream", "explore", "--params-from", "zoom", "batch"):
        assert any(name in c for c in readme), name
    commands = example_commands()
    for name in ("explore", "layers", "--guide", "--params-from", "class=", "--mask", "video"):
        assert any(name in c for c in commands), name


@pytest.mark.parametrize("command", example_commands())
def test_readme_command_parses(command):
    args = shlex.split(command)[1:]
    sub = cli.get_command(click.Context(cli), args[0])
    assert sub is not None, f"no command {args[0]}"
    sub.make_context(args[0], args[1:])  # raises on an unknown option or a refused value

"""The README's example commands use options the CLI has, with values it accepts."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from inceptionism.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_commands() -> list[str]:
    lines = [line.strip() for line in README.read_text().splitlines()]
    return [line.split("  #")[0].strip() for line in lines if line.startswith("inceptionism ")]


def test_readme_has_example_commands():
    commands = readme_commands()
    for name in ("explore", "layers", "--guide", "--params-from", "class="):
        assert any(name in c for c in commands), name


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_parses(command):
    args = shlex.split(command)[1:]
    sub = cli.get_command(click.Context(cli), args[0])
    assert sub is not None, f"no command {args[0]}"
    sub.make_context(args[0], args[1:])  # raises on an unknown option or a refused value

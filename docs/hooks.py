"""MkDocs hooks: the site takes commands, options and API names from their single sources.

In a page's Markdown, these markers are replaced before it is rendered:

- ``<!-- readme: main-command -->``: the README's set-up command of that name, as a shell
  block (the README's commands are the ones CI runs);
- ``<!-- help: dream -->``: ``inceptionism dream --help`` as the CLI prints it
  (``<!-- help: -->`` for the top-level help);
- ``<!-- api: all -->``: one mkdocstrings entry (``::: inceptionism.NAME``) for every name in
  ``inceptionism.__all__``.

An unknown marker, command or README command fails the build. Before the build, the gallery
(docs/gallery.py) is made at the small size if it was never made.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"
MARKER = re.compile(r"<!-- (readme|help|api): ?([\w-]*) -->")
log = logging.getLogger("mkdocs.hooks.inceptionism")


def on_pre_build(config) -> None:
    if not (GALLERY / "manifest.json").is_file():
        log.info("docs/gallery/ is missing: making it at the small size (docs/gallery.py --small)")
        subprocess.run([sys.executable, str(ROOT / "docs" / "gallery.py"), "--small"], check=True)


def readme_command(name: str) -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- {re.escape(name)} -->\n```sh\n(.+)\n```", text)
    if found is None:
        raise PluginError(f"README.md has no command marked <!-- {name} -->.")
    return f"``` {{.sh .wrap}}\n{found.group(1)}\n```"  # one long line: wrapped on screen


def help_text(command: str) -> str:
    from click.testing import CliRunner

    from inceptionism.cli import cli

    args = [command, "--help"] if command else ["--help"]
    # 74 columns: the width of a code block in the page, so no line scrolls sideways.
    result = CliRunner().invoke(cli, args, prog_name="inceptionism", terminal_width=74)
    if result.exit_code != 0:
        raise PluginError(f"`inceptionism {command} --help` failed: {result.output.strip()}")
    return f"```text\n{result.output.rstrip()}\n```"


def api_entries(which: str) -> str:
    if which != "all":
        raise PluginError(f"Unknown API marker '{which}'; use <!-- api: all -->.")
    import inceptionism

    names = [n for n in inceptionism.__all__ if not n.startswith("_")]
    return "\n\n".join(f"::: inceptionism.{name}" for name in names)


def expand(match: re.Match) -> str:
    kind, arg = match.groups()
    if kind == "readme":
        return readme_command(arg)
    if kind == "help":
        return help_text(arg)
    return api_entries(arg)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(expand, markdown)

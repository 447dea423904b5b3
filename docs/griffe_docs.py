"""Griffe extensions for the API reference: the docstrings' Sphinx roles read as Markdown,
and the comments on settings shown as their documentation.

The package's docstrings cite names the Sphinx way (:class:`~inceptionism.Dreamer`,
:func:`parse`); Markdown would show the role as text. Each role becomes the name in code
font, linked to its reference entry when the name is one of ``inceptionism.__all__`` (the
names the reference documents), so the build never points at a page that does not exist.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import griffe

ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?\.?([\w.]+)`")


def public_names() -> set[str]:
    import inceptionism

    return set(inceptionism.__all__)


class SphinxRoles(griffe.Extension):
    def __init__(self) -> None:
        self.public = public_names()

    def rewrite(self, match: re.Match) -> str:
        path = match.group(1)
        short = path.rsplit(".", 1)[-1]
        top = path.split(".")[-2] if "." in path else path
        if short in self.public and path in (short, f"inceptionism.{short}"):
            return f"[`{short}`][inceptionism.{short}]"
        if top in self.public and "." in path:  # a method of a public class: Dreamer.explore
            owner = path.split(".")[-2]
            return f"[`{owner}.{short}`][inceptionism.{owner}.{short}]"
        return f"`{short}`"

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(self.rewrite, obj.docstring.value)


@lru_cache(maxsize=None)
def source_lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines()


def field_comment(lines: list[str], lineno: int) -> str:
    """The comment on line ``lineno`` (1-based) after the code, else the block of comment
    lines just above it."""
    line = lines[lineno - 1]
    code, hash_, comment = line.partition("  # ")
    if hash_ and code.strip() and '"' not in comment:
        return comment.strip()
    block, i = [], lineno - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        block.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(block)


class FieldComments(griffe.Extension):
    def on_attribute_instance(self, *, attr, **kwargs) -> None:
        if attr.docstring is not None or attr.lineno is None or attr.filepath is None:
            return
        if not isinstance(attr.filepath, Path):  # a namespace package's several paths
            return
        text = field_comment(source_lines(str(attr.filepath)), attr.lineno)
        if text:
            attr.docstring = griffe.Docstring(text, lineno=attr.lineno, parent=attr)

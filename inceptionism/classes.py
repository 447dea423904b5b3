"""The 1000 ImageNet-1k class names, in index order, and lookup by name or index.

The names are torchvision's short English names (``torchvision/models/_meta.py``), stored
as package data in ``data/imagenet_classes.txt`` (one per line, line N is class N).
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources

from .errors import InceptionismError


@cache
def imagenet_classes() -> tuple[str, ...]:
    """The class names, index order (0 "tench" ... 999 "toilet tissue")."""
    text = (resources.files("inceptionism.data") / "imagenet_classes.txt").read_text("utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    assert len(names) == 1000, f"imagenet_classes.txt has {len(names)} names, expected 1000"
    return names


def _key(name: str) -> str:
    # Case, underscores and runs of spaces do not matter: "egyptian_cat" finds "Egyptian cat".
    return " ".join(name.replace("_", " ").lower().split())


@cache
def _by_key() -> dict[str, int]:
    return {_key(name): i for i, name in enumerate(imagenet_classes())}


def search_classes(query: str, limit: int = 8) -> list[int]:
    """Indices of classes whose name contains ``query``; if none does, of names that look
    like it (typos: "jelyfish" finds "jellyfish")."""
    key = _key(query)
    hits = [i for i, name in enumerate(imagenet_classes()) if key and key in _key(name)]
    if not hits:
        close = difflib.get_close_matches(key, list(_by_key()), n=limit, cutoff=0.6)
        hits = [_by_key()[c] for c in close]
    return hits[:limit]


def class_index(which: str | int) -> int:
    """A class index from an index (int or digits) or a name (case-insensitive).

    Unknown names raise an :class:`InceptionismError` that lists the closest names.
    """
    names = imagenet_classes()
    # ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits.
    if isinstance(which, str) and which.strip().isascii() and which.strip().isdigit():
        which = int(which)
    if isinstance(which, int):
        if not 0 <= which < len(names):
            raise InceptionismError(
                f"ImageNet class index {which} does not exist; use 0 to {len(names) - 1}."
            )
        return which
    index = _by_key().get(_key(which))
    if index is None:
        close = search_classes(which, limit=5)
        hint = ("close matches: " + ", ".join(f"{names[i]} ({i})" for i in close) + "; ") if close else ""
        raise InceptionismError(
            f"Unknown ImageNet class '{which}' ({hint}`inceptionism classes` lists all 1000)."
        )
    return index

"""The 1000 ImageNet-1k class names, in index order, and lookup by name or index.

The names are torchvision's short English names (``torchvision/models/_meta.py``), stored
as package data in ``data/imagenet_classes.txt`` (one per line, line N is class N).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
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


def name_key(name: str) -> str:
    # Case, underscores and runs of spaces do not matter: "egyptian_cat" finds "Egyptian cat".
    return " ".join(name.replace("_", " ").lower().split())


@cache
def _by_key() -> dict[str, int]:
    return {name_key(name): i for i, name in enumerate(imagenet_classes())}


def search_classes(query: str, limit: int = 8) -> list[int]:
    """Indices of classes whose name contains ``query``; if none does, of names that look
    like it (typos: "jelyfish" finds "jellyfish")."""
    key = name_key(query)
    hits = [i for i, name in enumerate(imagenet_classes()) if key and key in name_key(name)]
    if not hits:
        close = difflib.get_close_matches(key, list(_by_key()), n=limit, cutoff=0.6)
        hits = [_by_key()[c] for c in close]
    return hits[:limit]


def class_index(which: str | int, names: Sequence[str] | None = None) -> int:
    """A class index from an index (int or digits) or a name (case-insensitive).

    ``names``: the model's class names, if not the 1000 ImageNet ones (an empty sequence:
    the model came without names, so only indices work). Unknown names raise an
    :class:`InceptionismError` that lists the closest names.
    """
    own = names is not None
    names = tuple(names) if own else imagenet_classes()
    count = len(names) if names else None
    # ASCII digits only: str.isdigit() also accepts "²" and other scripts' digits.
    if isinstance(which, str) and which.strip().isascii() and which.strip().isdigit():
        which = int(which)
    if isinstance(which, int):
        if which < 0 or (count is not None and which >= count):
            top = f"0 to {count - 1}" if count else "a non-negative index"
            raise InceptionismError(f"Class index {which} does not exist; use {top}.")
        return which
    if not names:
        raise InceptionismError(
            f"This model came without class names, so class '{which}' cannot be looked up; "
            f"use class=INDEX."
        )
    if own:
        by_key = {name_key(name): i for i, name in enumerate(names)}
        index = by_key.get(name_key(which))
        if index is None:
            close = difflib.get_close_matches(name_key(which), list(by_key), n=5, cutoff=0.6)
            hint = f" (close matches: {', '.join(close)})" if close else ""
            raise InceptionismError(f"Unknown class '{which}' for this model{hint}; `inceptionism classes` lists them.")
        return index
    index = _by_key().get(name_key(which))
    if index is None:
        close = search_classes(which, limit=5)
        hint = ("close matches: " + ", ".join(f"{names[i]} ({i})" for i in close) + "; ") if close else ""
        raise InceptionismError(
            f"Unknown ImageNet class '{which}' ({hint}`inceptionism classes` lists all 1000)."
        )
    return index

"""``python -m inceptionism``: the same as the ``inceptionism`` command."""

from .cli import entry_point

entry_point()

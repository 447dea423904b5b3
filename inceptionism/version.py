"""The package's version: the one place it is written (pyproject.toml reads it from here).

A plain string, not read from the installed metadata: ``importlib.metadata`` costs every
command, ``--help`` included, about 15 ms to import.
"""

__version__ = "0.1.0"

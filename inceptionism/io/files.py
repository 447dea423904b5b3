"""File helpers every writer and reader shares: one content hash, one atomic write.

A leaf: imports nothing from the rest of the package.
"""

from __future__ import annotations

import hashlib
import contextlib
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex (``hashlib.file_digest`` reads it in chunks)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None], durable: bool = False) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over
    ``path``: readers see the old file or the whole new one, never a partial one.

    ``durable``: flush the file to disk before the rename (frames that count as done once
    they exist). The temporary file is removed on any failure, Ctrl-C included.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    # The temporary name is chosen before the file is created, inside the ``try``, so an
    # interruption at any moment (Ctrl-C or SIGTERM raised between two lines, even inside the
    # creation) still removes it; ``tempfile.mkstemp`` creates the file and can be
    # interrupted before it returns its name, leaving an orphan.
    tmp = None
    try:
        for _ in range(100):
            tmp = folder / f".{path.name}.{secrets.token_hex(4)}.part"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free temporary name beside {path}")
        write(tmp)
        if durable:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # created private; give it normal permissions
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def signals_deferred(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)):
    """Within the block, Ctrl-C and SIGTERM wait: they are delivered, to whatever handlers
    were there, when it ends. For the few lines that must not be cut in two, such as starting
    a child process (cut after its fork, the child runs on, orphaned, and writes its file after
    ours was cleaned up). Python runs signal handlers in the main thread only, so elsewhere
    this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    old = {}
    try:
        for signum in signums:
            old[signum] = signal.signal(signum, lambda n, frame: pending.append(n))
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)


def run_to_end(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run ``cmd`` capturing its stderr (text). If this process is interrupted meanwhile, the
    child is killed and waited for before the interruption goes on, so it can never outlive
    the clean-up of the files it writes."""
    proc = None
    try:
        with signals_deferred():  # a signal held here is raised as the block ends: below
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
        _, err = proc.communicate()
    except BaseException:
        if proc is not None:
            proc.kill()
            proc.wait()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, None, err)

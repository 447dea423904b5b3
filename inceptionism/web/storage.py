"""Bounded disk: uploads and results expire, and the studio's folder keeps under a quota.

The studio keeps every file in one private folder; Gradio writes uploads (and copies of the
pictures the page shows) to ``uploads/<hash>/``, and each job writes its results to a folder
of its own, ``uploads/users/<user>/<id>/`` with accounts or ``uploads/jobs/<id>/`` without.
Each of those folders is a **unit**, removed whole. :func:`sweep`:

1. removes every unit whose newest file is older than ``keep_s`` seconds;
2. then, while the folder holds more than ``quota`` bytes, removes the oldest unit left
   (oldest by its newest file: finished results and old uploads go first);
3. never removes a unit in ``busy``: the folders and inputs of the jobs in the line.

Nothing here knows Gradio; the studio runs :func:`sweep` in a thread (``Janitor``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InceptionismError

SIZE_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "m": 2**20, "mb": 2**20, "g": 2**30,
              "gb": 2**30, "t": 2**40, "tb": 2**40}
TIME_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_size(text: str) -> int:
    """Bytes from ``500MB``, ``2G``, ``1.5gb`` (binary units) or a plain number of bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in SIZE_UNITS or float(m.group(1)) <= 0:
        raise InceptionismError(f"'{text}' is not a size; write e.g. 500MB or 2GB.")
    return int(float(m.group(1)) * SIZE_UNITS[m.group(2).lower()])


def parse_duration(text: str) -> float:
    """Seconds from ``90s``, ``30m``, ``1h``, ``2d`` or a plain number of seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in TIME_UNITS or float(m.group(1)) <= 0:
        raise InceptionismError(f"'{text}' is not a duration; write e.g. 30m, 1h or 2d.")
    return float(m.group(1)) * TIME_UNITS[m.group(2).lower()]


@dataclass(frozen=True)
class Unit:
    path: Path
    newest: float  # the newest file's modification time
    size: int  # bytes
    files: tuple[str, ...]


@dataclass
class Swept:
    removed: list[Unit] = field(default_factory=list)
    size: int = 0  # bytes left in the folder

    @property
    def files(self) -> list[str]:
        return [f for u in self.removed for f in u.files]


def unit_folders(uploads: Path) -> Iterable[Path]:
    """The units under the upload folder (see the module's docstring)."""
    if not uploads.is_dir():
        return
    for top in uploads.iterdir():
        if not top.is_dir():
            continue
        if top.name == "users":
            for user in top.iterdir():
                if user.is_dir():
                    yield from (p for p in user.iterdir() if p.is_dir())
        elif top.name == "jobs":
            yield from (p for p in top.iterdir() if p.is_dir())
        else:
            yield top


def measure(folder: Path) -> Unit:
    newest, size, files = os.stat(folder).st_mtime, 0, []
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            newest, size = max(newest, st.st_mtime), size + st.st_size
            files.append(path)
    return Unit(folder, newest, size, tuple(files))


def folder_size(root: Path) -> int:
    """Bytes of every file under ``root``."""
    return measure(root).size if root.exists() else 0


def sweep(root: Path, keep_s: float | None, quota: int | None, busy: Iterable[Path] = (),
          now: float | None = None) -> Swept:
    """Remove expired units, then the oldest until ``root`` holds at most ``quota`` bytes;
    never a unit that holds a path of ``busy``."""
    now = time.time() if now is None else now
    busy = [Path(b) for b in busy]
    units = sorted((measure(f) for f in unit_folders(root / "uploads")), key=lambda u: u.newest)
    free = [u for u in units if not any(b.is_relative_to(u.path) for b in busy)]
    total = folder_size(root)
    swept = Swept()
    for unit in free:
        expired = keep_s is not None and now - unit.newest > keep_s
        over = quota is not None and total > quota
        if not (expired or over):
            continue
        shutil.rmtree(unit.path, ignore_errors=True)
        total -= unit.size
        swept.removed.append(unit)
    swept.size = total
    return swept


class Janitor:
    """Runs :func:`sweep` every ``interval`` seconds in a daemon thread; ``busy()`` gives the
    paths in use, ``forget(files)`` is told what was removed."""

    def __init__(self, root: Path, keep_s: float | None, quota: int | None,
                 busy: Callable[[], Iterable[Path]], forget: Callable[[list[str]], None],
                 interval: float = 30.0):
        self.root, self.keep_s, self.quota = root, keep_s, quota
        self.busy, self.forget, self.interval = busy, forget, interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="inceptionism-janitor",
                                        daemon=True)

    def start(self) -> Janitor:
        self._thread.start()
        return self

    def run_once(self) -> Swept:
        with self._lock:
            swept = sweep(self.root, self.keep_s, self.quota, self.busy())
            self.forget(swept.files)
            return swept

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except OSError:
                pass  # a file vanished under us; the next round sees the folder as it is

    def stop(self) -> None:
        self._stop.set()

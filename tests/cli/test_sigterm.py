"""SIGTERM (``timeout``, systemd, ``docker stop``) is handled like Ctrl-C by every command:
killed at several moments, a render leaves no partial file, only complete outputs or none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.video.store import FrameStore

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def start(args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inceptionism", *map(str, args)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def partial_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


def wait_for(proc: subprocess.Popen, ready, limit: float = 240) -> bool:
    """Poll until ``ready()`` (True) or the process ends (False)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if ready():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("the moment never came")


def terminate_at(proc: subprocess.Popen, moment) -> subprocess.CompletedProcess:
    reached = moment(proc)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), reached


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has installed a SIGTERM handler (so our main() is running)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def in_main(delay: float = 0.0):
    """The moment ``delay`` seconds after the command's own code started."""
    def moment(proc):
        wait_for(proc, lambda: catches_sigterm(proc.pid))
        time.sleep(delay)
        return True
    return moment


def at_once(proc):
    return True


def when_exists(folder: Path, pattern: str):
    return lambda proc: wait_for(proc, lambda: any(folder.glob(pattern)))


@pytest.fixture
def big_photo(tmp_path):
    """Noise compresses badly, so writing the dream takes long enough to be caught mid-write."""
    path = tmp_path / "in" / "noise.png"
    path.parent.mkdir()
    rgb = np.random.default_rng(0).integers(0, 256, (1600, 1600, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, compress_level=0)
    return path


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads SigCgt from /proc")
@pytest.mark.parametrize("moment", ["start", "main", "work", "writing"])
def test_sigterm_during_a_dream_leaves_no_partial_file(tmp_path, big_photo, moment):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "dream.png"
    proc = start(["dream", big_photo, "-o", out, "--octaves", "1", "--steps", "0", "-q"])
    moments = {"start": at_once, "main": in_main(), "work": in_main(0.5),
               "writing": when_exists(out_dir, ".dream.png.*.part")}
    result, reached = terminate_at(proc, moments[moment])
    assert reached  # the moment came before the command ended
    assert partial_files(tmp_path) == []
    if result.returncode == 0:  # it finished first: then the output is whole
        with Image.open(out) as img:
            img.load()
        return
    if result.returncode == -signal.SIGTERM:  # still starting Python, before any of our code
        assert moment == "start" and not out.exists()
        return
    assert result.returncode == 143, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: interrupted; nothing was written."], result.stderr
    assert not out.exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads SigCgt from /proc")
@pytest.mark.parametrize("moment", ["main", "frame", "encoding"])
def test_sigterm_during_a_zoom_keeps_whole_frames_only(tmp_path, moment):
    photo = tmp_path / "p.png"
    y, x = np.mgrid[0:96, 0:128]
    Image.fromarray(np.stack([x * 2, y * 2, (x ^ y) & 255], -1).astype(np.uint8)).save(photo)
    out = tmp_path / "z.mp4"
    folder = tmp_path / "z.frames"
    proc = start(["zoom", photo, "-o", out, "--frames", "6", "--octaves", "1", "--steps", "2",
                  "-q"])
    moments = {"frame": when_exists(folder, ".frame_000002.png.*.part"),
               "encoding": when_exists(tmp_path, ".z.mp4.*.part"), "main": in_main()}
    result, reached = terminate_at(proc, moments[moment])
    assert reached
    assert partial_files(tmp_path) == []
    if result.returncode == 0:
        assert out.stat().st_size > 0
        return
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: interrupted; ")
    assert not out.exists()
    store = FrameStore(folder)
    if folder.exists():
        assert store.damaged(store.count()) is None  # every frame kept is whole and recorded


def test_a_signal_held_while_a_child_starts_is_delivered_after(tmp_path):
    """Cut just after its fork, a child would run on, orphaned, and write its file after ours
    was cleaned up; so the start is not cut, and the signal comes right after it."""
    from inceptionism.io.files import signals_deferred

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop()

    old = signal.signal(signal.SIGTERM, stop)
    reached = []
    try:
        with pytest.raises(Stop):
            with signals_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler would have run here
                reached.append(True)
    finally:
        signal.signal(signal.SIGTERM, old)
    assert reached == [True]
    assert signal.getsignal(signal.SIGTERM) is old

"""Start-up policy: waiting threads spin briefly and then sleep, and the thread count leaves
busy CPUs to the processes using them, at start-up and while dreaming; the user's settings
always win."""

import os
import subprocess
import sys
import threading

import pytest

from inceptionism.errors import InceptionismError
from inceptionism import runtime
from inceptionism.runtime import (
    SPIN_COUNT, THREADS_ENV, CpuSample, LoadFollower, ThreadChoice, choose_threads, others_busy)


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", THREADS_ENV, "OMP_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_importing_the_package_sets_a_short_spin_before_torch_loads():
    code = ("import inceptionism, os, sys; print(os.environ.get('OMP_WAIT_POLICY'), "
            "os.environ.get('GOMP_SPINCOUNT'), os.environ.get('KMP_BLOCKTIME'))")
    assert run_python(code) == f"None {SPIN_COUNT} 0"


def test_a_wait_policy_the_user_chose_is_kept():
    code = ("import inceptionism, os; "
            "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")
    assert run_python(code, OMP_WAIT_POLICY="PASSIVE") == "PASSIVE None"  # no spin forced on it
    assert run_python(code, GOMP_SPINCOUNT="500") == "None 500"


def test_too_late_once_torch_is_loaded():
    code = "import torch, inceptionism, os; print(os.environ.get('GOMP_SPINCOUNT'))"
    assert run_python(code) == "None"  # nothing pretends to change a loaded runtime


def test_busy_cpus_are_left_to_the_processes_using_them():
    assert choose_threads(env={}, busy=0.0, cpus=2).threads == 2
    assert choose_threads(env={}, busy=0.3, cpus=2).threads == 2  # a browser idling
    assert choose_threads(env={}, busy=1.0, cpus=2).threads == 1  # one competitor on one core
    assert choose_threads(env={}, busy=5.0, cpus=8).threads == 3
    # No core free: every thread is time-sliced anyway; all of them win a fair share.
    assert choose_threads(env={}, busy=1.6, cpus=2).threads == 2
    assert choose_threads(env={}, busy=9.0, cpus=8).threads == 8
    assert choose_threads(env={}, busy=0.9, cpus=1).threads == 1


def test_the_users_thread_count_wins():
    assert choose_threads(env={THREADS_ENV: "3"}, busy=2.0, cpus=2).threads == 3
    assert choose_threads(env={"OMP_NUM_THREADS": "4"}, busy=2.0, cpus=2).threads == 4
    assert choose_threads(env={THREADS_ENV: "2", "OMP_NUM_THREADS": "1"}, busy=0, cpus=2).threads == 2
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(InceptionismError, match=THREADS_ENV):
            choose_threads(env={THREADS_ENV: bad}, busy=0, cpus=2)


def test_a_dreamer_applies_the_start_up_policy_and_the_cli_refuses_a_bad_setting(tmp_path):
    code = ("import torch; from inceptionism import Dreamer; Dreamer(); "
            "print(torch.get_num_threads())")
    assert run_python(code, **{THREADS_ENV: "3"}).splitlines()[-1] == "3"  # not a default here
    from PIL import Image

    Image.new("RGB", (40, 30)).save(tmp_path / "in.png")
    proc = subprocess.run([sys.executable, "-m", "inceptionism", "dream", str(tmp_path / "in.png"),
                           "-o", str(tmp_path / "out.png"), "--steps", "1"],
                          env={**os.environ, THREADS_ENV: "many"}, capture_output=True, text=True)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]  # after the "loading ..." progress line
    assert last.startswith("error:") and THREADS_ENV in last and proc.stderr.count("error") == 1
    assert "Traceback" not in proc.stderr and not (tmp_path / "out.png").exists()


def test_others_busy_sees_a_competitor():
    """A busy child process shows up as (nearly) a whole CPU used by others; our own work
    would not count (it is subtracted)."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = others_busy(0.5)
    finally:
        child.kill()
        child.wait()
    assert busy is not None and 0.6 < busy < os.cpu_count() + 0.5


class Clock:
    """CPU counters advanced by hand: ``tick(seconds, others=..., ours=...)``."""

    def __init__(self):
        self.busy = self.own = self.wall = 0.0

    def tick(self, seconds: float, others: float, ours: float = 2.0) -> None:
        self.wall += seconds
        self.own += ours * seconds
        self.busy += (others + ours) * seconds

    def __call__(self) -> CpuSample:
        return CpuSample(self.busy, self.own, self.wall)


def test_threads_follow_a_competitor_that_comes_and_goes():
    clock = Clock()
    follower = LoadFollower(min_interval=1.0, cpus=2, sample=clock)
    clock.tick(1.5, others=0.0)
    assert follower.threads_now(2) == 2  # idle: every core
    clock.tick(0.5, others=1.0)
    assert follower.threads_now(2) == 2  # too soon to tell: unchanged
    clock.tick(1.0, others=1.0, ours=1.0)
    assert follower.threads_now(2) == 1  # a competitor on one core since the last look
    clock.tick(2.0, others=0.9, ours=1.0)
    assert follower.threads_now(1) == 1  # still there
    clock.tick(2.0, others=0.1, ours=1.0)
    assert follower.threads_now(1) == 2  # gone: the core is ours again
    clock.tick(2.0, others=2.0)
    assert follower.threads_now(2) == 2  # every core contested: a fair share with all


@pytest.fixture
def follows(monkeypatch):
    """A process whose thread count was chosen from the load (so follow_load may change it),
    no thread count in the environment, nothing applied yet; install(follower) puts a
    scripted LoadFollower in place. torch's count is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_applied", threading.local())
    monkeypatch.setattr(runtime, "_started", ThreadChoice(2, "test", automatic=True))
    yield lambda follower: monkeypatch.setattr(runtime, "_follower", follower)
    torch.set_num_threads(before)


def test_a_dream_applies_the_followed_count_between_steps_unless_the_user_chose(monkeypatch,
                                                                                tiny_model, follows):
    """dream() asks runtime.follow_load() before every step on the CPU and torch's thread
    count is what it returns; a count the user set is never touched."""
    import torch

    from inceptionism.dream import DreamConfig, dream
    from inceptionism.objectives import layer

    class Scripted:
        def __init__(self):
            self.asked = []

        def threads_now(self, current):
            self.asked.append(current)
            return 1 if len(self.asked) % 2 else 2  # alternate, to see each one applied

    seen = []
    scripted = Scripted()
    follows(scripted)
    config = DreamConfig(octaves=1, steps=4, min_size=64)
    photo = torch.rand(1, 3, 64, 64)
    dream(tiny_model, photo, layer("c3"), config,
          callback=lambda info: seen.append(torch.get_num_threads()))
    assert len(scripted.asked) == 4 and seen == [1, 2, 1, 2]
    monkeypatch.setattr(runtime, "_started", ThreadChoice(2, f"{THREADS_ENV}=2"))
    torch.set_num_threads(2)
    seen.clear()
    dream(tiny_model, photo, layer("c3"), config,
          callback=lambda info: seen.append(torch.get_num_threads()))
    assert len(scripted.asked) == 4 and seen == [2, 2, 2, 2]  # not even asked


@pytest.mark.parametrize("takeover", ["set_num_threads", "env"])
def test_a_count_the_caller_sets_after_start_up_is_never_followed(monkeypatch, takeover, follows):
    """start_up promises not to second-guess a caller who sets torch's threads afterwards
    (so did the tests' one-thread fixture, and a dream on 16 cores then came out different
    from the same dream minutes later): after torch.set_num_threads, or with
    INCEPTIONISM_THREADS set since start-up, follow_load leaves the count alone, in every
    later call."""
    import torch

    class Scripted:
        wanted = 2

        def threads_now(self, current):
            return self.wanted

    scripted = Scripted()
    follows(scripted)
    torch.set_num_threads(1)
    assert runtime.follow_load() == 2 and torch.get_num_threads() == 2  # ours to follow
    if takeover == "env":  # the count stays the one follow_load set; only the env changes
        monkeypatch.setenv(THREADS_ENV, "2")
        kept = 2
    else:
        torch.set_num_threads(1)
        kept = 1
    scripted.wanted = 3  # what the load would now ask for
    for _ in range(2):
        assert runtime.follow_load() is None and torch.get_num_threads() == kept


def test_a_workers_fixed_count_survives_the_dreamers_start_up_and_the_load():
    """Batch, segment and cluster workers fix their share of the cores (use_threads) before
    making a Dreamer: its start-up must not replace it, nor the load change it later."""
    code = ("import torch; from inceptionism import runtime; from inceptionism import Dreamer; "
            "runtime.use_threads(1); Dreamer(); "
            "print(torch.get_num_threads(), runtime._started.automatic, runtime.follow_load())")
    assert run_python(code).splitlines()[-1] == "1 False None"
    code = ("import torch; from inceptionism import runtime; from inceptionism import Dreamer; "
            "Dreamer(); print(runtime._started.automatic)")
    assert run_python(code).splitlines()[-1] == "True"  # without it, the load decides

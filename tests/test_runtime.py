"""Start-up policy: threads sleep rather than spin, and the thread count leaves busy CPUs
to the processes using them; the user's settings always win."""

import os
import subprocess
import sys

import pytest

from inceptionism.errors import InceptionismError
from inceptionism.runtime import THREADS_ENV, choose_threads, others_busy


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", THREADS_ENV, "OMP_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_importing_the_package_sets_passive_waiting_before_torch_loads():
    code = ("import inceptionism, os, sys; "
            "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('KMP_BLOCKTIME'))")
    assert run_python(code) == "PASSIVE 0"


def test_a_wait_policy_the_user_chose_is_kept():
    code = "import inceptionism, os; print(os.environ.get('OMP_WAIT_POLICY'))"
    assert run_python(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
    assert run_python(code, GOMP_SPINCOUNT="10000") == "None"  # spin count chosen: no policy forced


def test_too_late_once_torch_is_loaded():
    code = "import torch, inceptionism, os; print(os.environ.get('OMP_WAIT_POLICY'))"
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

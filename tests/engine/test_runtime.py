"""Start-up policy: one PyTorch thread per operation, tiles dreamed side by side on a pool of
workers whose count is the usable CPUs or the user's; the same bits whatever that count."""

import os
import subprocess
import sys

import pytest

from inceptionism.engine import runtime
from inceptionism.engine.runtime import MAX_WORKERS, THREADS_ENV, choose_threads
from inceptionism.errors import InceptionismError


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if k not in (THREADS_ENV, "OMP_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_the_worker_count_is_the_usable_cpus_up_to_a_bound():
    assert choose_threads(env={}, cpus=2).threads == 2
    assert choose_threads(env={}, cpus=1).threads == 1
    assert choose_threads(env={}, cpus=64).threads == MAX_WORKERS


def test_the_users_thread_count_wins():
    assert choose_threads(env={THREADS_ENV: "3"}, cpus=2).threads == 3
    assert choose_threads(env={"OMP_NUM_THREADS": "4"}, cpus=2).threads == 4
    assert choose_threads(env={THREADS_ENV: "2", "OMP_NUM_THREADS": "1"}, cpus=2).threads == 2
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(InceptionismError, match=THREADS_ENV):
            choose_threads(env={THREADS_ENV: bad}, cpus=2)


def test_a_dreamer_applies_the_start_up_policy_and_the_cli_refuses_a_bad_setting(tmp_path):
    code = ("import torch; from inceptionism import Dreamer; from inceptionism.engine import runtime; Dreamer(); "
            "print(torch.get_num_threads(), runtime.start_up().threads)")
    # One thread per operation; three tiles at once (not a default here).
    assert run_python(code, **{THREADS_ENV: "3"}).splitlines()[-1] == "1 3"
    from PIL import Image

    Image.new("RGB", (40, 30)).save(tmp_path / "in.png")
    proc = subprocess.run([sys.executable, "-m", "inceptionism", "dream", str(tmp_path / "in.png"),
                           "-o", str(tmp_path / "out.png"), "--steps", "1"],
                          env={**os.environ, THREADS_ENV: "many"}, capture_output=True, text=True)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]  # after the "loading ..." progress line
    assert last.startswith("error:") and THREADS_ENV in last and proc.stderr.count("error") == 1
    assert "Traceback" not in proc.stderr and not (tmp_path / "out.png").exists()


def test_a_workers_fixed_count_survives_the_dreamers_start_up():
    """Batch, segment and cluster workers fix their share of the cores (use_threads) before
    making a Dreamer: its start-up must not replace it."""
    code = ("import torch; from inceptionism.engine import runtime; from inceptionism import Dreamer; "
            "runtime.use_threads(1); Dreamer(); "
            "print(torch.get_num_threads(), runtime.start_up().threads, runtime.tile_pool())")
    assert run_python(code).splitlines()[-1] == "1 1 None"


def test_one_thread_restores_the_callers_count():
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with runtime.one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("model,layers", [("efficientnet_lite0", "b10"),
                                          ("googlenet", "inception4c"),
                                          ("inception_v3", "Mixed_6a")])
def test_a_dream_is_bit_identical_with_1_2_and_3_threads(tmp_path, model, layers):
    """The same recipe, with 1, 2 and 3 tile workers, each process also setting torch's own
    thread count to that number before dreaming (what a caller may do), gives the same bits.
    The dream has 6 tiles at its largest octave, then 4 and 4, so the workers really share
    them, and one at its smallest. Lite0 with its own weights; GoogLeNet and Inception v3
    (max pools, whose backward picks one of equal inputs, and larger convolutions) with
    synthetic ones."""
    weights = "None"
    if model != "efficientnet_lite0":
        import torch

        from ..torchvision_parity import synthetic_state_dict

        torch.save(synthetic_state_dict(model), tmp_path / "weights.pth")
        weights = repr(str(tmp_path / "weights.pth"))
    code = (
        "import sys, numpy as np, torch; from PIL import Image; "
        "from inceptionism import Dreamer, DreamConfig; from inceptionism.engine import runtime; "
        "n = int(sys.argv[1]); runtime.use_threads(n); torch.set_num_threads(n); "
        f"d = Dreamer({model!r}, weights={weights}); "
        "img = Image.open(sys.argv[2]).convert('RGB').resize((400, 300)); "
        f"out = d.dream(img, {layers!r}, DreamConfig(steps=2, octaves=4, tile_size=150, min_size=75)); "
        "np.save(sys.argv[3], np.asarray(out))"
    )
    from ..conftest import sample_path
    import numpy as np

    outs = []
    for n in (1, 2, 3):
        target = tmp_path / f"{n}.npy"
        subprocess.run([sys.executable, "-c", code, str(n), str(sample_path("chelsea")), str(target)],
                       check=True, env={k: v for k, v in os.environ.items()
                                        if k not in (THREADS_ENV, "OMP_NUM_THREADS")})
        outs.append(np.load(target))
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])

"""Dreams on a GPU: the same pixels however they are run (threads, re-runs), cancelling,
octave images, masks and colours, and the limits of every setting. Marked `gpu`: skipped
where there is no CUDA device (see tests/conftest.py)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from inceptionism import Cancelled, CancelToken, Dreamer, DreamRequest, run_dream
from inceptionism.api import resolve_device
from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.engine.transforms import luma
from inceptionism.errors import InceptionismError
from inceptionism.models import get_spec, load_model
from inceptionism.models.weights import load_state_dict
from inceptionism.settings import DreamConfig

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def dreamer(gpu):
    return Dreamer(device=str(gpu))


@pytest.fixture(scope="module")
def model(gpu):
    return load_model("efficientnet_lite0", device=gpu)


def test_auto_picks_cuda(cuda_only):
    assert resolve_device("auto").type == "cuda"


def test_the_same_dream_twice_is_bit_identical(dreamer, chelsea):
    """What --params-from promises on a GPU: deterministic kernels (runtime.reproducible_cuda)."""
    a, b = (dreamer.dream_array(chelsea, "b10", DreamConfig(steps=6)) for _ in range(2))
    assert np.array_equal(a, b), float(np.abs(a - b).max())


def test_two_dreamers_in_two_threads_match_one_after_another(gpu, chelsea):
    dreamers = [Dreamer(device=str(gpu)), Dreamer(device=str(gpu))]
    configs = [DreamConfig(seed=1, steps=4), DreamConfig(seed=2, steps=6)]

    def run(i):
        return dreamers[i].dream_array(chelsea, ["b10", "b8"][i], configs[i])

    sequential = [run(0), run(1)]
    together: list = [None, None]
    barrier = threading.Barrier(2)

    def work(i):
        barrier.wait()
        together[i] = run(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(sequential, together):
        assert np.array_equal(a, b), float(np.abs(a - b).max())


def test_a_cancel_token_stops_a_dream_within_a_step(dreamer, chelsea):
    token, steps = CancelToken(), []

    def on_step(info):
        steps.append(info)
        if len(steps) == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        dreamer.dream_array(chelsea, "b10", DreamConfig(), callback=on_step, cancel=token)
    assert len(steps) == 3 and steps[-1].octave == 0


def test_octave_images_come_back_on_the_device(dreamer, chelsea, gpu):
    octaves = []
    dreamer.dream_array(chelsea, "b10", DreamConfig(steps=2), on_octave=octaves.append)
    assert len(octaves) == DreamConfig().octaves
    assert octaves[-1].image.device.type == gpu.type
    assert tuple(octaves[-1].image.shape) == (1, 3, *chelsea.shape[:2])


def test_a_job_reruns_bit_identically_from_its_stored_parameters(tmp_path, chelsea, gpu):
    Image.fromarray((chelsea * 255).round().astype(np.uint8)).save(tmp_path / "cat.png")
    run_dream(DreamRequest(input=tmp_path / "cat.png", output=tmp_path / "a.png",
                           device=str(gpu), config=DreamConfig(steps=4)))
    run_dream(DreamRequest(input=tmp_path / "cat.png", output=tmp_path / "b.png",
                           params_from=tmp_path / "a.png"))
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("tile", [512, 256])
def test_a_mask_keeps_black_bit_for_bit_and_dreams_white(model, gpu, precision, tile):
    x = torch.rand(1, 3, 600, 900, generator=torch.Generator().manual_seed(0)).to(gpu)
    mask = torch.zeros(600, 900, device=gpu)
    mask[:, :450] = 1
    mask[:, 430:470] = torch.linspace(1, 0, 40, device=gpu)
    config = DreamConfig(octaves=3, steps=4, tile_size=tile, precision=precision)
    out = dream(model, x, layer("b10"), config, mask=mask)
    assert torch.equal(out[..., 470:], x[..., 470:])
    assert (out[..., :430] - x[..., :430]).abs().mean().item() > 1e-3


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_an_all_white_mask_is_no_mask(model, gpu, precision):
    x = torch.rand(1, 3, 300, 450, generator=torch.Generator().manual_seed(1)).to(gpu)
    config = DreamConfig(octaves=2, steps=3, precision=precision)
    plain = dream(model, x, layer("b10"), config)
    full = dream(model, x, layer("b10"), config, mask=torch.ones(300, 450, device=gpu))
    assert torch.equal(plain, full)


def test_keep_colors_changes_the_luminance_only(model, gpu):
    x = torch.rand(1, 3, 300, 450, generator=torch.Generator().manual_seed(2)).to(gpu)
    kept = dream(model, x, layer("b10"), DreamConfig(octaves=2, steps=3, keep_colors=True))
    chroma = (kept - luma(kept) - (x - luma(x))).abs().mean().item()
    brightness = (luma(kept) - luma(x)).abs().mean().item()
    assert brightness > 1e-3 and chroma < 0.1 * brightness  # only clipping at 0 and 1 moves it


EDGES = [dict(smoothing=50.0), dict(smoothing_growth=50.0, smoothing_cascade=True),
         dict(jitter=10_000), dict(step_size=1.0), dict(octave_scale=16.0, octaves=64),
         dict(tile_size=32), dict(seed=2**64 - 1)]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("edge", EDGES, ids=lambda e: ",".join(e))
def test_every_setting_at_its_limit_dreams_a_finite_image(dreamer, precision, edge):
    rgb = np.random.default_rng(0).random((96, 128, 3), dtype=np.float32)
    config = DreamConfig(**{"steps": 2, "octaves": 2, "precision": precision, **edge})
    out = dreamer.dream_array(rgb, "b10:1000,b8:-1000", config)
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_oversized_work_is_refused_before_it_reaches_the_gpu(dreamer, cuda_only):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.max_memory_allocated()
    calls = [lambda: dreamer.dream_array(np.zeros((1, 100_000, 3), np.float32), "b10"),
             lambda: dreamer.dream_array(np.zeros((48, 64, 3), np.float32), "b10",
                                         DreamConfig(min_size=100_000)),
             lambda: dreamer.guided("b10", np.zeros((1, 100_000, 3), np.float32))]
    for call in calls:
        with pytest.raises(InceptionismError, match="megapixels"):
            call()
    assert torch.cuda.max_memory_allocated() - base < 64 * 2**20


def test_non_finite_weights_are_refused(tmp_path, gpu):
    state = load_state_dict(get_spec("efficientnet_lite0").weights.resolve())
    key = next(iter(state))
    state[key] = state[key].clone().fill_(math.nan)
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(InceptionismError):
        Dreamer(weights=tmp_path / "nan.pt", device=str(gpu))

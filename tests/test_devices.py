"""Devices: the choice of `auto`, clear refusals, and the GPU code paths where a GPU exists.

The CUDA and MPS tests run only on a machine that has that device; elsewhere pytest reports
them as skipped, with the reason (`pytest -ra`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inceptionism import api
from inceptionism.api import mps_available, resolve_device
from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.errors import InceptionismError
from inceptionism.settings import DreamConfig

from .conftest import to_tensor

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = mps_available()
GPUS = [pytest.param("cuda", marks=[pytest.mark.gpu,
                                     pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device here")]),
        pytest.param("mps", marks=pytest.mark.skipif(not HAS_MPS, reason="no Apple MPS device here"))]


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (True, False, "cuda"),
                                                 (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(api, "mps_available", lambda: mps)
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(HAS_MPS, reason="this machine has MPS")
def test_mps_without_an_apple_gpu_is_refused_in_one_sentence():
    with pytest.raises(InceptionismError, match="MPS was asked for") as info:
        resolve_device("mps")
    assert "\n" not in str(info.value)


def test_unknown_devices_name_the_choices():
    with pytest.raises(InceptionismError, match="cpu, cuda, cuda:N, mps or auto"):
        resolve_device("tpu")


@pytest.mark.parametrize("device", GPUS)
def test_dream_with_mask_and_keep_colors_on_the_gpu(device, lite0, chelsea):
    """The whole engine on the device: close to the CPU's dream (float rounding differs, and
    dreams amplify differences, so only the first octave's few steps are compared), the
    mask's black half untouched bit for bit, keep_colors and bfloat16 running."""
    x = to_tensor(chelsea)
    config = DreamConfig(octaves=1, steps=2)
    cpu = dream(lite0, x, layer("b10"), config)
    model = lite0.to(device)
    try:
        gpu = dream(model, x.to(device), layer("b10"), config).cpu()
        assert (gpu - cpu).abs().mean() < 0.01 * (cpu - x).abs().mean() + 1e-3
        mask = torch.zeros(x.shape[-2:])
        mask[:, : x.shape[-1] // 2] = 1
        full = DreamConfig(octaves=3, steps=3, keep_colors=True)
        out = dream(model, x.to(device), layer("b10"), full, mask=mask.to(device)).cpu()
        half = x.shape[-1] // 2
        assert torch.equal(out[..., half:], x[..., half:])
        assert (out[..., :half] - x[..., :half]).abs().mean() > 0.01
        bf16 = DreamConfig(octaves=2, steps=2, precision="bfloat16")
        assert dream(model, x.to(device), layer("b10"), bf16).isfinite().all()
    finally:
        lite0.to("cpu")


@pytest.mark.parametrize("device", GPUS)
def test_a_dream_on_the_gpu_repeats_bit_for_bit(device, chelsea):
    """What --params-from promises on every device: the same dream twice is the same image
    (on CUDA this needs cuDNN's deterministic algorithms, which resolve_device turns on)."""
    from inceptionism import Dreamer

    dreamer = Dreamer(device=device)
    config = DreamConfig(octaves=2, steps=4)
    first = dreamer.dream_array(chelsea, "b10", config)
    assert np.array_equal(first, dreamer.dream_array(chelsea, "b10", config))

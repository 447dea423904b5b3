"""The recursive pyramid, growing and cascaded gradient smoothing, and presets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ..conftest import to_tensor

from inceptionism import DreamConfig, dream, layer
from inceptionism.engine.loop import smoothing_sigma
from inceptionism.engine.tour import shrink
from inceptionism.engine.transforms import cascade_blur
from inceptionism.errors import InceptionismError
from inceptionism.settings import PRESETS, get_preset


def high_frequency(x: torch.Tensor) -> float:
    """Mean squared Laplacian: how much fine, pixel-level detail an image has."""
    k = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    return F.conv2d(x, k, groups=3).pow(2).mean().item()


@pytest.fixture(scope="module")
def photo(chelsea) -> torch.Tensor:
    return shrink(to_tensor(chelsea), 96)


SMALL = DreamConfig(octaves=3, steps=6, step_size=0.02, jitter=8, min_size=32)


def test_sigma_grows_linearly_over_an_octaves_steps():
    config = DreamConfig(steps=5, smoothing=0.5, smoothing_growth=2.0)
    assert [smoothing_sigma(config, s) for s in range(5)] == [0.5, 1.0, 1.5, 2.0, 2.5]
    assert smoothing_sigma(dataclasses.replace(config, smoothing_growth=0), 4) == 0.5
    assert smoothing_sigma(dataclasses.replace(config, steps=1), 0) == 0.5


def test_cascade_blur_is_the_mean_of_three_gaussians():
    impulse = torch.zeros(1, 1, 31, 31)
    impulse[0, 0, 15, 15] = 1.0
    out = cascade_blur(impulse, 2.0)[0, 0].numpy()
    expected = np.zeros((31, 31))
    for sigma in (1.0, 2.0, 4.0):  # 0.5, 1 and 2 times sigma, each truncated at 3 sigma
        r = math.ceil(3 * sigma)
        t = np.arange(-r, r + 1)
        k = np.exp(-0.5 * (t / sigma) ** 2)
        k /= k.sum()
        expected[15 - r:16 + r, 15 - r:16 + r] += np.outer(k, k) / 3
    np.testing.assert_allclose(out, expected, atol=1e-7)


def test_recursive_blend_is_the_share_of_the_upscaled_dream(tiny_model, photo):
    # With no steps, nothing is dreamed: what is left is how the levels are combined.
    still = dataclasses.replace(SMALL, steps=0)
    octave = dream(tiny_model, photo, layer("c2"), still)
    fresh = dream(tiny_model, photo, layer("c2"), dataclasses.replace(still, pyramid="recursive", blend=0))
    carried = dream(tiny_model, photo, layer("c2"), dataclasses.replace(still, pyramid="recursive", blend=1))
    assert torch.equal(octave, photo)  # only dreamed *detail* is carried up: none
    assert torch.equal(fresh, photo)  # blend 0: each level starts from the photo itself
    # blend 1: the smallest level, up-scaled twice, so the photo's fine detail is gone.
    assert high_frequency(carried) < 0.5 * high_frequency(photo)


def test_recursive_pyramid_changes_the_photo_less(tiny_model, photo):
    for name in ("c2", "c3"):
        octave = dream(tiny_model, photo, layer(name), SMALL)
        recursive = dream(tiny_model, photo, layer(name), dataclasses.replace(SMALL, pyramid="recursive"))
        assert (recursive - photo).abs().mean() < 0.8 * (octave - photo).abs().mean()


def test_growing_smoothing_gives_smoother_dreams(tiny_model, photo):
    for name in ("c2", "c3"):
        fixed = dream(tiny_model, photo, layer(name), SMALL)
        growing = dream(tiny_model, photo, layer(name), dataclasses.replace(SMALL, smoothing_growth=2.0))
        assert high_frequency(growing - photo) < 0.5 * high_frequency(fixed - photo)


@pytest.mark.parametrize("field, value", [("pyramid", "spiral"), ("blend", 1.5), ("smoothing_growth", -1)])
def test_bad_variant_settings_are_refused(field, value):
    with pytest.raises(InceptionismError):
        dataclasses.replace(DreamConfig(), **{field: value}).validate()


def test_presets_are_frozen_and_valid():
    assert {"classic", "subtle"} <= set(PRESETS)
    for preset in PRESETS.values():
        preset.apply(DreamConfig()).validate()
        with pytest.raises(TypeError):
            preset.overrides["steps"] = 1
    with pytest.raises(TypeError):
        PRESETS["mine"] = PRESETS["classic"]
    with pytest.raises(InceptionismError, match="classic, subtle"):
        get_preset("loud")


def test_a_preset_overrides_only_what_it_names():
    config = get_preset("subtle").apply(DreamConfig(seed=7, tile_size=256))
    assert (config.seed, config.tile_size) == (7, 256)
    assert config.step_size < DreamConfig().step_size


def test_lapnorm_changes_the_dream_and_repeats_it(tiny_model, photo):
    plain = dream(tiny_model, photo, layer("c2"), SMALL)
    levels = dataclasses.replace(SMALL, lapnorm=3)
    with_lapnorm = dream(tiny_model, photo, layer("c2"), levels)
    assert not torch.equal(plain, with_lapnorm)
    assert torch.equal(dream(tiny_model, photo, layer("c2"), levels), with_lapnorm)
    # Off by default, and 0 is the classic step bit for bit.
    assert DreamConfig().lapnorm == 0
    assert torch.equal(dream(tiny_model, photo, layer("c2"), dataclasses.replace(SMALL, lapnorm=0)),
                       plain)
    # The step keeps its size: the mean absolute change per step is step_size either way.
    for config in (SMALL, levels):
        one = dataclasses.replace(config, octaves=1, steps=1, jitter=0)
        change = (dream(tiny_model, photo, layer("c2"), one) - photo).abs().mean().item()
        assert change == pytest.approx(one.step_size, rel=0.3)

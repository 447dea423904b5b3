"""Image parameterizations: each maps to an image and back as documented."""

from __future__ import annotations

import math

import pytest
import torch

from inceptionism.errors import InceptionismError
from inceptionism.engine.param import (COLOR_MATRIX, FFT_DIVISOR, PIXEL, READABLE, ParamConfig,
                                decorrelated_to_rgb, high_frequency_share, make_param,
                                rgb_to_decorrelated, spectrum_scale)

CONFIGS = [PIXEL, READABLE, ParamConfig(fft=True, decorrelate=False),
           ParamConfig(fft=False, decorrelate=True)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
@pytest.mark.parametrize("size", [(16, 16), (17, 20)])
def test_image_round_trip(config, size):
    param = make_param(config, *size)
    img = torch.rand((2, 3) + size, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    img = img * 0.98 + 0.01
    back = param.to_image(param.from_image(img))
    assert torch.allclose(back, img, atol=1e-12, rtol=0)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.name)
def test_init_is_seeded_noise_of_the_documented_shape(config):
    param = make_param(config, 12, 9)
    a = param.init(2, torch.Generator().manual_seed(3))
    b = param.init(2, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    expected = (2, 3, 12, 5, 2) if config.fft else (2, 3, 12, 9)
    assert a.shape == expected
    assert abs(a.std().item() - config.sd) < 0.3 * config.sd
    img = param.to_image(a)
    assert img.shape == (2, 3, 12, 9) and 0 < img.min() and img.max() < 1


def test_pixel_parameter_round_trip_is_exact():
    param = make_param(PIXEL, 8, 8)
    p = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    assert torch.allclose(param.from_image(param.to_image(p)), p, atol=1e-9)


def test_fft_parameter_round_trip_keeps_the_image():
    """A spectrum parameter maps back to itself up to parts no real image has (imaginary
    parts of self-mirrored bins): the image it stands for is unchanged, and a parameter
    made by from_image is a fixed point."""
    param = make_param(READABLE, 10, 14)
    p = torch.randn(param.shape(1), dtype=torch.float64)
    q = param.from_image(param.to_image(p))
    assert torch.allclose(param.to_image(q), param.to_image(p), atol=1e-12)
    assert torch.allclose(param.from_image(param.to_image(q)), q, atol=1e-9)
    assert not torch.allclose(q, p)  # the constant term's imaginary part is dropped
    assert q[..., 0, 0, 1].abs().max() < 1e-9


def test_fft_single_frequency_is_the_scaled_cosine():
    """One real spectrum bin (row 0, column k) is a cosine along x of amplitude
    2 * a * scale / sqrt(H * W) / FFT_DIVISOR, scale = (W / k) ** decay."""
    h, w, k, a = 8, 16, 3, 0.7
    config = ParamConfig(fft=True, decorrelate=False, decay=1.5)
    param = make_param(config, h, w)
    p = torch.zeros(param.shape(1), dtype=torch.float64)
    p[0, :, 0, k, 0] = a
    pre = torch.logit(param.to_image(p))
    scale = (w / k) ** 1.5
    x = torch.arange(w, dtype=torch.float64)
    expected = 2 * a * scale / math.sqrt(h * w) / FFT_DIVISOR * torch.cos(2 * math.pi * k * x / w)
    assert torch.allclose(pre[0, 0], expected.expand(h, w), atol=1e-9)


def test_spectrum_scale_is_one_over_f_with_a_floor():
    s = spectrum_scale(8, 16, decay=1.0)
    assert s.shape == (8, 9)
    assert s[0, 0].item() == pytest.approx(16)  # floor at 1 / max(H, W)
    assert s[0, 4].item() == pytest.approx(4)  # f = 4 / 16
    assert s[2, 0].item() == pytest.approx(4)  # f = 2 / 8
    assert s[3, 4].item() == pytest.approx(1 / math.hypot(3 / 8, 4 / 16))
    assert spectrum_scale(8, 16, decay=2.0)[0, 4].item() == pytest.approx(16)


def test_colour_decorrelation_is_invertible_and_normalized():
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    assert torch.allclose(rgb_to_decorrelated(decorrelated_to_rgb(x)), x, atol=1e-12)
    assert torch.allclose(decorrelated_to_rgb(rgb_to_decorrelated(x)), x, atol=1e-12)
    assert COLOR_MATRIX.norm(dim=0).max().item() == pytest.approx(1.0)
    # The first axis is luminance: it moves R, G and B the same way, nearly equally.
    lum = decorrelated_to_rgb(torch.tensor([1.0, 0, 0], dtype=torch.float64).view(1, 3, 1, 1)).flatten()
    assert (lum > 0).all() and (lum.max() - lum.min()) < 0.05


def test_high_frequency_share():
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2
    checker = checker.double().expand(1, 3, 16, 16)
    assert high_frequency_share(checker) == pytest.approx(1.0)
    x = torch.arange(32, dtype=torch.float64)
    slow = (0.5 + 0.3 * torch.sin(2 * math.pi * 2 * x / 32)).expand(1, 3, 32, 32)
    assert high_frequency_share(slow) < 1e-12
    assert high_frequency_share(torch.full((1, 3, 8, 8), 0.5)) == 0.0


def test_bad_config_and_shape_are_refused():
    with pytest.raises(InceptionismError, match="decay"):
        ParamConfig(decay=-1)
    with pytest.raises(InceptionismError, match="shape"):
        make_param(PIXEL, 8, 8).from_image(torch.rand(1, 3, 8, 9))

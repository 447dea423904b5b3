import math

import pytest
import torch
from hypothesis import given, strategies as st

from inceptionism.engine.transforms import gaussian_blur, gaussian_kernel1d, resize, roll, split_evenly


def test_roll_moves_pixels_with_wraparound():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    y = roll(x, 1, -1)
    # row r of y is row r-1 of x; column c of y is column c+1 of x (wrapping)
    expected = torch.tensor([[9.0, 10, 11, 8], [1, 2, 3, 0], [5, 6, 7, 4]])
    assert torch.equal(y[0, 0], expected)
    assert torch.equal(roll(y, -1, 1), x)


def test_gaussian_kernel_matches_formula():
    k = gaussian_kernel1d(1.0)
    assert k.numel() == 7  # radius ceil(3 sigma) = 3
    raw = torch.tensor([math.exp(-0.5 * t * t) for t in range(-3, 4)])
    assert torch.allclose(k, raw / raw.sum())
    assert torch.isclose(k.sum(), torch.tensor(1.0))


def test_blur_of_impulse_is_outer_product_of_kernel():
    x = torch.zeros(1, 2, 15, 15)
    x[0, :, 7, 7] = 1.0
    y = gaussian_blur(x, 1.0)
    k = gaussian_kernel1d(1.0)
    expected = torch.zeros(15, 15)
    expected[4:11, 4:11] = torch.outer(k, k)
    assert torch.allclose(y[0, 0], expected, atol=1e-7)
    assert torch.allclose(y[0, 1], expected, atol=1e-7)


def test_blur_keeps_constants_and_zero_sigma_is_identity():
    x = torch.full((1, 3, 9, 11), 0.3)
    assert torch.allclose(gaussian_blur(x, 2.0), x)
    r = torch.rand(1, 3, 5, 5)
    assert gaussian_blur(r, 0) is r
    # tiny images (smaller than the kernel radius) still blur, without error
    assert gaussian_blur(torch.rand(1, 3, 2, 2), 3.0).shape == (1, 3, 2, 2)


def test_resize_identity_and_shape():
    x = torch.rand(1, 3, 10, 20)
    assert resize(x, (10, 20)) is x
    assert resize(x, (5, 7)).shape == (1, 3, 5, 7)
    assert torch.allclose(resize(torch.full((1, 3, 8, 8), 0.25), (3, 5)), torch.tensor(0.25))


@given(st.integers(1, 5000), st.integers(1, 1024))
def test_split_evenly_covers_exactly_with_bounded_spans(length, tile):
    spans = split_evenly(length, tile)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    sizes = [b - a for a, b in spans]
    assert max(sizes) <= tile and min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1  # near-equal: no sliver tiles at the edge
    assert len(spans) == math.ceil(length / tile)


def test_split_evenly_example():
    assert split_evenly(10, 4) == [(0, 3), (3, 7), (7, 10)]
    with pytest.raises(ZeroDivisionError):
        split_evenly(10, 0)


def test_lapnorm_is_the_merge_of_its_bands_each_at_unit_rms():
    # As documented: split into `levels` bands and the low-pass rest, divide each by its own
    # RMS (per image), merge. Computed here by hand from the pyramid.
    from inceptionism.engine.transforms import lap_merge, lap_split, lapnorm

    g = torch.Generator().manual_seed(0)
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    coarse = 1000 * torch.sin(x * math.pi / 16) * torch.sin(y * math.pi / 16)
    grad = (coarse + 0.001 * torch.randn(2, 3, 32, 32, generator=g)).double()
    grad[1] *= 0.01  # the second image of the batch is normalized on its own
    bands = lap_split(grad, 3)
    assert len(bands) == 4
    unit = [b / b.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt() for b in bands]
    assert all(torch.allclose(u.pow(2).mean(dim=(1, 2, 3)), torch.ones(2, dtype=u.dtype))
               for u in unit)
    out = lapnorm(grad, 3)
    assert torch.allclose(out, lap_merge(unit), atol=1e-9)
    assert not torch.allclose(out, grad / grad.pow(2).mean().sqrt(), atol=1e-3)  # not plain RMS


def test_blur_gives_the_bits_of_the_planar_convolution():
    """The blur runs on a channels-last copy (oneDNN's depthwise kernels read it without a
    reorder): the same bits as the two planar convolutions it replaces."""
    import torch.nn.functional as F

    x = torch.rand(1, 3, 61, 47, generator=torch.Generator().manual_seed(2))
    for sigma in (0.5, 1.3):
        k = gaussian_kernel1d(sigma)
        r = k.numel() // 2
        want = F.pad(x, (r, r, r, r), mode="reflect")
        want = F.conv2d(want, k.view(1, 1, 1, -1).expand(3, 1, 1, -1), groups=3)
        want = F.conv2d(want, k.view(1, 1, -1, 1).expand(3, 1, -1, 1), groups=3)
        assert torch.equal(gaussian_blur(x, sigma), want)

"""Exact values on tiny tensors for the zoom-loop and flow transforms."""

from __future__ import annotations

import math

import pytest
import torch

from inceptionism.engine.transforms import quantize8, warp, zoom_rotate_shift


def ramp_x(height: int, width: int) -> torch.Tensor:
    """An image whose value is its own column index: bilinear sampling of it is exact."""
    return torch.arange(width, dtype=torch.float32).expand(1, 1, height, width).clone()


def test_no_move_is_identity():
    x = torch.rand(1, 3, 7, 9, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(zoom_rotate_shift(x), x, atol=1e-6, rtol=0)


def test_zoom_scales_about_the_centre():
    x = ramp_x(5, 9)  # centre column 4
    out = zoom_rotate_shift(x, zoom=2.0)
    expected = 4 + (torch.arange(9, dtype=torch.float32) - 4) / 2  # [2, 2.5, ..., 6]
    torch.testing.assert_close(out[0, 0, 2], expected, atol=1e-5, rtol=0)


def test_zoom_out_repeats_the_edges_instead_of_black():
    x = torch.ones(1, 3, 8, 8)
    torch.testing.assert_close(zoom_rotate_shift(x, zoom=0.5), x)


def test_shift_moves_right_and_down():
    x = torch.rand(1, 1, 6, 8, generator=torch.Generator().manual_seed(1))
    out = zoom_rotate_shift(x, shift=(2.0, 1.0))
    # What was at (y, x) is now at (y + 1, x + 2).
    torch.testing.assert_close(out[..., 1:, 2:], x[..., :-1, :-2], atol=1e-6, rtol=0)


def test_rotate_90_is_counter_clockwise_on_screen():
    x = torch.rand(1, 2, 5, 5, generator=torch.Generator().manual_seed(2))
    out = zoom_rotate_shift(x, angle=90.0)
    # torch.rot90 with k=1 turns the top-right corner to the top-left: counter-clockwise.
    torch.testing.assert_close(out, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-5, rtol=0)


def test_rotation_keeps_distance_from_centre():
    x = ramp_x(9, 9)
    out = zoom_rotate_shift(x, angle=30.0)
    # The centre pixel stays; the pixel 2 right of centre now shows what was at 30 degrees.
    assert out[0, 0, 4, 4].item() == pytest.approx(4.0, abs=1e-5)
    a = math.radians(30)
    # Output (x=6, y=4) comes from source centre + R^-1 (2, 0) = (4 + 2 cos a, 4 + 2 sin a).
    assert out[0, 0, 4, 6].item() == pytest.approx(4 + 2 * math.cos(a), abs=1e-4)


def test_warp_by_constant_flow_looks_one_pixel_right():
    x = torch.rand(1, 3, 4, 6, generator=torch.Generator().manual_seed(3))
    flow = torch.zeros(1, 2, 4, 6)
    flow[:, 0] = 1.0  # out(p) = x(p + (1, 0))
    out = warp(x, flow)
    torch.testing.assert_close(out[..., :-1], x[..., 1:], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[..., -1], x[..., -1], atol=1e-6, rtol=0)  # edge repeated


def test_warp_interpolates_between_pixels():
    x = ramp_x(3, 5)
    flow = torch.zeros(1, 2, 3, 5)
    flow[:, 0] = 0.25
    out = warp(x, flow)
    torch.testing.assert_close(out[0, 0, :, :-1], x[0, 0, :, :-1] + 0.25, atol=1e-6, rtol=0)


def test_quantize8_gives_the_256_levels():
    x = torch.tensor([-0.1, 0.0, 0.5, 1 / 255 * 0.49, 1 / 255 * 0.51, 1.0, 1.2])
    expected = torch.tensor([0, 0, 128, 0, 1, 255, 255]) / 255
    torch.testing.assert_close(quantize8(x), expected.float(), atol=0, rtol=0)

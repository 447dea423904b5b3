"""Small image -> image functions on (N, C, H, W) tensors, used by the dream loop: conversions,
blurs, resizing, colour keeping, and the Laplacian pyramid with its gradient normalization
(:func:`lapnorm`, the DeepDream notebook's ``render_lapnorm``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InceptionismError


def to_tensor(rgb: np.ndarray) -> Tensor:
    """(H, W, 3) float RGB array -> (1, 3, H, W) float32 tensor (the one conversion in)."""
    return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]


def to_array(x: Tensor) -> np.ndarray:
    """(1, 3, H, W) tensor -> (H, W, 3) float array on the CPU (the one conversion out)."""
    return x[0].detach().cpu().permute(1, 2, 0).numpy()


def roll(x: Tensor, dy: int, dx: int) -> Tensor:
    """Shift an image by (dy, dx) pixels with wrap-around (DeepDream's jitter)."""
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def gaussian_kernel1d(sigma: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """A normalized 1-D Gaussian kernel, truncated at 3 sigma (odd length >= 3)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).to(dtype)


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur per channel, reflecting at the borders. ``sigma <= 0``: identity."""
    if sigma <= 0:
        return x
    k = gaussian_kernel1d(sigma, x.dtype).to(x.device)
    r = k.numel() // 2
    c = x.shape[1]
    # oneDNN's depthwise kernels read channels-last directly; a planar image is first laid out
    # in blocks of 16 channels (for 3 channels: a 2.4 ms reorder of a 432x384 tile against a
    # 0.2 ms conversion here). The result is the same bits either way.
    x = x.contiguous(memory_format=torch.channels_last)
    # Reflection needs the pad to be smaller than the side; fall back to replicate for tiny inputs.
    mode = "reflect" if min(x.shape[-2:]) > r else "replicate"
    x = F.pad(x, (r, r, r, r), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def cascade_blur(x: Tensor, sigma: float, factors: tuple[float, ...] = (0.5, 1.0, 2.0)) -> Tensor:
    """The mean of Gaussian blurs at ``sigma`` times each factor. ``sigma <= 0``: identity."""
    if sigma <= 0:
        return x
    return torch.stack([gaussian_blur(x, sigma * f) for f in factors]).mean(0)


def resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize to ``size`` = (H, W), antialiased when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrinking = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def resize_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize a (N, 1, H, W) mask in [0, 1]. Shrinking averages areas, which keeps all-0 and
    all-1 regions exactly 0 and 1 (a bilinear filter's weights sum to 1 only up to rounding,
    and 0.99999994 would let a white region dream a little less than without a mask)."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    if size[0] <= mask.shape[-2] and size[1] <= mask.shape[-1]:
        if mask.device.type == "mps":  # MPS pools only when the sizes divide evenly
            return F.adaptive_avg_pool2d(mask.cpu(), size).to(mask.device)
        return F.adaptive_avg_pool2d(mask, size)
    return resize(mask, size).clamp_(0, 1)


def split_evenly(length: int, max_tile: int) -> list[tuple[int, int]]:
    """Cut ``[0, length)`` into the fewest near-equal spans no longer than ``max_tile``."""
    n = max(1, math.ceil(length / max_tile))
    edges = [round(i * length / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n)]


def _pixel_grid(height: int, width: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(1, H, W, 2) pixel-centre coordinates (x, y), the frame ``sample`` and ``warp`` use."""
    ys = torch.arange(height, dtype=dtype, device=device)
    xs = torch.arange(width, dtype=dtype, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=-1)[None]


def sample(x: Tensor, coords: Tensor, mode: str = "bilinear") -> Tensor:
    """Bilinear lookup: ``out[..., i, j] = x at coords[0, i, j] = (x, y)`` in pixels
    (``mode="bicubic"``: bicubic, which blurs less at sub-pixel offsets).

    Points outside the image take the nearest edge pixel, so a warp never pulls in black
    borders (a zoom loop would otherwise grow a black frame around every dream).
    """
    height, width = x.shape[-2:]
    # align_corners=True maps -1 and 1 to the centres of the outer pixels: pixel p -> 2p/(n-1) - 1.
    scale = torch.tensor([max(width - 1, 1), max(height - 1, 1)], dtype=x.dtype, device=x.device)
    grid = coords * (2 / scale) - 1
    return F.grid_sample(x, grid.expand(x.shape[0], -1, -1, -1), mode=mode,
                         padding_mode="border", align_corners=True)


def zoom_rotate_shift(
    x: Tensor, zoom: float = 1.0, angle: float = 0.0, shift: tuple[float, float] = (0.0, 0.0)
) -> Tensor:
    """One zoom-loop move: scale by ``zoom`` (> 1 magnifies) and rotate by ``angle`` degrees
    (counter-clockwise on screen) about the image centre, then move by ``shift`` = (dx, dy)
    pixels (right, down). The output has the input's size."""
    if not all(math.isfinite(v) for v in (zoom, angle, *shift)):
        raise ValueError(f"zoom, angle and shift must be finite, got {zoom}, {angle}, {shift}")
    if zoom <= 0:
        raise ValueError(f"zoom must be positive, got {zoom}")
    height, width = x.shape[-2:]
    out = _pixel_grid(height, width, x.dtype, x.device)
    centre = torch.tensor([(width - 1) / 2, (height - 1) / 2], dtype=x.dtype, device=x.device)
    # Inverse map: where in the source each output pixel comes from. Undo the shift, then the
    # rotation and the scale about the centre. With y pointing down, a counter-clockwise turn
    # on screen is a clockwise one in (x, y) coordinates.
    a = math.radians(angle)
    cos, sin = math.cos(a) / zoom, math.sin(a) / zoom
    p = out - centre - torch.tensor(shift, dtype=x.dtype, device=x.device)
    src_x = cos * p[..., 0] - sin * p[..., 1]
    src_y = sin * p[..., 0] + cos * p[..., 1]
    return sample(x, torch.stack((src_x, src_y), dim=-1) + centre)


def warp(x: Tensor, flow: Tensor, mode: str = "bilinear") -> Tensor:
    """Backward warp: ``out(p) = x(p + flow(p))`` for a (N, 2, H, W) flow of (dx, dy) pixels.

    With the flow from frame t to frame t-1, this brings frame t-1 (or anything painted on
    it) into frame t's geometry.
    """
    height, width = x.shape[-2:]
    coords = _pixel_grid(height, width, x.dtype, x.device) + flow.permute(0, 2, 3, 1)
    return sample(x, coords, mode)


def quantize8(x: Tensor) -> Tensor:
    """Round [0, 1] values to the 256 levels an 8-bit frame holds."""
    return (x.clamp(0, 1) * 255).round() / 255


# BT.601 luma weights, as in JPEG's YCbCr (on the gamma-encoded values, like JPEG).
LUMA = (0.299, 0.587, 0.114)


def luma(x: Tensor) -> Tensor:
    """(N, 3, H, W) RGB -> (N, 1, H, W) BT.601 luma."""
    r, g, b = LUMA
    return r * x[:, 0:1] + g * x[:, 1:2] + b * x[:, 2:3]


def keep_luminance(dream: Tensor, photo: Tensor) -> Tensor:
    """``photo`` with ``dream``'s luminance: the same amount added to R, G and B moves luma
    by that amount and leaves Cb and Cr (B - Y, R - Y) unchanged, so the photo keeps its own
    colours. Clamped to [0, 1], which moves the chroma only where the result would leave the
    gamut."""
    return (photo + (luma(dream) - luma(photo))).clamp_(0, 1)


# --- Laplacian pyramid gradient normalization ------------------------------------------------
# The 5-tap binomial kernel [1, 4, 6, 4, 1] / 16 of the DeepDream notebook, as a 5x5 blur.
_K1 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _kernel(channels: int, like: Tensor) -> Tensor:
    k = (_K1[:, None] * _K1[None, :]).to(like.device, like.dtype)
    return k.expand(channels, 1, 5, 5)


def _down(x: Tensor) -> Tensor:
    return F.conv2d(x, _kernel(x.shape[1], x), stride=2, padding=2, groups=x.shape[1])


def _up(x: Tensor, size: tuple[int, int]) -> Tensor:
    # Transposed blur, x4 to keep the mean; output_padding makes odd and even sizes exact.
    pad = (size[0] - (2 * x.shape[2] - 1), size[1] - (2 * x.shape[3] - 1))
    return F.conv_transpose2d(x, _kernel(x.shape[1], x) * 4, stride=2, padding=2,
                              output_padding=pad, groups=x.shape[1])


def lap_split(x: Tensor, levels: int) -> list[Tensor]:
    """The Laplacian pyramid of (N, C, H, W) ``x``: ``levels`` band-pass images, finest
    first, then the low-pass rest. :func:`lap_merge` is its exact inverse."""
    bands = []
    for _ in range(levels):
        if min(x.shape[2], x.shape[3]) < 2:
            break
        low = _down(x)
        bands.append(x - _up(low, (x.shape[2], x.shape[3])))
        x = low
    return bands + [x]


def lap_merge(bands: Sequence[Tensor]) -> Tensor:
    """Sum a pyramid from :func:`lap_split` back into one image."""
    x = bands[-1]
    for band in reversed(bands[:-1]):
        x = _up(x, (band.shape[2], band.shape[3])) + band
    return x


def lapnorm(grad: Tensor, levels: int = 4, eps: float = 1e-10) -> Tensor:
    """Laplacian-pyramid normalization of an (N, C, H, W) gradient (DeepDream's
    ``lap_normalize``): split into ``levels`` bands and the low-pass rest, divide each by
    its RMS over (C, H, W) per image, merge. Scale-free: ``lapnorm(k * g) == lapnorm(g)``
    for k > 0. ``levels=0`` is plain RMS normalization."""
    if grad.dim() != 4:
        raise InceptionismError(f"lapnorm takes (N, C, H, W) tensors, got {tuple(grad.shape)}.")
    bands = lap_split(grad, levels)
    normed = [b / b.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(eps) for b in bands]
    return lap_merge(normed)

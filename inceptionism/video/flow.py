"""Carrying a dream from one frame of a video to the next along the optical flow.

After the flow-guided DeepDreamVideo of graphific, and Ruder et al., "Artistic style
transfer for videos", 2016: the previous frame's dream *detail* (dreamed t-1 minus input
t-1) is warped along the dense optical flow from input frame t back to input frame t-1
(Farnebäck, OpenCV), so the hallucinations move with the scene, and ``carry`` times it is
added to input frame t. Carrying the detail rather than the whole dreamed frame gives the
same start wherever the flow is right, and no ghost of the previous frame's content where
it is wrong (occlusions).

With a temporal strength (``FlowConfig.temporal``) the carried dream is also the target of
the engine's temporal term (``engine/temporal.py``), which holds the dream to it while the
frame is dreamed, weighted by a consistency mask (:func:`consistency_mask`, after Ruder,
Dosovitskiy and Brox 2016): pixels whose forward and backward flows disagree (occlusions,
disocclusions), that lie on motion boundaries or that come from outside the frame have no
past; there nothing is carried and the frame is dreamed afresh. A *cut* (:func:`cut_score`:
the colour histograms jump, or the flow fails for most pixels) starts the dream afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..engine.temporal import Temporal
from ..engine.transforms import to_array, warp
from ..settings import FlowConfig
from .codec import video_module


# OpenCV's DIS fails on small frames (an error below 11 pixels a side, a crash of the whole
# process at 12x300 or 15x300, measured with OpenCV 5.1): smaller frames get Farnebäck's
# flow, which takes any size, with twice that margin.
DIS_MIN_SIDE = 32


def optical_flow(frame: Tensor, previous: Tensor, method: str = "farneback") -> Tensor:
    """Dense flow from ``frame`` back to ``previous``: (1, 2, H, W) of (dx, dy) pixels such
    that ``frame(p) ~ previous(p + flow(p))``, on the gray images: Farnebäck's method
    (smooth, what the flow carry has always used) or ``"dis"``, Kroeger et al.'s Dense
    Inverse Search (OpenCV's medium preset), whose sharp motion edges let the consistency
    mask find what a moving object uncovers (Farnebäck's 15-pixel window smears its flow
    over it: measured, a 32-pixel square moving 8 pixels a frame uncovers a strip that
    Farnebäck's flows leave 52% consistent, DIS's 1%). Frames with a side under
    ``DIS_MIN_SIDE`` pixels get Farnebäck's flow either way."""
    cv2 = video_module("cv2")

    def gray(x: Tensor) -> np.ndarray:
        rgb = (to_array(x).clip(0, 1) * 255).round().astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

    if method not in ("farneback", "dis"):
        raise ValueError(f"expected the method 'farneback' or 'dis', got {method!r}")
    if method == "dis" and min(frame.shape[-2:]) >= DIS_MIN_SIDE:
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(
            gray(frame), gray(previous), None)
    else:
        # OpenCV's tutorial parameters: 3 pyramid levels of halving and a 15-pixel window
        # follow motions of a few tens of pixels per frame, smoothly enough to carry
        # textures along.
        flow = cv2.calcOpticalFlowFarneback(gray(frame), gray(previous), None, pyr_scale=0.5,
                                            levels=3, winsize=15, iterations=3, poly_n=5,
                                            poly_sigma=1.2, flags=0)
    return torch.from_numpy(flow).permute(2, 0, 1)[None].to(frame.device, frame.dtype)


def carry(prev_dream: Tensor, prev_frame: Tensor, frame: Tensor, config: FlowConfig) -> Tensor:
    """The start of frame t's dream: input frame t plus ``carry`` times frame t-1's dream
    detail, warped along the optical flow (or left in place with ``flow=False``)."""
    if config.carry == 0:
        return frame
    detail = prev_dream - prev_frame
    if config.flow:
        detail = warp(detail, optical_flow(frame, prev_frame))
    return (frame + config.carry * detail).clamp(0, 1)


# Fewer pixels than this share with a past: the flow failed, so the frames do not show one
# scene moving (a cut, a flash, a whip pan), and the dream starts afresh.
FLOW_FAILURE = 1 / 3
HISTOGRAM_BINS = 16


def consistency_mask(backward: Tensor, forward: Tensor, occlusion: float = 0.5,
                     motion_edges: float = 0.002) -> Tensor:
    """Where frame t's pixels have a past: (1, 1, H, W), 1 where the flow can be trusted, 0
    where it cannot (Ruder, Dosovitskiy and Brox 2016, eq. 7-8).

    ``backward`` is the flow from frame t to frame t-1 (at t's pixels), ``forward`` the flow
    from t-1 to t (at t-1's pixels), both (1, 2, H, W). With w = backward(p) and
    w' = forward(p + w), a pixel is occluded or disoccluded when
    ``|w + w'|^2 > 0.01 (|w|^2 + |w'|^2) + occlusion`` (going there and back does not
    return), on a motion boundary when ``|grad u|^2 + |grad v|^2 > 0.01 |w|^2 + motion_edges``,
    and has no past when p + w lies outside frame t-1.
    """
    height, width = backward.shape[-2:]
    w = backward
    w2 = warp(forward, w)  # the forward flow where each pixel came from
    loop = ((w + w2) ** 2).sum(1, keepdim=True)
    size = (w ** 2).sum(1, keepdim=True)
    occluded = loop > 0.01 * (size + (w2 ** 2).sum(1, keepdim=True)) + occlusion
    dx = torch.zeros_like(w)
    dy = torch.zeros_like(w)
    dx[..., :, :-1] = w[..., :, 1:] - w[..., :, :-1]
    dy[..., :-1, :] = w[..., 1:, :] - w[..., :-1, :]
    edge = (dx ** 2 + dy ** 2).sum(1, keepdim=True) > 0.01 * size + motion_edges
    ys = torch.arange(height, dtype=w.dtype, device=w.device).view(1, 1, -1, 1)
    xs = torch.arange(width, dtype=w.dtype, device=w.device).view(1, 1, 1, -1)
    x_from, y_from = xs + w[:, :1], ys + w[:, 1:]
    outside = (x_from < 0) | (x_from > width - 1) | (y_from < 0) | (y_from > height - 1)
    return (~(occluded | edge | outside)).to(w.dtype)


def histogram_distance(a: Tensor, b: Tensor, bins: int = HISTOGRAM_BINS) -> float:
    """How different two frames' colours are, whatever moves: the total-variation distance
    between their per-channel histograms (``bins`` bins), averaged over R, G and B; 0 for the
    same colours, 1 for colours that never overlap."""
    out = 0.0
    for c in range(3):
        ha = torch.histc(a[:, c].float(), bins, 0, 1)
        hb = torch.histc(b[:, c].float(), bins, 0, 1)
        out += 0.5 * float((ha / ha.sum() - hb / hb.sum()).abs().sum())
    return out / 3


@dataclass(frozen=True)
class Carried:
    """How frame t's dream starts from frame t-1's (what :func:`carry_over` found)."""

    start: Tensor  # (1, 3, H, W): where the dream of frame t starts
    temporal: Temporal | None  # the temporal term for the engine (None: off)
    cut: bool  # a scene change: nothing was carried
    change: float  # colour-histogram distance from the previous frame (0..1)
    consistent: float | None  # share of pixels with a past (None: not measured)
    mask: Tensor | None  # (1, 1, H, W) consistency mask (None: not made)


def fresh(frame: Tensor, cut: bool = False, change: float = 0.0,
          consistent: float | None = None, mask: Tensor | None = None) -> Carried:
    """A frame dreamed on its own (the first one, or after a cut)."""
    return Carried(frame, None, cut, change, consistent, mask)


def carry_over(prev_dream: Tensor, prev_frame: Tensor, frame: Tensor, config: FlowConfig) -> Carried:
    """Where frame t's dream starts, and what holds it (see the module's docstring).

    1. A jump in the colour histograms is a cut: frame t is dreamed afresh.
    2. Without the temporal term, the start is :func:`carry`'s.
    3. With it, the flows both ways (Dense Inverse Search) give the consistency mask; too
       few pixels with a past is a cut too. Else the start *and* the target are frame t
       plus ``carry`` times the previous detail warped along the flow (bicubic: a bilinear
       warp at sub-pixel motion blurs the detail a little more every frame, and the term
       would hold on to the blur; measured, the dream kept 0.66x the per-frame strength on a
       turning clip, 1.08x bicubic), where the mask is 1, and frame t where it is 0.
    """
    change = histogram_distance(prev_frame, frame) if config.cut < 1 else 0.0
    if change > config.cut:
        return fresh(frame, True, change)
    if config.temporal == 0 or config.carry == 0:
        return Carried(carry(prev_dream, prev_frame, frame, config), None, False, change, None, None)
    if config.flow:
        backward = optical_flow(frame, prev_frame, "dis")
        mask = consistency_mask(backward, optical_flow(prev_frame, frame, "dis"),
                                config.occlusion, config.motion_edges)
    else:
        backward = torch.zeros_like(frame[:, :2])
        mask = torch.ones_like(frame[:, :1])
    consistent = float(mask.mean())
    if consistent < FLOW_FAILURE and config.cut < 1:
        return fresh(frame, True, change, consistent, mask)
    detail = warp(prev_dream - prev_frame, backward, "bicubic")
    start = (frame + config.carry * mask * detail).clamp(0, 1)
    return Carried(start, Temporal(start, mask, config.temporal), False, change, consistent, mask)

"""Carrying a dream from one frame of a video to the next along the optical flow.

After the flow-guided DeepDreamVideo of graphific, and Ruder et al., "Artistic style
transfer for videos", 2016: the previous frame's dream *detail* (dreamed t-1 minus input
t-1) is warped along the dense optical flow from input frame t back to input frame t-1
(Farnebäck, OpenCV), so the hallucinations move with the scene, and ``carry`` times it is
added to input frame t. Carrying the detail rather than the whole dreamed frame gives the
same start wherever the flow is right, and no ghost of the previous frame's content where
it is wrong (occlusions).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..engine.transforms import to_array, warp
from ..settings import FlowConfig
from .codec import video_module


def optical_flow(frame: Tensor, previous: Tensor) -> Tensor:
    """Dense flow from ``frame`` back to ``previous``: (1, 2, H, W) of (dx, dy) pixels such
    that ``frame(p) ~ previous(p + flow(p))`` (Farnebäck's method on the gray images)."""
    cv2 = video_module("cv2")

    def gray(x: Tensor) -> np.ndarray:
        rgb = (to_array(x).clip(0, 1) * 255).round().astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

    # OpenCV's tutorial parameters: 3 pyramid levels of halving and a 15-pixel window follow
    # motions of a few tens of pixels per frame, smoothly enough to carry textures along.
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

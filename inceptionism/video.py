"""Dream videos: the zoom loop, and dreaming over an existing video with optical flow.

Zoom loop (the classic DeepDream film; Mordvintsev et al.'s deepdream notebook, 2015):
frame 0 is the input dreamed; every later frame is the previous frame zoomed in a little
(optionally rotated and shifted), then dreamed again with a few steps. What the network
hallucinated keeps growing as it flies towards the viewer.

Video in (after the flow-guided DeepDreamVideo of graphific, and Ruder et al., "Artistic
style transfer for videos", 2016): dreaming every frame on its own makes the patterns
flicker, because every frame invents them anew. Instead, for frame t:

1. Estimate the dense optical flow from input frame t back to input frame t-1 (Farnebäck,
   OpenCV), i.e. where each pixel of frame t was one frame earlier.
2. Take the previous frame's dream detail (dreamed t-1 minus input t-1) and warp it along
   that flow, so the hallucinations move with the scene.
3. Add ``carry`` times the warped detail to input frame t, then dream that for a few steps.

Carrying the detail rather than the whole dreamed frame gives the same start wherever the
flow is right, and no ghost of the previous frame's content where it is wrong (occlusions).

Resume: both loops are deterministic per frame: frame i is dreamed with a seed derived from
(seed, i), and each frame is rounded to 8 bits before the next frame is made from it, exactly
as it is stored. A render resumed from its stored frames therefore continues bit for bit as
if it had never stopped. Frames go to and come from a *store* (see ``io.video.FrameStore``),
which is the only thing here that touches files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch import Tensor

from .version import __version__
from .settings import (
    CARRY,
    DEFAULT_MAX_PIXELS,
    EVERY,
    FRAMES,
    FRAME_CONFIG,
    MOTION,
    DreamConfig,
    FlowConfig,
    ZoomMotion,
)
from .engine.loop import CancelToken, dream
from .errors import InceptionismError
from .io.video import video_module
from .models import get_spec, list_models
from .models.base import DreamNet
from .engine.objectives import Objective
from .engine.transforms import quantize8, to_array, to_tensor, warp, zoom_rotate_shift

if TYPE_CHECKING:
    from .api import Dreamer


@dataclass(frozen=True)
class Cycle:
    """The objectives a video cycles through: frame i uses ``objectives[(i // every) % n]``."""

    objectives: tuple[Objective, ...]
    every: int  # frames per objective

    def at(self, index: int) -> Objective:
        return self.objectives[(index // self.every) % len(self.objectives)]

    @classmethod
    def spread(cls, objectives: Sequence[Objective], frames: int, every: int | None = None) -> Cycle:
        """``every`` frames per objective; by default the objectives share the video evenly."""
        if not objectives:
            raise InceptionismError("At least one objective is needed.")
        if every is not None:
            EVERY.check(every)
        if len(objectives) == 1:
            every = 1  # nothing to cycle; a fixed value lets a longer render resume a shorter one
        elif every is None:
            every = max(1, math.ceil(frames / len(objectives)))
        return cls(tuple(objectives), every)

    def describe(self) -> dict:
        return {"objectives": [o.name for o in self.objectives], "every": self.every}


@dataclass(frozen=True)
class FrameInfo:
    """Sent to the frame callback after each frame is safely stored."""

    index: int  # 0-based index of the frame just stored
    frames: int  # frames in the whole render
    first: int  # the frame this run started at; frames before it were done by an earlier run
    image: np.ndarray | None = None  # the frame as stored, (H, W, 3) floats in [0, 1]


FrameCallback = Callable[[FrameInfo], None]


class Store(Protocol):
    """Where frames go (``io.video.FrameStore``): keyed by index, guarded by a fingerprint."""

    def open(self, params: dict, restart: bool = False) -> int: ...
    def save(self, index: int, rgb: np.ndarray) -> object: ...
    def load(self, index: int) -> np.ndarray: ...


def frame_seed(seed: int, index: int) -> int:
    """A seed for frame ``index`` that depends only on (seed, index), never on where a run
    started, so a resumed render draws the same jitter as an uninterrupted one."""
    digest = hashlib.sha256(f"inceptionism-frame:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def frame_config(config: DreamConfig, index: int) -> DreamConfig:
    return dataclasses.replace(config, seed=frame_seed(config.seed, index))


def pixels_digest(rgb: np.ndarray) -> str:
    """Identifies an input image in a fingerprint by its pixels (not its file)."""
    a = np.ascontiguousarray(rgb, dtype=np.float32)
    return hashlib.sha256(str(a.shape).encode() + a.tobytes()).hexdigest()


# --- one frame: pure tensor functions --------------------------------------------------------


def zoom_step(
    model: DreamNet, previous: Tensor, objective: Objective, motion: ZoomMotion, config: DreamConfig,
    cancel: CancelToken | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    mask: Tensor | None = None,
) -> Tensor:
    """Next frame of a zoom loop: move the camera, dream (where ``mask`` allows), round to
    8 bits. The mask stays put in the frame while the picture moves under it."""
    moved = zoom_rotate_shift(previous, motion.zoom, motion.rotate, motion.shift)
    return quantize8(dream(model, moved, objective, config, cancel=cancel, max_pixels=max_pixels,
                           mask=mask))


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


def flow_step(
    model: DreamNet,
    frame: Tensor,
    prev_frame: Tensor | None,
    prev_dream: Tensor | None,
    objective: Objective,
    flow: FlowConfig,
    config: DreamConfig,
    cancel: CancelToken | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    mask: Tensor | None = None,
) -> Tensor:
    """Dream frame t of a video, starting from what frame t-1 dreamed (if there was one).
    Where ``mask`` is black the frame is kept as it is."""
    start = frame if prev_dream is None else carry(prev_dream, prev_frame, frame, flow)
    out = dream(model, start, objective, config, cancel=cancel, max_pixels=max_pixels, mask=mask)
    if mask is not None and prev_dream is not None:  # black: the frame, not what was carried
        out = torch.lerp(frame, out, mask.view(1, 1, *mask.shape[-2:]))
    return quantize8(out)


# --- whole renders: loops over a store ----------------------------------------------------------


def _model_params(dreamer: Dreamer) -> dict:
    params = {"inceptionism": __version__, "model": dreamer.spec.name, "weights": dreamer.weights_source}
    # An input convention other than the registered model's (--preprocess, a model file)
    # changes every frame, so it is part of the fingerprint.
    name, norm = dreamer.spec.name, dreamer.spec.normalization
    if name not in list_models() or norm != get_spec(name).normalization:
        params["normalization"] = [*norm.mean, *norm.std, norm.bgr]
    return params


def _mask_params(mask: np.ndarray | None) -> dict:
    """A mask joins the fingerprint only when there is one, so renders made before masks
    existed still resume."""
    return {} if mask is None else {"mask": pixels_digest(mask)}


def _mask_tensor(mask: np.ndarray | None, device) -> Tensor | None:
    if mask is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(device)


def render_zoom(
    dreamer: Dreamer,
    image: np.ndarray,
    store: Store,
    frames: int,
    objectives: Sequence[str | Objective | None] = (None,),
    motion: ZoomMotion = ZoomMotion(),
    config: DreamConfig = FRAME_CONFIG,
    cycle_every: int | None = None,
    restart: bool = False,
    on_frame: FrameCallback | None = None,
    cancel: CancelToken | None = None,
    mask: np.ndarray | None = None,
) -> int:
    """Render (or resume) a zoom loop of ``frames`` frames from ``image`` ((H, W, 3) RGB
    floats) into ``store``, with a :class:`~inceptionism.Dreamer`. Returns the frame count.
    ``cancel`` stops it mid-frame; the frames stored so far stay and a later render resumes.
    ``mask``: (H, W) weights in [0, 1] of the frame's size: white dreams, black keeps the
    moving picture as it is (the mask stays put in the frame)."""
    config.validate()
    motion.validate()
    FRAMES.check(frames)
    dreamer.check_size(image.shape[1], image.shape[0], config, "frame")  # before any frame
    cycle = Cycle.spread([dreamer.objective(o) for o in objectives], frames, cycle_every)
    params = {
        "kind": "zoom",
        **_model_params(dreamer),
        "input": pixels_digest(image),
        "cycle": cycle.describe(),
        "config": dataclasses.asdict(config),
        "motion": dataclasses.asdict(motion),
        **_mask_params(mask),
    }
    done = store.open(params, restart)
    weights = _mask_tensor(mask, dreamer.device)
    previous = to_tensor(store.load(done - 1)).to(dreamer.device) if done else None
    for i in range(done, frames):
        cfg = frame_config(config, i)
        if previous is None:
            x = quantize8(dream(dreamer.model, to_tensor(image).to(dreamer.device), cycle.at(i), cfg,
                                cancel=cancel, max_pixels=dreamer.max_pixels, mask=weights))
        else:
            x = zoom_step(dreamer.model, previous, cycle.at(i), motion, cfg, cancel,
                          dreamer.max_pixels, weights)
        rgb = to_array(x)
        store.save(i, rgb)
        previous = x
        if on_frame is not None:
            on_frame(FrameInfo(i, frames, done, rgb))
    return frames


def render_video(
    dreamer: Dreamer,
    source: Iterable[np.ndarray],
    store: Store,
    frames: int,
    source_id: str,
    objectives: Sequence[str | Objective | None] = (None,),
    flow: FlowConfig = FlowConfig(),
    config: DreamConfig = FRAME_CONFIG,
    cycle_every: int | None = None,
    restart: bool = False,
    on_frame: FrameCallback | None = None,
    cancel: CancelToken | None = None,
    mask: np.ndarray | None = None,
) -> int:
    """Dream the first ``frames`` frames of ``source`` (an iterable of (H, W, 3) RGB floats,
    identified by ``source_id``, e.g. its file's digest) into ``store``, resuming after the
    frames already there. Returns the number of frames stored."""
    config.validate()
    flow.validate()
    FRAMES.check(frames)
    cycle = Cycle.spread([dreamer.objective(o) for o in objectives], frames, cycle_every)
    params = {
        "kind": "video",
        **_model_params(dreamer),
        "input": source_id,
        "cycle": cycle.describe(),
        "config": dataclasses.asdict(config),
        "flow": dataclasses.asdict(flow),
        **_mask_params(mask),
    }
    done = store.open(params, restart)
    weights = _mask_tensor(mask, dreamer.device)
    prev_frame = prev_dream = None
    count = 0
    for i, rgb in enumerate(source):
        if i >= frames:
            break
        count = i + 1
        if i < done - 1:
            continue  # decoded only to get to the frames needed
        frame = to_tensor(rgb).to(dreamer.device)
        if i == done - 1:  # the last stored frame: what the next one is carried from
            prev_frame, prev_dream = frame, to_tensor(store.load(i)).to(dreamer.device)
            continue
        x = flow_step(dreamer.model, frame, prev_frame, prev_dream, cycle.at(i), flow,
                      frame_config(config, i), cancel, dreamer.max_pixels, weights)
        dreamed = to_array(x)
        store.save(i, dreamed)
        prev_frame, prev_dream = frame, x
        if on_frame is not None:
            on_frame(FrameInfo(i, frames, done, dreamed))
    return count

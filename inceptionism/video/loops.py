"""Dream videos: the zoom loop, and dreaming over an existing video with optical flow.

Zoom loop (the classic DeepDream film; Mordvintsev et al.'s deepdream notebook, 2015):
frame 0 is the input dreamed; every later frame is the previous frame zoomed in a little
(optionally rotated and shifted), then dreamed again with a few steps. What the network
hallucinated keeps growing as it flies towards the viewer. A flight never comes back to where
it started, so a video played round would jump from its last frame to its first; with
``loop=k``, each of the last k frames starts from the moved previous frame faded towards frame
0 (weights 1/(k+1) ... k/(k+1)), so the last frame leads back to the first by a step no
larger than its neighbours'.

Video in (after the flow-guided DeepDreamVideo of graphific, and Ruder et al., "Artistic
style transfer for videos", 2016): dreaming every frame on its own makes the patterns
flicker, because every frame invents them anew. Instead, for frame t:

1. Estimate the dense optical flow from input frame t back to input frame t-1 (Farnebäck,
   OpenCV), i.e. where each pixel of frame t was one frame earlier.
2. Take the previous frame's dream detail (dreamed t-1 minus input t-1) and warp it along
   that flow, so the hallucinations move with the scene.
3. Add ``carry`` times the warped detail to input frame t, then dream that for a few steps.
4. With the temporal term (the default), hold the dream to that start while dreaming, where
   the flow is consistent, and dream afresh where the scene is new or has cut (``flow.py``,
   ``engine/temporal.py``); every frame then uses the same jitter offsets.

Carrying the detail rather than the whole dreamed frame gives the same start wherever the
flow is right, and no ghost of the previous frame's content where it is wrong (occlusions).

Resume: both loops are deterministic per frame: frame i is dreamed with a seed derived from
(seed, i), and each frame is rounded to 8 bits before the next frame is made from it, exactly
as it is stored. A render resumed from its stored frames therefore continues bit for bit as
if it had never stopped. Frames go to and come from a *store* (see ``video.store.FrameStore``),
which is the only thing here that touches files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ..engine.loop import CancelToken, StepCallback, dream
from ..engine.objectives import Objective
from ..engine.transforms import quantize8, to_array, to_tensor, zoom_rotate_shift
from ..errors import InceptionismError
from ..models.base import DreamNet
from ..settings import (
    DEFAULT_MAX_PIXELS,
    FRAME_CONFIG,
    FRAMES,
    LOOP_FRAMES,
    DreamConfig,
    FlowConfig,
    ZoomMotion,
)
from .flow import Carried, carry_over, fresh
from .frames import (
    Cycle,
    FrameCallback,
    FrameInfo,
    Store,
    fingerprint,
    frame_config,
    mask_array,
    mask_tensor,
    pixels_digest,
)

if TYPE_CHECKING:
    from ..api import Dreamer


# --- one frame: pure tensor functions --------------------------------------------------------


def zoom_step(
    model: DreamNet, previous: Tensor, objective: Objective, motion: ZoomMotion, config: DreamConfig,
    cancel: CancelToken | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    mask: Tensor | None = None,
    home: tuple[Tensor, float] | None = None,
    callback: StepCallback | None = None,
) -> Tensor:
    """Next frame of a zoom loop: move the camera, dream (where ``mask`` allows), round to
    8 bits. The mask stays put in the frame while the picture moves under it. ``home``
    (frame 0, weight): the moved frame is first faded that far towards frame 0, to close a
    loop. ``callback`` gets the dream's steps."""
    moved = zoom_rotate_shift(previous, motion.zoom, motion.rotate, motion.shift)
    if home is not None:
        moved = torch.lerp(moved, home[0], home[1])
    return quantize8(dream(model, moved, objective, config, callback, cancel=cancel,
                           max_pixels=max_pixels, mask=mask))


def homeward(index: int, frames: int, loop: int) -> float:
    """How far frame ``index`` of ``frames`` fades towards frame 0 when the last ``loop``
    frames close the loop: 0 before them, then 1/(loop+1), 2/(loop+1) ... loop/(loop+1), so
    the frame after the last, frame 0 itself, is one more equal step."""
    first = frames - loop
    return 0.0 if index < max(first, 1) else (index - first + 1) / (loop + 1)


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
    return video_frame(model, frame, prev_frame, prev_dream, objective, flow, config, cancel,
                       max_pixels, mask)[0]


def video_frame(
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
) -> tuple[Tensor, Carried]:
    """:func:`flow_step`, also returning how the frame was carried (a cut, its mask)."""
    if prev_dream is None:
        carried = fresh(frame)
    else:
        carried = carry_over(prev_dream, prev_frame, frame, flow)
    out = dream(model, carried.start, objective, config, cancel=cancel, max_pixels=max_pixels,
                mask=mask, temporal=carried.temporal)
    if mask is not None and prev_dream is not None:  # black: the frame, not what was carried
        out = torch.lerp(frame, out, mask.view(1, 1, *mask.shape[-2:]))
    return quantize8(out), carried


def video_config(config: DreamConfig, flow: FlowConfig, index: int) -> DreamConfig:
    """Frame ``index``'s dream settings: its own seed, or with ``flow.coherent`` the same
    seed (so the same jitter offsets) for every frame."""
    return frame_config(config, 0 if flow.coherent else index)


# --- whole renders: loops over a store ----------------------------------------------------------


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
    loop: int = 0,
    on_step: StepCallback | None = None,
) -> int:
    """Render (or resume) a zoom loop of ``frames`` frames from ``image`` ((H, W, 3) RGB
    floats) into ``store``, with a :class:`~inceptionism.Dreamer`. Returns the frame count.
    ``cancel`` stops it mid-frame; the frames stored so far stay and a later render resumes.
    ``mask``: (H, W) weights in [0, 1] of the frame's size: white dreams, black keeps the
    moving picture as it is (the mask stays put in the frame). ``loop``: the last ``loop``
    frames fade back towards frame 0, so the video plays round without a jump (0: a flight
    that plays once). ``on_step`` gets every dream step of every frame."""
    config.validate()
    motion.validate()
    FRAMES.check(frames)
    LOOP_FRAMES.check(loop)
    if loop >= frames:
        raise InceptionismError(f"A loop closed over {loop} frames needs more than {loop} "
                                f"frames (got {frames}).")
    dreamer.check_size(image.shape[1], image.shape[0], config, "frame")  # before any frame
    cycle = Cycle.spread([dreamer.objective(o) for o in objectives], frames, cycle_every)
    extra = {"loop": loop} if loop else {}  # renders made before loops existed still resume
    params = fingerprint("zoom", dreamer, pixels_digest(image), cycle, config, mask,
                         motion=motion, **extra)
    done = store.open(params, restart)
    weights = mask_tensor(mask, dreamer.device)
    previous = to_tensor(store.load(done - 1)).to(dreamer.device) if done else None
    first = to_tensor(store.load(0)).to(dreamer.device) if done and loop else None
    for i in range(done, frames):
        cfg = frame_config(config, i)
        if previous is None:
            x = quantize8(dream(dreamer.model, to_tensor(image).to(dreamer.device), cycle.at(i), cfg,
                                on_step, cancel=cancel, max_pixels=dreamer.max_pixels,
                                mask=weights))
            first = x
        else:
            w = homeward(i, frames, loop)
            x = zoom_step(dreamer.model, previous, cycle.at(i), motion, cfg, cancel,
                          dreamer.max_pixels, weights, (first, w) if w else None, on_step)
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
    params = fingerprint("video", dreamer, source_id, cycle, config, mask, flow=flow)
    done = store.open(params, restart)
    weights = mask_tensor(mask, dreamer.device)
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
        x, carried = video_frame(dreamer.model, frame, prev_frame, prev_dream, cycle.at(i), flow,
                                 video_config(config, flow, i), cancel, dreamer.max_pixels,
                                 weights)
        dreamed = to_array(x)
        if carried.cut:  # before the frame: a frame that counts as done has its marker
            store.mark_cut(i, carried.change)
        store.save(i, dreamed)
        prev_frame, prev_dream = frame, x
        if on_frame is not None:
            on_frame(FrameInfo(i, frames, done, dreamed, carried.cut, mask_array(carried.mask)))
    return count

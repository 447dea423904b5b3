"""Long videos in parallel: a clip split into segments that are dreamed independently.

Dreaming a video is sequential: frame t starts from frame t-1's dream carried along the
optical flow (``flow.py``). To spread an hour of video over many workers, the clip is cut
into N segments of consecutive frames, and each segment is dreamed on its own, starting
``warmup`` (K) frames *before* its first kept frame: those K frames are dreamed and thrown
away, so that by the first kept frame the carried dream has built up as it would have in a
sequential render. The segments are then joined in order (the frames are numbered by their
place in the clip, so the frames folder is simply complete) and encoded with the sound.

What a seam costs is measured by :func:`seam_metric`: the frame-to-frame change at the first
frame of each segment, against the change within segments, and against the sequential render
at the same frames. With K at least a segment's first frame index the segment *is* the
sequential render (same frames, same seeds), bit for bit.

Zoom loops cannot be split: each frame is the previous *dreamed* frame zoomed, so frame t
exists only once frame t-1 does; they stay sequential.

Each frame's seed depends only on its index (``frames.frame_seed``), so a segment draws the
same jitter as the sequential render at the same frames, and a resumed segment continues bit
for bit: its last stored frame is what the next is carried from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from torch import Tensor

from ..engine.transforms import to_array, to_tensor
from ..errors import InceptionismError
from ..settings import DEFAULT_MAX_PIXELS, FRAME_CONFIG, DreamConfig, FlowConfig
from .codec import read_frames
from .frames import Cycle, FrameCallback, FrameInfo, fingerprint, mask_tensor
from .loops import video_config, video_frame

# Default warm-up: enough frames for what a segment starts from to fade below this share of
# the carried dream. Each frame carries `carry` times the previous frame's detail, so after k
# frames the cold start weighs carry**k: at carry 0.6 that is 4 frames (0.13). With the
# temporal term (the default) the dream does not build up, and there is no warm-up.
# Measured (benchmarks/scaling.py, docs/scaling.md): without warm-up the dream at a seam is
# 26% weaker than around it (a visible fade); with 4 frames 1.5% weaker; with 8, none.
WARMUP_RESIDUE = 0.15
MAX_WARMUP = 40


def default_warmup(carry: float, temporal: float = 0.0) -> int:
    """Warm-up frames for a flow ``carry``: the smallest K with carry**K <= WARMUP_RESIDUE,
    at most MAX_WARMUP (a carry near 1 never forgets its start; no warm-up can match it).

    With the temporal term (``temporal`` > 0) none: the dream is as strong in a segment's
    first frame as anywhere (it does not build up over frames), so there is no fade for a
    warm-up to hide, and what a seam shows (another realisation of the dream's patterns)
    lasts as long as the whole history, which no warm-up short of it removes. Measured on
    36 frames in 3 segments (docs/scaling.md): change into the seams 0.045 without warm-up,
    0.044 with 8 frames; strength at the seams 1.3% below elsewhere without."""
    if temporal > 0 and carry > 0:
        return 0
    if carry <= WARMUP_RESIDUE:
        return 1 if carry > 0 else 0
    if carry >= 1:
        return MAX_WARMUP
    return min(MAX_WARMUP, math.ceil(math.log(WARMUP_RESIDUE) / math.log(carry) - 1e-9))


DEFAULT_WARMUP = default_warmup(FlowConfig().carry, FlowConfig().temporal)  # 0 by default


@dataclass(frozen=True)
class Segment:
    index: int  # 0-based
    first: int  # first kept frame (index in the clip)
    stop: int  # one past the last kept frame
    warmup: int  # frames dreamed before `first` and not kept

    @property
    def start(self) -> int:
        """The first frame dreamed (the warm-up begins here)."""
        return max(0, self.first - self.warmup)

    @property
    def frames(self) -> int:
        return self.stop - self.first


def split(frames: int, segments: int, warmup: int) -> list[Segment]:
    """``frames`` frames in ``segments`` runs as equal as can be (never an empty one)."""
    if segments < 1:
        raise InceptionismError(f"Segments must be at least 1 (got {segments}).")
    if warmup < 0:
        raise InceptionismError(f"Warm-up must be 0 frames or more (got {warmup}).")
    n = min(segments, frames)
    bounds = [round(k * frames / n) for k in range(n + 1)]
    return [Segment(k, bounds[k], bounds[k + 1], warmup) for k in range(n)]


def segment_frames(
    dreamer,
    source: Iterable[np.ndarray],
    segment: Segment,
    cycle: Cycle,
    flow: FlowConfig,
    config: DreamConfig,
    done: int = 0,
    resume: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    cancel=None,
) -> Iterator[tuple[int, Tensor, float | None]]:
    """Yield (index, dreamed frame, cut) for the kept frames of ``segment``, after the
    ``done`` ones already stored (``resume``: the last of them, which the next is carried
    from); ``cut`` is the colour-histogram distance where the frame starts a new scene, else
    None; ``mask`` as in :func:`inceptionism.video.loops.render_video`.

    ``source`` yields the clip's frames from frame 0; frames before the warm-up are decoded
    only to get past them."""
    begin = segment.first + done  # the first frame to yield
    if done and resume is None:
        raise ValueError("resuming a segment needs its last stored frame")
    prev_frame = prev_dream = None
    weights = mask_tensor(mask, dreamer.device)
    for i, rgb in enumerate(source):
        if i >= segment.stop:
            break
        if i < segment.start or (done and i < begin - 1):
            continue
        frame = to_tensor(rgb).to(dreamer.device)
        if done and i == begin - 1:
            prev_frame, prev_dream = frame, to_tensor(resume).to(dreamer.device)
            continue
        x, carried = video_frame(dreamer.model, frame, prev_frame, prev_dream, cycle.at(i), flow,
                                 video_config(config, flow, i), cancel, dreamer.max_pixels,
                                 weights)
        prev_frame, prev_dream = frame, x
        if i >= segment.first:
            yield i, x, carried.change if carried.cut else None


def done_in(store, segment: Segment) -> int:
    """Kept frames of ``segment`` already stored, counting from its first up to a gap."""
    n = 0
    while segment.first + n < segment.stop and store.path(segment.first + n).is_file():
        n += 1
    return n


@dataclass(frozen=True)
class SegmentJob:
    """One segment, as a worker anywhere needs it (picklable; objectives as spec strings)."""

    segment: Segment
    frames: int  # frames in the whole render (for the cycle)
    objectives: tuple[str | None, ...]
    cycle_every: int | None
    flow: FlowConfig
    config: DreamConfig
    done: int = 0
    resume: np.ndarray | None = None
    mask: np.ndarray | None = None  # (H, W) weights in [0, 1]: where to dream


def run_job(dreamer, source: Iterable[np.ndarray], job: SegmentJob,
            cancel=None) -> Iterator[tuple[int, Tensor, float | None]]:
    cycle = Cycle.spread([dreamer.objective(o) for o in job.objectives], job.frames, job.cycle_every)
    return segment_frames(dreamer, source, job.segment, cycle, job.flow, job.config, job.done,
                          job.resume, job.mask, cancel)


def render_segments(
    dreamer,
    video: Path,
    store,
    frames: int,
    source_id: str,
    segments: int,
    warmup: int = DEFAULT_WARMUP,
    objectives: Sequence[str | None] = (None,),
    flow: FlowConfig = FlowConfig(),
    config: DreamConfig = FRAME_CONFIG,
    cycle_every: int | None = None,
    restart: bool = False,
    on_frame: FrameCallback | None = None,
    runner: Callable | None = None,
    max_pixels: int | None = None,
    mask: np.ndarray | None = None,
    cancel=None,
    on_cut: Callable[[int, float], None] | None = None,
) -> int:
    """Dream the first ``frames`` frames of ``video`` in ``segments`` independent segments
    into ``store`` (resuming each after its stored frames). ``runner(jobs, save, announce)``
    runs the jobs elsewhere (local processes, Ray) and calls ``save(index, rgb, cut)`` for
    each frame it brings back, or ``announce(index)`` for each its workers stored themselves;
    by default they run here, one after another. ``on_cut(index, change)`` hears of each
    frame stored that starts a new scene. Returns the number of frames."""
    config.validate()
    flow.validate()
    if frames < 1:
        raise InceptionismError(f"A video needs at least 1 frame (got {frames}).")
    objectives = tuple(dreamer.objective(o).spec for o in objectives)  # checked here, once
    cycle = Cycle.spread([dreamer.objective(o) for o in objectives], frames, cycle_every)
    # A split render makes other frames than a sequential one (unless K covers every
    # segment), so the split is part of the fingerprint.
    params = fingerprint("video", dreamer, source_id, cycle, config, mask, flow=flow,
                         segments=segments, warmup=warmup)
    store.open(params, restart)
    jobs = []
    first = 0  # frames already stored by an earlier run
    for seg in split(frames, segments, warmup):
        done = done_in(store, seg)
        first += done
        if done < seg.frames:
            resume = store.load(seg.first + done - 1) if done else None
            jobs.append(SegmentJob(seg, frames, objectives, cycle_every, flow, config, done, resume,
                                   mask))
    stored = first

    def announce(index: int) -> None:
        """Frame ``index`` is safely stored (by us or by a worker)."""
        nonlocal stored
        stored += 1
        change = store.cut(index)
        if change is not None:
            on_cut(index, change)
        if on_frame is not None:
            on_frame(FrameInfo(stored - 1, frames, first, cut=change is not None))

    def save(index: int, rgb: np.ndarray, cut: float | None = None) -> None:
        if cut is not None:  # before the frame, as render_video does
            store.mark_cut(index, cut)
        store.save(index, rgb)
        announce(index)

    if runner is None:
        for job in jobs:
            frames_in = read_frames(video, max_pixels or DEFAULT_MAX_PIXELS)
            for i, x, cut in run_job(dreamer, frames_in, job, cancel):
                save(i, to_array(x), cut)
    else:
        runner(jobs, save, announce)
    return frames


# --- running segments elsewhere: local worker processes or Ray (inceptionism.parallel) ------


class SegmentWorker:
    """Dreams segments of one clip with a model loaded once, in a worker process or a Ray
    actor. ``clip``: the video's path, its bytes, or a Ray reference to its bytes (a worker
    on another machine sees none of the driver's files); ``weights`` likewise a path or
    bytes. :meth:`run` writes a segment's frames into the frames folder ``folder``;
    :meth:`stream` yields them, for the driver to store."""

    def __init__(self, model: str, weights: str | bytes | None, device: str, threads: int,
                 clip, max_pixels: int, suffix: str = ".mp4", folder: str | None = None):
        import tempfile

        from ..api import Dreamer
        from ..engine.runtime import use_threads

        use_threads(threads)  # before the Dreamer, whose start-up would otherwise choose its own
        self.tmp = Path(tempfile.mkdtemp(prefix="inceptionism-video-"))
        if isinstance(weights, bytes):
            (self.tmp / "weights.pt").write_bytes(weights)
            weights = str(self.tmp / "weights.pt")
        if not isinstance(clip, (str, Path, bytes)):  # a Ray object reference
            import ray

            clip = ray.get(clip)
        if isinstance(clip, bytes):
            (self.tmp / f"clip{suffix}").write_bytes(clip)
            clip = self.tmp / f"clip{suffix}"
        self.clip, self.max_pixels, self.folder = clip, max_pixels, folder
        self.dreamer = Dreamer(model, weights=weights, device=device, progress=False)

    def frames(self, job: SegmentJob) -> Iterator[tuple[int, Tensor, float | None]]:
        return run_job(self.dreamer, read_frames(self.clip, self.max_pixels), job)

    def run(self, job: SegmentJob) -> int:
        """Dream ``job``, writing its frames (and cut markers) into the frames folder; how
        many were made."""
        from .store import FrameStore

        store = FrameStore(self.folder)
        n = 0
        for i, x, cut in self.frames(job):
            if cut is not None:
                store.mark_cut(i, cut)
            store.save(i, to_array(x))
            n += 1
        return n

    def stream(self, job: SegmentJob) -> Iterator[tuple[int, np.ndarray, float | None]]:
        """(index, uint8 frame, cut) for each kept frame of ``job``, as soon as it is made."""
        for i, x, cut in self.frames(job):
            yield i, (x[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8), cut


def process_runner(video: Path, folder: Path, model: str, weights: str | None, device: str,
                   workers: int, threads: int, max_pixels: int) -> Callable:
    """A ``runner`` for :func:`render_segments` on ``workers`` local processes, which write the
    frames straight into the frames folder; progress is read from the folder."""
    from ..parallel.local import ProcessPool
    from .store import FrameStore

    def run(jobs: list[SegmentJob], save, announce) -> None:
        store = FrameStore(folder)
        expected = {i for job in jobs for i in range(job.segment.first + job.done, job.segment.stop)}

        def stored() -> None:
            for i in sorted(i for i in expected if store.path(i).is_file()):
                expected.discard(i)
                announce(i)

        factory = partial(SegmentWorker, model, weights, device, threads, str(video), max_pixels,
                          folder=str(folder))
        with ProcessPool(factory, workers) as pool:
            for _ in pool.results(iter(jobs), idle=stored):
                pass
        stored()

    return run


def ray_runner(video: Path, address: str | None, model: str, weights: str | None, device: str,
               workers: int | None, threads: int, max_pixels: int) -> Callable:
    """A ``runner`` for :func:`render_segments` on Ray actors: the clip goes to the object
    store once; each segment streams its frames back to the driver, which stores them (so
    the frames folder lives only where the command runs)."""
    from ..parallel.ray import Connection, RayPool

    def run(jobs: list[SegmentJob], save, announce) -> None:
        if not jobs:
            return
        with Connection(address) as ray:
            clip = ray.put(Path(video).read_bytes())  # one copy, read by every actor
            factory = partial(SegmentWorker, model, Path(weights).read_bytes() if weights else None,
                              device, threads, clip, max_pixels, Path(video).suffix)
            with RayPool(factory, address, workers, threads, gpu=device.startswith("cuda"),
                         limit=len(jobs)) as pool:
                for _, item in pool.streams(jobs):
                    if isinstance(item, Exception):
                        raise InceptionismError(
                            f"A Ray worker failed on a video segment ({type(item).__name__}); "
                            "the frames stored so far are kept, and running the same command "
                            "again goes on from there.")
                    index, frame, cut = item
                    save(index, frame.astype(np.float32) / 255, cut)

    return run


def flow_change(frames: Sequence[np.ndarray], inputs: Sequence[np.ndarray], margin: int = 4) -> list[float]:
    """Motion-compensated frame-to-frame change of a dreamed video: for each t >= 1, the mean
    absolute difference (0..1) between dreamed frame t and dreamed frame t-1 warped along the
    input's optical flow, away from the borders (where the flow has nothing to carry). The
    clip's own motion is taken out, so what is left is the dream changing."""
    from ..engine.transforms import warp
    from .flow import optical_flow

    out = []
    for t in range(1, len(frames)):
        flow = optical_flow(to_tensor(inputs[t]), to_tensor(inputs[t - 1]))
        moved = to_array(warp(to_tensor(frames[t - 1]), flow))
        h, w, _ = moved.shape
        diff = np.abs(frames[t] - moved)[margin:h - margin, margin:w - margin]
        out.append(float(diff.mean()))
    return out


def seam_metric(frames: Sequence[np.ndarray], inputs: Sequence[np.ndarray], seams: Sequence[int],
                sequential: Sequence[np.ndarray] | None = None) -> dict:
    """How visible the seams of a split render are, from its frames, the input frames and the
    first frame of each segment but the first (``seams``); all (H, W, 3) floats in [0, 1].

    * ``seam`` / ``within``: mean motion-compensated change (:func:`flow_change`) into the seam
      frames / into every other frame. A seam that shows is a jump: ``seam`` well above
      ``within``.
    * ``strength_seam`` / ``strength_within``: how much the dream differs from the input
      (mean |dream - input|) at the seam frames / elsewhere. A cold start dreams less, so the
      dream fades at a seam and builds up again.
    * with ``sequential`` (the unsplit render), the same ``seam`` change measured on it.
    """
    change = flow_change(frames, inputs)
    seam_set = set(seams)
    at_seams = [change[t - 1] for t in seams if 0 < t < len(frames)]
    within = [c for t, c in enumerate(change, start=1) if t not in seam_set]
    strength = [float(np.abs(f - i).mean()) for f, i in zip(frames, inputs)]
    out = {"seam": float(np.mean(at_seams)) if at_seams else 0.0,
           "within": float(np.mean(within)) if within else 0.0,
           "strength_seam": float(np.mean([strength[t] for t in seams])) if seams else 0.0,
           "strength_within": float(np.mean([s for t, s in enumerate(strength) if t not in seam_set]))}
    if sequential is not None:
        seq = flow_change(sequential, inputs)
        out["sequential_seam"] = float(np.mean([seq[t - 1] for t in seams])) if seams else 0.0
        out["sequential_within"] = float(np.mean([c for t, c in enumerate(seq, start=1)
                                                  if t not in seam_set]))
    return out


__all__ = ["DEFAULT_WARMUP", "Segment", "SegmentJob", "SegmentWorker", "default_warmup", "done_in",
           "process_runner", "ray_runner", "render_segments", "seam_metric", "segment_frames",
           "split"]

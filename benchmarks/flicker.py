"""Flicker of dreamed videos, on synthetic clips whose motion is known exactly.
Not a test: prints figures and writes JSON to benchmarks/results/.

    python -m benchmarks.flicker                 # five clips, five ways, 24 frames each
    python -m benchmarks.flicker --size 256x176 --frames 16
    python -m benchmarks.flicker --sweep         # a grid of carry x temporal strength x jitter
    python -m benchmarks.flicker --gif docs/flicker.gif --frames 36   # per-frame | default

Clips, made from the bundled photos (``inceptionism/data``): ``pan`` (a window sliding 3
pixels a frame over the cat), ``zoom`` (4% a frame into it), ``rotation`` (1.5 degrees a
frame), ``object`` (a patch of the coffee photo crossing the still cat, 4 pixels a frame:
occlusions and disocclusions) and ``cut`` (the pan, then a pan over the coffee photo).
Each frame t is built from its photo by a known map, so the true backward flow (where each
pixel of frame t was in frame t-1) and the pixels that have a past are known.

Ways of dreaming: ``per-frame`` (``carry 0``: each frame on its own), ``previous`` (the
flow carry of 0.6 without the temporal term, cut detection nor coherent jitter: the
default before those existed), ``default`` (``FlowConfig()`` as it is now) and
``fresh-jitter`` (the default with a new jitter seed per frame: what coherent jitter buys)
and ``no-cuts`` (the default without cut detection: what finding the cut buys).

Measures, with D = dreamed - input (the dream's detail) and align(.) = the true motion:

* flicker = mean |D_t - align(D_{t-1})| / mean |D_t| over the pixels with a past, averaged
  over frames 1..n-1 (the cut frame left out); also relative to per-frame dreaming;
* strength = mean |D|, relative to per-frame dreaming;
* after the cut at frame c: the strength of frames c, c+1, c+2 relative to per-frame
  dreaming of the same frames, and the correlation of their detail with the old scene's
  last detail carried on by the old motion (its ghost);
* frames per minute on the pan (one thread, as every dream here): the best of three
  renders of each way, taken in turns, so that other work on a shared machine weighs on all
  alike.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.resources
import json
import math
import os
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from inceptionism import Dreamer
from inceptionism.engine.transforms import sample, to_array, to_tensor, warp
from inceptionism.settings import FRAME_CONFIG, FlowConfig
from inceptionism.video.loops import render_video

RESULTS = Path(__file__).parent / "results"
WAYS = {
    "per-frame": FlowConfig(carry=0.0, temporal=0.0, cut=1.0, coherent=False),
    "previous": FlowConfig(carry=0.6, temporal=0.0, cut=1.0, coherent=False),
    "default": FlowConfig(),
    "fresh-jitter": replace(FlowConfig(), coherent=False),  # the default, a seed per frame
    "no-cuts": replace(FlowConfig(), cut=1.0),  # the default, blind to cuts
}


def photo(name: str) -> Tensor:
    from inceptionism import data

    with Image.open(importlib.resources.files(data) / f"{name}.png") as img:
        return to_tensor(np.asarray(img.convert("RGB"), dtype=np.float32) / 255)


def grid(height: int, width: int) -> Tensor:
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32),
                            torch.arange(width, dtype=torch.float32), indexing="ij")
    return torch.stack((xs, ys), dim=-1)[None]  # (1, H, W, 2) of (x, y)


class Affine:
    """Frame t shows ``source`` at S_t(p) = A_t (p - c) + c + o_t, A_t = R(angle t) / zoom^t."""

    def __init__(self, source: Tensor, size: tuple[int, int], zoom=1.0, angle=0.0,
                 shift=(0.0, 0.0), origin=(0.0, 0.0)):
        self.source, self.size = source, size
        self.zoom, self.angle, self.shift, self.origin = zoom, angle, shift, origin

    def matrix(self, t: int) -> Tensor:
        a = math.radians(self.angle * t)
        s = self.zoom ** -t
        return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * s

    def coords(self, t: int, p: Tensor) -> Tensor:
        h, w = self.size
        c = torch.tensor([(w - 1) / 2, (h - 1) / 2])
        o = torch.tensor([self.origin[0] + self.shift[0] * t, self.origin[1] + self.shift[1] * t])
        centre = torch.tensor([(self.source.shape[-1] - 1) / 2, (self.source.shape[-2] - 1) / 2])
        return (p - c) @ self.matrix(t).T + centre + o

    def frame(self, t: int) -> Tensor:
        return sample(self.source, self.coords(t, grid(*self.size)))

    def flow(self, t: int) -> tuple[Tensor, Tensor]:
        """Backward flow t -> t-1 (1, 2, H, W) and the pixels with a past (H, W) bool."""
        h, w = self.size
        p = grid(h, w)
        c = torch.tensor([(w - 1) / 2, (h - 1) / 2])
        o = torch.tensor([self.origin[0] + self.shift[0] * (t - 1),
                          self.origin[1] + self.shift[1] * (t - 1)])
        centre = torch.tensor([(self.source.shape[-1] - 1) / 2, (self.source.shape[-2] - 1) / 2])
        s = self.coords(t, p) - centre - o
        q = s @ torch.linalg.inv(self.matrix(t - 1)).T + c
        inside = (q[..., 0] >= 0) & (q[..., 0] <= w - 1) & (q[..., 1] >= 0) & (q[..., 1] <= h - 1)
        return (q - p).permute(0, 3, 1, 2), inside[0]


class Crossing:
    """A still photo with a patch of another one crossing it at ``velocity`` pixels a frame."""

    def __init__(self, background: Tensor, patch: Tensor, size, side=40, velocity=(4, 1)):
        h, w = size
        self.background = background[..., 60:60 + h, 100:100 + w]
        self.patch = patch[..., 100:100 + side, 150:150 + side]
        self.side, self.velocity, self.size = side, velocity, size

    def box(self, t: int) -> tuple[int, int]:
        return 8 + self.velocity[0] * t, self.size[0] // 2 - self.side // 2 + self.velocity[1] * t

    def inside(self, t: int) -> Tensor:
        x, y = self.box(t)
        m = torch.zeros(self.size, dtype=torch.bool)
        m[y:y + self.side, x:x + self.side] = True
        return m

    def frame(self, t: int) -> Tensor:
        x, y = self.box(t)
        out = self.background.clone()
        out[..., y:y + self.side, x:x + self.side] = self.patch
        return out

    def flow(self, t: int) -> tuple[Tensor, Tensor]:
        now, before = self.inside(t), self.inside(t - 1)
        flow = torch.zeros(1, 2, *self.size)
        flow[0, 0][now] = -float(self.velocity[0])
        flow[0, 1][now] = -float(self.velocity[1])
        return flow, now | ~before  # uncovered background has no past


class Spliced:
    """Clip ``a`` for ``cut`` frames, then clip ``b``: frame ``cut`` has no past."""

    def __init__(self, a, b, cut: int):
        self.a, self.b, self.cut = a, b, cut

    def frame(self, t: int) -> Tensor:
        return self.a.frame(t) if t < self.cut else self.b.frame(t - self.cut)

    def flow(self, t: int) -> tuple[Tensor, Tensor]:
        if t < self.cut:
            return self.a.flow(t)
        if t == self.cut:
            return self.a.flow(t)[0], torch.zeros(self.a.size, dtype=torch.bool)
        return self.b.flow(t - self.cut)


def clips(size: tuple[int, int], frames: int) -> dict:
    cat, coffee = photo("chelsea"), photo("coffee")
    h, w = size
    return {
        "pan": Affine(cat, size, shift=(3.0, 0.0), origin=(-60.0, 0.0)),
        "zoom": Affine(cat, size, zoom=1.04),
        "rotation": Affine(cat, size, angle=1.5),
        "object": Crossing(cat, coffee, size),
        "cut": Spliced(Affine(cat, size, shift=(3.0, 0.0), origin=(-60.0, 0.0)),
                       Affine(coffee, size, shift=(3.0, 0.0), origin=(-60.0, 0.0)),
                       frames // 2),
    }


class Memory:
    """A frames store in memory (the benchmark keeps no files)."""

    def __init__(self):
        self.frames, self.cut_list = {}, {}

    def open(self, params, restart=False):
        return 0

    def save(self, index, rgb):
        self.frames[index] = rgb.copy()

    def load(self, index):
        return self.frames[index]

    def mark_cut(self, index, change):
        self.cut_list[index] = change


def render(dreamer, clip, frames: int, flow: FlowConfig) -> tuple[list[Tensor], list[Tensor], float, dict]:
    inputs = [clip.frame(t).clamp(0, 1) for t in range(frames)]
    # As a video file would hold them: 8 bits.
    inputs = [(x * 255).round() / 255 for x in inputs]
    store = Memory()
    start = time.perf_counter()
    render_video(dreamer, [to_array(x) for x in inputs], store, frames, "bench", flow=flow,
                 config=FRAME_CONFIG)
    seconds = time.perf_counter() - start
    dreams = [to_tensor(store.frames[t]) for t in range(frames)]
    return inputs, dreams, seconds, store.cut_list


def measure(clip, inputs, dreams, skip=()) -> dict:
    details = [d - x for d, x in zip(dreams, inputs)]
    flicker, strength = [], [float(d.abs().mean()) for d in details]
    for t in range(1, len(details)):
        if t in skip:
            continue
        flow, past = clip.flow(t)
        moved = warp(details[t - 1], flow)
        diff = (details[t] - moved).abs().mean(1)[0][past]
        size = details[t].abs().mean(1)[0][past]
        flicker.append(float(diff.mean() / size.mean()))
    return {"flicker": float(np.mean(flicker)), "strength": float(np.mean(strength)),
            "strength_per_frame": strength, "details": details}


def correlation(a: Tensor, b: Tensor) -> float:
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm() + 1e-12))


def after_cut(clip: Spliced, details: list[Tensor], fresh: list[Tensor]) -> dict:
    """Strength of frames c, c+1, c+2 relative to dreaming them fresh, and the correlation of
    their detail with the old scene's last detail carried on by the old motion."""
    c = clip.cut
    old = details[c - 1]
    out = {"strength_vs_fresh": [], "ghost": []}
    for k in range(3):
        flow, _ = clip.a.flow(c + k)
        old = warp(old, flow)  # where the old scene's detail would be by now
        out["strength_vs_fresh"].append(float(details[c + k].abs().mean() / fresh[c + k].abs().mean()))
        out["ghost"].append(correlation(details[c + k], old))
    return out


def run(dreamer, size, frames, ways: dict, only=None) -> dict:
    results: dict = {}
    for name, clip in clips(size, frames).items():
        if only and name not in only:
            continue
        results[name] = {}
        skip = (clip.cut,) if isinstance(clip, Spliced) else ()
        per = None
        for way, flow in ways.items():
            inputs, dreams, seconds, cuts = render(dreamer, clip, frames, flow)
            m = measure(clip, inputs, dreams, skip)
            if way == "per-frame":
                per = m
            row = {"flicker": m["flicker"], "strength": m["strength"],
                   "flicker_vs_per_frame": m["flicker"] / per["flicker"],
                   "strength_vs_per_frame": m["strength"] / per["strength"],
                   "frames_per_minute": 60 * frames / seconds, "cuts": sorted(cuts)}
            if isinstance(clip, Spliced):
                row.update(after_cut(clip, m["details"], per["details"]))
            results[name][way] = row
            print(f"{name:9s} {way:22s} flicker {row['flicker']:.3f} "
                  f"({row['flicker_vs_per_frame']:.2f}x)  strength {row['strength']:.4f} "
                  f"({row['strength_vs_per_frame']:.2f}x)  {row['frames_per_minute']:.0f} frames/min"
                  + (f"  cuts {row['cuts']}  after the cut: strength "
                     f"{[round(v, 2) for v in row['strength_vs_fresh']]} ghost "
                     f"{[round(v, 2) for v in row['ghost']]}" if 'ghost' in row else ""),
                  flush=True)
    return results


def speed(dreamer, size, frames: int, rounds: int = 3) -> dict:
    """Frames per minute of ``previous`` and ``default`` on the pan: best of ``rounds``."""
    clip = clips(size, frames)["pan"]
    best = {way: math.inf for way in ("per-frame", "previous", "default")}
    for _ in range(rounds):
        for way in best:
            best[way] = min(best[way], render(dreamer, clip, frames, WAYS[way])[2])
    out = {way: 60 * frames / seconds for way, seconds in best.items()}
    out["slowdown_vs_previous"] = best["default"] / best["previous"]
    print("frames per minute on the pan (best of %d): " % rounds
          + ", ".join(f"{w} {v:.0f}" for w, v in out.items() if w in best)
          + f"; the default takes {out['slowdown_vs_previous']:.2f}x the time of the previous",
          flush=True)
    return out


def side_by_side(dreamer, size, frames: int, path: Path, fps: int = 12) -> None:
    """A GIF of the pan: per-frame dreaming on the left, the default on the right."""
    from PIL import ImageDraw

    clip = clips(size, frames)["pan"]
    panels = {way: render(dreamer, clip, frames, WAYS[way])[1] for way in ("per-frame", "default")}
    h, w = size
    pictures = []
    for t in range(frames):
        canvas = Image.new("RGB", (2 * w + 4, h + 14), "white")
        draw = ImageDraw.Draw(canvas)
        for k, (way, dreams) in enumerate(panels.items()):
            rgb = (to_array(dreams[t]) * 255).round().astype(np.uint8)
            canvas.paste(Image.fromarray(rgb), (k * (w + 4), 14))
            draw.text((k * (w + 4) + 2, 1), "per frame (--carry 0)" if k == 0 else "default",
                      fill="black")
        pictures.append(canvas)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=1000 // fps,
                     loop=0, optimize=True)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


def sweep_ways() -> dict:
    ways = {"per-frame": WAYS["per-frame"]}
    for carry in (0.6, 0.9, 0.95, 1.0):
        for temporal in (0.0, 40.0, 80.0, 200.0, 500.0):
            for coherent in (False, True):
                ways[f"c{carry} t{temporal:g}{' coh' if coherent else ''}"] = replace(
                    FlowConfig(), carry=carry, temporal=temporal, coherent=coherent)
    return ways


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="192x128", help="frame size WxH (default 192x128)")
    parser.add_argument("--frames", type=int, default=24, help="frames per clip (default 24)")
    parser.add_argument("--sweep", action="store_true", help="a grid of settings instead")
    parser.add_argument("--clips", default=None, help="comma-separated subset of the clips")
    parser.add_argument("--gif", type=Path, default=None,
                        help="only write a side-by-side GIF of the pan (per-frame | default)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    width, height = (int(v) for v in args.size.split("x"))
    dreamer = Dreamer()
    if args.gif is not None:
        return side_by_side(dreamer, (height, width), args.frames, args.gif)
    ways = sweep_ways() if args.sweep else WAYS
    results = run(dreamer, (height, width), args.frames, ways,
                  args.clips.split(",") if args.clips else None)
    timing = None if args.sweep else speed(dreamer, (height, width), args.frames)
    now = datetime.datetime.now(datetime.timezone.utc)
    out = {"date": now.isoformat(timespec="seconds"), "machine": platform.machine(),
           "processor": platform.processor(), "cpus": os.cpu_count(),
           "load": os.getloadavg(), "size": [width, height], "frames": args.frames,
           "config": asdict(FRAME_CONFIG), "ways": {k: asdict(v) for k, v in ways.items()},
           "results": results, "speed": timing}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"flicker{'-sweep' if args.sweep else ''}-{now:%Y-%m-%d}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

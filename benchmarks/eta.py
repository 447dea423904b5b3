"""How good is a dream's estimate of the time left? Not a test: prints figures.

    python -m benchmarks.eta               # a 1 MP dream (1224x816) with the default settings
    python -m benchmarks.eta --size 640x427 --runs 2

Runs whole dreams, records the time at every step, and afterwards compares, at the end of
each octave (and after the first step), the time left that the progress line showed with
the true time left: the estimate weighted by each octave's pixels (what `inceptionism dream`
shows, :class:`inceptionism.progress.Eta` over ``StepInfo.work``) and, for comparison, the
plain step-count estimate (elapsed / steps done * steps left, a progress bar's default).
Error = estimate / truth - 1.

On a machine shared with other work the wall clock measures the load as much as the dream;
``--clock cpu`` measures this process's CPU time instead (both the estimate and the truth),
which tests the cost model itself (best with ``--threads 1``).
"""

from __future__ import annotations

import argparse
import time

from PIL import Image

from inceptionism import DreamConfig, Dreamer
from inceptionism.progress import Eta


def one_run(dreamer: Dreamer, image: Image.Image, config: DreamConfig, clock) -> list[dict]:
    records = []
    eta = Eta(clock)
    t0 = clock()

    def callback(info) -> None:
        done, total = info.work
        estimate = eta.update(done, total)  # what the progress line shows
        now = clock()
        steps_done = info.octave * info.steps + info.step + 1
        steps_total = info.octaves * info.steps
        records.append({"octave": info.octave, "step": info.step, "steps": info.steps,
                        "size": info.size, "t": now - t0, "weighted": estimate,
                        "by_steps": (now - t0) / steps_done * (steps_total - steps_done)})

    dreamer.dream(image, None, config, callback)
    end = clock() - t0
    for r in records:
        r["truth"] = end - r["t"]
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1224x816", help="WxH of the photo (default: 1 MP)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: seconds as the user sees them; cpu: this process's CPU time")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    width, height = map(int, args.size.split("x"))
    path = "inceptionism/data/chelsea.png"
    image = Image.open(path).convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    dreamer = Dreamer()
    config = DreamConfig()
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = ["?"]
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"ETA error on a {width}x{height} dream ({width * height / 1e6:.2f} MP), default "
          f"settings, {args.clock} clock, {args.threads or 'default'} threads, load average "
          f"{' '.join(load)} at start")
    print(f"{'run':>3} {'after':>24} {'true left':>10} {'weighted':>9} {'error':>7} "
          f"{'by steps':>9} {'error':>7}")
    for run in range(args.runs):
        records = one_run(dreamer, image, config, clock)
        last = records[-1]["octave"]
        marks = [r for r in records if r["step"] == r["steps"] - 1 and r["octave"] < last]
        marks = [records[1]] + marks  # the first estimate shown, then each octave's end
        for r in marks:
            h, w = r["size"]
            where = f"octave {r['octave'] + 1} step {r['step'] + 1} ({w}x{h})"
            err_w = r["weighted"] / r["truth"] - 1
            err_s = r["by_steps"] / r["truth"] - 1
            print(f"{run + 1:>3} {where:>24} {r['truth']:9.1f}s {r['weighted']:8.1f}s "
                  f"{err_w:+7.0%} {r['by_steps']:8.1f}s {err_s:+7.0%}")


if __name__ == "__main__":
    main()

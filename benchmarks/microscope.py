"""Readable feature visualizations: how much activation they keep, how much noise they lose.
Not a test: prints figures and writes JSON to benchmarks/results/.

    python -m benchmarks.microscope                       # 20 channels of b8, 128 px, 128 steps
    python -m benchmarks.microscope --layer b12 --channels 10 --steps 256

For each of ``--channels`` channels of ``--layer`` of the embedded model (EfficientNet-Lite0),
evenly spaced over the layer, every setting optimizes an image from the same seed for
``--steps`` Adam steps with the ``mean=LAYER/CHANNEL`` objective, and measures on the
result (the image itself, untransformed):

* the activation reached: the channel's mean activation;
* the high-frequency share: the share of the image's energy (mean removed) above half the
  Nyquist frequency (0.25 cycles per pixel, radially).

Settings: ``pixel`` (sigmoid of a pixel tensor, no transforms: the naive method),
``fft`` (the default parameterization: 1/f**1.5 spectrum and decorrelated colour, no
transforms), ``lucid`` (lucid's 1/f spectrum, decorrelated colour and its standard
transforms), ``standard`` (the default parameterization with lucid's transforms: the
atlas's default) and ``gentle`` (the default parameterization with a random shift of up
to 4 px per 128: ``visualize``'s default). Each setting's activation and high-frequency
share are divided by pixel's, channel by channel; the median of those ratios is the
figure. The goal: a readable setting keeps at least 80% of the activation with at most a
third of the high-frequency energy.

Runs on one thread (``torch.set_num_threads(1)``), like every dream in this project.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from inceptionism.models import load_model
from inceptionism.engine.objectives import channel_mean
from inceptionism.engine.param import LUCID, PIXEL, READABLE, high_frequency_share
from inceptionism.engine.robustness import gentle, standard
from inceptionism.engine.visualize import visualize

RESULTS = Path(__file__).parent / "results"


def settings(size: int) -> dict:
    return {
        "pixel": (PIXEL, ()),
        "fft": (READABLE, ()),
        "lucid": (LUCID, standard(size)),
        "standard": (READABLE, standard(size)),
        "gentle": (READABLE, gentle(size)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--layer", default="b8")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    with torch.no_grad():
        width = model.features(torch.full((1, 3, 64, 64), 0.5), [args.layer])[args.layer].shape[1]
    n = min(args.channels, width)
    chosen = [round(i * width / n) for i in range(n)]
    configs = settings(args.size)
    rows = []
    t0 = time.time()
    for c in chosen:
        objective = channel_mean(args.layer, c)
        row = {"channel": c}
        for name, (param, transforms) in configs.items():
            start = time.time()
            r = visualize(model, objective, args.size, args.steps, param=param,
                          transforms=transforms, seed=c, lr=args.lr)
            with torch.no_grad():
                act = float(objective(model.features(r.image, objective.layers)))
            row[name] = {"activation": act, "high_frequency": high_frequency_share(r.image),
                         "seconds": time.time() - start}
        rows.append(row)
        print(f"channel {c:4d}  " + "  ".join(
            f"{k}: act {row[k]['activation']:7.2f} hf {row[k]['high_frequency']:.3f}"
            for k in configs), flush=True)
    summary = {}
    for name in configs:
        act = [r[name]["activation"] / r["pixel"]["activation"] for r in rows]
        hf = [r[name]["high_frequency"] / r["pixel"]["high_frequency"] for r in rows]
        summary[name] = {
            "median_activation_ratio": statistics.median(act),
            "median_high_frequency_ratio": statistics.median(hf),
            "mean_activation": statistics.mean(r[name]["activation"] for r in rows),
            "mean_high_frequency": statistics.mean(r[name]["high_frequency"] for r in rows),
            "channels_meeting_goal": sum(a >= 0.8 and h <= 1 / 3 for a, h in zip(act, hf)),
        }
    print(f"\n{args.model} {args.layer}, {n} channels, {args.size} px, {args.steps} steps, "
          f"lr {args.lr}  ({time.time() - t0:.0f} s)")
    print(f"{'setting':10s} {'activation':>10s} {'vs pixel':>9s} {'hf share':>9s} {'vs pixel':>9s} "
          f"{'goal met':>9s}")
    for name, s in summary.items():
        print(f"{name:10s} {s['mean_activation']:10.2f} {s['median_activation_ratio']:9.2f} "
              f"{s['mean_high_frequency']:9.3f} {s['median_high_frequency_ratio']:9.2f} "
              f"{s['channels_meeting_goal']:6d}/{n}")
    now = datetime.datetime.now(datetime.timezone.utc)
    out = {
        "date": now.isoformat(timespec="seconds"),
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "torch": torch.__version__,
                    "python": platform.python_version(), "threads": 1},
        "args": vars(args), "channels": chosen, "rows": rows, "summary": summary,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"microscope-{now:%Y-%m-%d}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

"""inception5h (read from its TensorFlow graph) against the registered googlenet: one
dream step at 1 MP, same run, interleaved. Not a test; prints figures.

    python -m benchmarks.bench_originals            # 1024x1024, 5 rounds
    python -m benchmarks.bench_originals --size 512 --rounds 3

Both networks are GoogLeNet (Inception v1) with about the same FLOPs at a given size;
inception5h has LRNs and real 5x5 convolutions, torchvision's googlenet has batch norms
(folded away by our optimize()) and 3x3 in place of 5x5. Weights are synthetic for both
(inception5h: the parity fixture's graph; googlenet: random): speed does not depend on
them. One step = the engine's `ascent_step` (jitter, forward stopped at the layer,
backward, blur, update), one tile covering the whole image, at each model's classic layer
(mixed4c / inception4c). Variants:

* inception5h fast:  the graph interpreter as `dream` runs it (conv+bias fused, in-place
  ReLUs, channels-last);
* inception5h plain: each op as the file has it, NCHW (the interpreter's rewrites off);
* googlenet fast:    the registered googlenet after optimize() (BN folded, channels-last).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import torch

from inceptionism.engine.loop import ascent_step
from inceptionism.engine.objectives import layer
from inceptionism.models import DreamNet, get_spec, load_model
from inceptionism.models.optimize import optimize
from inceptionism.settings import DreamConfig

GRAPH = Path(__file__).parent.parent / "tests" / "fixtures" / "inception5h_synthetic.pb.gz"


def variants() -> dict[str, tuple[DreamNet, str]]:
    fast5h = optimize(load_model("inception5h", weights=GRAPH))
    plain5h = load_model("inception5h", weights=GRAPH)
    plain5h.net.rewrites = False
    spec = get_spec("googlenet")
    googlenet = optimize(DreamNet(spec.build(), spec.normalization, spec.min_input_size)
                         .eval().requires_grad_(False))
    return {"inception5h fast": (fast5h, "mixed4c"), "inception5h plain": (plain5h, "mixed4c"),
            "googlenet fast": (googlenet, "inception4c")}


def step_seconds(model: DreamNet, name: str, size: int) -> float:
    config = DreamConfig(tile_size=max(size, 32), jitter=32)
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    image = image.contiguous(memory_format=model.memory_format)
    start = time.perf_counter()
    ascent_step(model, image, layer(name), config, random.Random(0))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    models = variants()
    for model, name in models.values():  # warm-up: allocator, oneDNN primitives
        step_seconds(model, name, args.size)
    times: dict[str, list[float]] = {key: [] for key in models}
    for _ in range(args.rounds):  # interleaved, so load changes hit every variant alike
        for key, (model, name) in models.items():
            times[key].append(step_seconds(model, name, args.size))
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    base = statistics.median(times["googlenet fast"])
    print(f"one dream step at {args.size}x{args.size} ({args.size ** 2 / 1e6:.2f} MP), "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}, load {' '.join(load)}")
    for key, values in times.items():
        median = statistics.median(values)
        print(f"  {key:18} median {median * 1000:7.0f} ms  (min {min(values) * 1000:.0f})  "
              f"{median / base:.2f}x googlenet")


if __name__ == "__main__":
    main()

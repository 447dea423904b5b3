"""Does a graph compiler pay for a dream step? One probe, not a test, never in CI.

    python -m benchmarks.compile_probe                      # Inception v3, float32
    python -m benchmarks.compile_probe --model googlenet --layers inception4c

Times the forward and input-gradient pass of one batch of two 432x384 tiles (the batches a
1 MP dream with 512-pixel tiles runs) through the optimized network, eager and under
``torch.compile`` (inductor, fixed shapes), alternating, in one process after both are
warm, and reports the compiler's first call (its compile time; inductor keeps compiled
graphs in a cache on disk, so a second run of this probe starts faster).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--layers", default="Mixed_6a,Mixed_6c")
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()

    import inceptionism  # noqa: F401  (its OpenMP defaults before torch)
    import torch

    from benchmarks.bench import bench_model
    from inceptionism.models.optimize import optimize
    from inceptionism.engine.runtime import start_up

    choice = start_up()
    model, _ = bench_model(args.model)
    fast = optimize(model)
    names = args.layers.split(",")

    def objective(x):
        return sum(a.float().pow(2).mean() for a in fast.features(x, names).values())

    compiled = torch.compile(objective, dynamic=False)
    batch = torch.rand(2, 3, 432, 384, generator=torch.Generator().manual_seed(0))
    batch = batch.contiguous(memory_format=torch.channels_last)

    def step(fn):
        x = batch.clone().requires_grad_(True)
        t = time.perf_counter()
        torch.autograd.grad(fn(x), x)
        return time.perf_counter() - t

    first = step(compiled)
    step(objective)
    times = {"eager": [], "compiled": []}
    for i in range(args.repeats):
        order = (("eager", objective), ("compiled", compiled))
        for label, fn in order if i % 2 else order[::-1]:
            times[label].append(step(fn))
    print(f"{args.model} {args.layers}, 2 tiles of 432x384, float32, threads "
          f"{torch.get_num_threads()} ({choice.reason}), torch {torch.__version__}")
    print(f"  torch.compile's first call (compiling): {first:.1f} s")
    for label, ts in times.items():
        print(f"  {label:9} {1e3 * statistics.median(ts):6.0f} ms median "
              f"({1e3 * min(ts):.0f}-{1e3 * max(ts):.0f}) per forward and input gradient")


if __name__ == "__main__":
    main()

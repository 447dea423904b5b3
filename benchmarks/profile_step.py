"""Where one dream step's time goes: torch.profiler's table of one warm step, grouped into
the rows the README's "Where the time goes" uses. Not a test, never in CI.

    python -m benchmarks.profile_step                                   # Inception v3, float32, 1 MP
    python -m benchmarks.profile_step --precision bfloat16
    python -m benchmarks.profile_step --model googlenet --layers inception4c --precision bfloat16
    python -m benchmarks.profile_step --onednn                          # + oneDNN's own kernel times

With ``--onednn`` it also prints a ceiling: the step's convolution FLOPs over the time
oneDNN's kernels took for the network's convolutions, as a share of the matmul rate measured
in the same process: the most a step built on those kernels could reach if nothing else
took time.

Shares are of the profiled step's self CPU time. torch's profiler sees only the thread
that starts it, so the profiled step runs its tiles in that thread, one after another
(the warm steps before it use the tile workers); run with ``INCEPTIONISM_THREADS=1`` to make
the warm steps, the oneDNN child and the matmul rate single-threaded too, so that all the
figures are of one core. With ``--onednn`` the oneDNN
verbose lines of the profiled step are summed per primitive kind and implementation: the
time convolutions spend in oneDNN's kernels, and in weight and layout reorders.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time
from unittest import mock

GROUPS = {  # row label -> aten ops (self time)
    # models/fused.py: conv + ReLU as one oneDNN op, which also runs a stride-1 convolution's
    # input gradient (transposed kernels); 1x1 convolutions as matrix products
    "convolutions, forward and stride-1 input gradients (oneDNN)": (
        "aten::mkldnn_convolution", "mkldnn::_convolution_pointwise"),
    "convolutions, other input gradients": ("aten::convolution_backward",
                                            "aten::_slow_conv2d_backward"),
    "1x1 convolutions as matrix products, forward and backward": (
        "mkldnn::_linear_pointwise", "aten::addmm", "aten::mm", "aten::_slow_conv2d_forward"),
    "ReLU forward (clamp_min) and backward (threshold_backward)": (
        "aten::clamp_min", "aten::clamp_min_", "aten::threshold_backward"),
    "pooling, forward and backward": (
        "aten::max_pool2d_with_indices", "aten::max_pool2d_with_indices_backward",
        "aten::avg_pool2d", "aten::avg_pool2d_backward"),
    "zero fills, gradient sums at branch points, copies, casts, concatenation": (
        "aten::fill_", "aten::zero_", "aten::add_", "aten::add", "aten::copy_", "aten::cat",
        "aten::_to_copy"),
    "tile gather and gradient scatter (wrapped indexing)": ("aten::index", "aten::_index_put_impl_"),
}
# The first three rows are the kernels (their ops' self time: the computation and the weight
# reorders inside it); everything else is "outside the kernels".
KERNELS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--layers", default="Mixed_6a,Mixed_6c")
    parser.add_argument("--size", default="864,1152", help="H,W (default 1 MP)")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--tile-size", type=int, default=512)
    parser.add_argument("--onednn", action="store_true", help="also oneDNN's kernel times")
    parser.add_argument("--verbose-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import inceptionism  # noqa: F401  (its OpenMP defaults before torch)
    import torch
    from torch.profiler import ProfilerActivity, profile

    from benchmarks.bench import bench_model
    from inceptionism.engine.loop import ascent_step
    from inceptionism.settings import DreamConfig
    from inceptionism.models.optimize import optimize
    from inceptionism.engine.objectives import parse
    from inceptionism.engine.runtime import start_up

    choice = start_up()
    model, _ = bench_model(args.model)
    fast = optimize(model)
    objective = parse(args.layers)
    h, w = (int(v) for v in args.size.split(","))
    image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    config = DreamConfig(tile_size=args.tile_size, precision=args.precision)
    rng = random.Random(0)
    for _ in range(2):  # warm
        ascent_step(fast, image, objective, config, rng)
    if args.verbose_child:  # oneDNN prints with C stdio: flush it around the step's lines
        import ctypes

        libc = ctypes.CDLL(None)
        libc.fflush(None)
        print("@@begin", flush=True)
        ascent_step(fast, image, objective, config, rng)
        libc.fflush(None)
        print("@@end", flush=True)
        return
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ascent_step(fast, image, objective, config, rng)
        times.append(time.perf_counter() - t)
    with mock.patch("inceptionism.engine.runtime.tile_pool", return_value=None), \
            profile(activities=[ProfilerActivity.CPU]) as prof:
        ascent_step(fast, image, objective, config, rng)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    by_name = {e.key: e.self_cpu_time_total for e in events}
    print(f"{args.model} {args.layers} {w}x{h} {args.precision}, tiles {args.tile_size}, "
          f"tile workers {choice.threads} ({choice.reason}); "
          f"warm steps {', '.join(f'{t:.3f}' for t in times)} s; profiled step "
          f"{total / 1e6:.3f} s of self CPU time")
    counted = inside = 0.0
    for i, (label, ops) in enumerate(GROUPS.items()):
        t = sum(by_name.get(op, 0.0) for op in ops)
        counted += t
        inside += t if i < KERNELS else 0.0
        print(f"  {100 * t / total:5.1f}%  {t / 1e3:7.1f} ms  {label}")
    print(f"  {100 * (total - counted) / total:5.1f}%  {(total - counted) / 1e3:7.1f} ms  everything else")
    print(f"inside the convolution and matrix-product kernels (the first {KERNELS} rows): "
          f"{inside / 1e3:.1f} ms; outside them: {(total - inside) / 1e3:.1f} ms")
    print("\ntop ops by self time:")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:12]:
        print(f"  {100 * e.self_cpu_time_total / total:5.1f}%  {e.self_cpu_time_total / 1e3:7.1f} ms  "
              f"{e.count:5d} calls  {e.key}")
    if args.onednn:
        from benchmarks.bench import count_flops, matmul_rate

        by_op = count_flops(ascent_step, fast, image, objective, config, by_op=True)
        flops = sum(n for op, n in by_op.items() if "convolution" in op)
        dtype = torch.bfloat16 if args.precision == "bfloat16" else torch.float32
        rate = matmul_rate(dtype)
        conv_ms, blur_ms = onednn(sys.argv[1:])
        kernels = flops / (conv_ms / 1e3)
        print(f"\nceiling: the step counts {flops / 1e9:.1f} GFLOP in convolutions (forward and "
              f"input gradients; the 1x1 ones run as matrix products are not counted; the "
              f"gradient blur's are under 1%). "
              f"oneDNN's kernels ran the network's convolutions in {conv_ms:.0f} ms, "
              f"{kernels / 1e9:.0f} GFLOP/s: {100 * kernels / rate:.0f}% of this machine's "
              f"{args.precision} matmul rate ({rate / 1e9:.0f} GFLOP/s, {torch.get_num_threads()} "
              f"threads). The blur's depthwise convolutions took another {blur_ms:.0f} ms. With "
              f"every other op free, a step on these kernels could reach no more than that share.")


def onednn(argv: list[str]) -> tuple[float, float]:
    """Print oneDNN's own times for one warm step (run in a child with ONEDNN_VERBOSE);
    return the milliseconds its convolution primitives took for the network, and for the
    gradient blur (depthwise, three channels: ``g3mbN_ic3oc3`` in the problem's descriptor)."""
    import subprocess

    argv = [a for a in argv if a != "--onednn"]
    out = subprocess.run([sys.executable, "-m", "benchmarks.profile_step", *argv, "--verbose-child"],
                         env={**os.environ, "ONEDNN_VERBOSE": "1"}, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    lines = out[out.index("@@begin") + 1:out.index("@@end")]
    sums: dict[tuple[str, str, str], list[float]] = collections.defaultdict(lambda: [0, 0.0])
    blur_ms = 0.0
    for line in lines:
        f = line.strip().split(",")
        if len(f) > 8 and f[2] == "primitive" and f[3] == "exec":
            key = (f[5], f[6], f[7])
            sums[key][0] += 1
            sums[key][1] += float(f[-1])
            if f[5] == "convolution" and f[-2].startswith("g3mb") and "_ic3oc3_" in f[-2]:
                blur_ms += float(f[-1])
    print("\noneDNN's own time in one warm step (another process; kind, implementation, propagation):")
    for key, (n, ms) in sorted(sums.items(), key=lambda kv: -kv[1][1])[:10]:
        print(f"  {ms:7.1f} ms  {n:5d} calls  {' '.join(key)}")
    print(f"  {sum(v[1] for v in sums.values()):7.1f} ms  in all")
    conv_ms = sum(ms for (kind, _, _), (_, ms) in sums.items() if kind == "convolution")
    return conv_ms - blur_ms, blur_ms


if __name__ == "__main__":
    main()

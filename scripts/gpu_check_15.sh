#!/usr/bin/env bash
# Issue 15 on a GPU (about 2-3 minutes; needs python3 + torch with CUDA, run from the repo root):
# 1. `precision auto` resolves to bfloat16 on a GPU that reports bf16 support (and float32
#    for the depthwise EfficientNet-Lite0), and a bf16 Inception v3 dream is as strong as fp32;
# 2. the benchmark suite's step table on CUDA (quick mode, no 8K memory part), so the
#    interleaved timings, bf16-vs-bf16-rate and bandwidth columns run on a GPU too.
set -euo pipefail
OUT=${OUT:-/tmp/gpu_check_15}
mkdir -p "$OUT"
python3 -m pip install -q -e . >/dev/null 2>&1 || true
python3 - <<'PY'
import dataclasses, time, torch
import inceptionism
from benchmarks.bench import bench_model
import benchmarks.bench as bench
from inceptionism.dream import DreamConfig, dream, resolve_precision
from inceptionism.models.optimize import optimize
from inceptionism.objectives import layer
assert torch.cuda.is_available(), "no CUDA device"
dev = torch.device("cuda")
bench.DEVICE = dev
print("gpu:", torch.cuda.get_device_name(dev), "bf16 supported:", torch.cuda.is_bf16_supported())
model, weights = bench_model("inception_v3")
fast = optimize(model)
print("inception_v3 auto ->", resolve_precision("auto", fast))
lite, _ = bench_model("efficientnet_lite0")
print("efficientnet_lite0 auto ->", resolve_precision("auto", optimize(lite)))
obj = layer("Mixed_6a") + layer("Mixed_6c")
x = torch.rand(1, 3, 864, 1152, generator=torch.Generator().manual_seed(0)).to(dev)
cfg = DreamConfig(steps=5)
gains = {}
for p in ("float32", "auto"):
    c = dataclasses.replace(cfg, precision=p)
    dream(fast, x, obj, c)  # warm
    torch.cuda.synchronize(); t = time.perf_counter()
    y = dream(fast, x, obj, c)
    torch.cuda.synchronize(); dt = time.perf_counter() - t
    with torch.no_grad():
        f = lambda im: sum(v.pow(2).mean() for v in model.features(im, ["Mixed_6a", "Mixed_6c"]).values())
        gains[p] = (f(y) / f(x)).item()
    print(f"{p:8} whole dream (4 octaves x 5 steps, 1 MP): {dt:.2f} s, objective gain {gains[p]:.2f}")
print("gain ratio auto/fp32:", round(gains["auto"] / gains["float32"], 3), "(expect 0.8-1.25)")
PY
python3 - <<'PY'
# Tile batches on CUDA (added after the CPU work): a 1 MP Inception v3 step (tiles of 512,
# six of one shape, 384 x 432) with tile_batch 1 and 2, alternating, fp32 and bf16,
# with the peak GPU memory of each; the gradients of the two agree.
import statistics, time, torch
from benchmarks.bench import bench_model
from inceptionism.api import resolve_device
from inceptionism.dream import DreamConfig, objective_gradient
from inceptionism.models.optimize import optimize
from inceptionism.objectives import layer
dev = resolve_device("cuda")
model, _ = bench_model("inception_v3")
fast = optimize(model).to(dev)
obj = layer("Mixed_6a") + layer("Mixed_6c")
x = torch.rand(1, 3, 864, 1152, generator=torch.Generator().manual_seed(0)).to(dev)
for precision in ("float32", "bfloat16"):
    cfg = DreamConfig(precision=precision)
    grads, times, peaks = {}, {1: [], 2: []}, {}
    for rep in range(6):
        for b in (1, 2):
            fast.tile_batch = b
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
            t = time.perf_counter()
            g, _, _ = objective_gradient(fast, x, obj, cfg)
            torch.cuda.synchronize()
            if rep:  # the first pair warms up
                times[b].append(time.perf_counter() - t)
            peaks[b] = torch.cuda.max_memory_allocated() / 2**20
            grads[b] = g
    err = ((grads[2] - grads[1]).abs().max() / grads[1].abs().max()).item()
    if precision == "float32":  # the yardstick: how far CUDA is from the CPU anyway
        ref, _, _ = objective_gradient(optimize(model), x.cpu(), obj, cfg)
        off = ((grads[1].cpu() - ref).abs().max() / ref.abs().max()).item()
        print(f"float32 gradient, CUDA (one by one) vs CPU: max difference {off:.1e} of the largest")
    print(f"{precision}: 1 MP step, tiles one by one {statistics.median(times[1])*1e3:.1f} ms "
          f"({min(times[1])*1e3:.1f}-{max(times[1])*1e3:.1f}), two at a time "
          f"{statistics.median(times[2])*1e3:.1f} ms ({min(times[2])*1e3:.1f}-{max(times[2])*1e3:.1f}); "
          f"peak {peaks[1]:.0f} vs {peaks[2]:.0f} MiB; max gradient difference {err:.1e} of the largest")
fast.tile_batch = 2
PY
timeout 150 python3 -m benchmarks.bench --device cuda --quick --skip memory,dreams \
  --json "$OUT/bench-cuda-quick.json" || echo "bench part stopped (timeout or error)"
echo "results in $OUT"

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
timeout 150 python3 -m benchmarks.bench --device cuda --quick --skip memory,dreams \
  --json "$OUT/bench-cuda-quick.json" || echo "bench part stopped (timeout or error)"
echo "results in $OUT"

"""Dream speed and memory benchmark: prints a table and writes JSON. Not a test.

    python -m benchmarks.bench                  # the standard suite (a few minutes on 2 cores)
    python -m benchmarks.bench --quick          # smaller sizes, for a smoke run
    python -m benchmarks.bench --json out.json  # where the figures go (default: stdout only)

For each model (the default EfficientNet-Lite0 with its real weights, and GoogLeNet-shaped
work with synthetic weights when that architecture is registered) and each image size it
measures one gradient step of

* **ours**: the engine as `inceptionism dream` runs it (forward stopped at the objective's
  layer, batch norms folded, channels-last, tiles of `tile_size`), in float32 and bfloat16;
* **baseline**: a straightforward loop: the forward stopped at the objective's layer,
  float32, default (NCHW) layout, the unmodified model, the whole image at once (no tiles);
* **baseline to logits**: the same, but running the whole network to its logits (as many
  simple scripts do), labelled as such: it counts FLOPs the dream does not need.

The variants are interleaved: each repeat runs every variant once, in a rotating order, so
a change in the machine's load hits them all alike; min / median / max are reported, and
the load average. Each row gives ms per step, megapixel-steps per second, the step's
counted FLOPs (torch's flop counter) as achieved GFLOP/s and as a share of this machine's
matrix-multiply rate *in the same precision* (float32 rows against the float32 rate,
bfloat16 rows against the bfloat16 rate, both measured in the same run), and the bytes its
operations read and write (each op's inputs and outputs, counted by a dispatch mode) as a
share of a measured memory-bandwidth bound: depthwise-heavy networks such as
EfficientNet-Lite are limited by memory traffic, not arithmetic, so for them the matmul
share is the wrong yardstick. (The byte count assumes nothing stays in cache between ops;
tiles do stay in cache, so more than 100% is possible and means the tiling pays.)

It then runs whole dreams at 1 MP (ours vs baseline, with how much the two dreams differ),
reports how step time grows with pixels (as measured, not as hoped), and measures peak
resident memory of an 8K dream in a separate process.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from inceptionism.engine.loop import ascent_step, dream
from inceptionism.engine.objectives import Objective, layer
from inceptionism.engine.transforms import gaussian_blur, roll
from inceptionism.models import DreamNet, get_spec, list_models, load_model
from inceptionism.models.base import DreamNet as _DreamNet
from inceptionism.models.optimize import optimize
from inceptionism.settings import DreamConfig

MP = 1_000_000
DEVICE = torch.device("cpu")  # --device; the suite never needs a GPU


def sync() -> None:
    """Wait for queued GPU work, so wall-clock times mean something (no-op on the CPU)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


# ---------------------------------------------------------------------------- machine
def matmul_rate(dtype: torch.dtype = torch.float32, n: int = 2048, seconds: float = 2.0) -> float:
    """Best sustained FLOP/s of an n x n matrix multiply in ``dtype`` on this machine."""
    a = torch.randn(n, n).to(DEVICE, dtype)
    b = torch.randn(n, n).to(DEVICE, dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sync()
        t = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def memory_bandwidth(mib: int = 256, seconds: float = 1.5) -> float:
    """Best sustained bytes/s of copying a ``mib`` MiB tensor (read + write counted)."""
    a = torch.empty(mib << 18, device=DEVICE).fill_(1.0)
    b = torch.empty_like(a)
    b.copy_(a)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sync()
        t = time.perf_counter()
        b.copy_(a)
        sync()
        best = min(best, time.perf_counter() - t)
    return 2 * a.numel() * a.element_size() / best


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["device"] = str(DEVICE)
    if DEVICE.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(DEVICE)
        info["bf16_supported"] = bool(torch.cuda.is_bf16_supported())
    else:
        info["bf16_supported"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return info


# ---------------------------------------------------------------------------- models
def bench_model(name: str) -> tuple[DreamNet, str]:
    """The registered model with real weights if they are at hand, else synthetic ones."""
    spec = get_spec(name)
    if spec.weights.status() in ("embedded", "cached"):
        return load_model(name, device=DEVICE), "real"
    net = spec.build()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, t in net.state_dict().items():
            if t.is_floating_point():
                if key.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                elif t.dim() >= 2:
                    fan_in = t[0].numel()
                    t.copy_(torch.randn(t.shape, generator=g) * (2 / fan_in) ** 0.5)
                else:
                    t.copy_(0.1 * torch.randn(t.shape, generator=g) + (1 if key.endswith("weight") else 0))
    return _DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False).to(DEVICE), "synthetic"


def size_for(megapixels: float, aspect: float = 4 / 3) -> tuple[int, int]:
    h = round((megapixels * MP / aspect) ** 0.5)
    return h, round(h * aspect)


# ---------------------------------------------------------------------------- steps
def baseline_step(model: DreamNet, image: torch.Tensor, objective: Objective,
                  config: DreamConfig, rng, to_logits: bool = False) -> tuple[torch.Tensor, float]:
    """The straightforward step: roll, forward (stopped at the objective's deepest layer, or
    to the logits), whole image, NCHW, fp32, unmodified model."""
    dy, dx = rng.randint(-config.jitter, config.jitter), rng.randint(-config.jitter, config.jitter)
    x = roll(image, dy, dx).detach().requires_grad_(True)
    acts, h = {}, model.normalize(x)
    for name in model.net.stage_names:
        h = model.net.stage(name)(h)
        if name in objective.layers:
            acts[name] = h
            if len(acts) == len(set(objective.layers)) and not to_logits:
                break
    loss = objective(acts)
    (grad,) = torch.autograd.grad(loss, x)
    grad = gaussian_blur(roll(grad, -dy, -dx), config.smoothing)
    image = (image + config.step_size * grad / (grad.abs().mean() + 1e-8)).clamp(0, 1)
    return image, loss.item()


def baseline_to_logits_step(model, image, objective, config, rng):
    return baseline_step(model, image, objective, config, rng, to_logits=True)


def time_interleaved(variants: dict, image, objective, repeats: int) -> dict[str, list[float]]:
    """Seconds of one step of each variant, ``repeats`` times, interleaved: each round runs
    every variant once (after one warm-up step each), in an order that rotates per round."""
    import random

    names = list(variants)
    state = {n: (image.clone(), random.Random(0)) for n in names}
    for n, (step, m, c) in variants.items():
        step(m, state[n][0], objective, c, state[n][1])
    times = {n: [] for n in names}
    for r in range(repeats):
        for n in names[r % len(names):] + names[:r % len(names)]:
            step, m, c = variants[n]
            img, rng = state[n]
            sync()
            t = time.perf_counter()
            img, _ = step(m, img, objective, c, rng)
            sync()
            times[n].append(time.perf_counter() - t)
            state[n] = (img, rng)
    return times


@functools.cache
def _count_fused_convolutions() -> None:
    """Teach torch's flop counter the fused CPU convolution and matrix product
    (models/fused.py), once."""
    import torch
    from torch.utils.flop_counter import conv_flop_count, register_flop_formula

    @register_flop_formula(torch.ops.mkldnn._convolution_pointwise)
    def _(x_shape, w_shape, *args, out_shape=None, **kwargs) -> int:
        return conv_flop_count(x_shape, w_shape, out_shape, transposed=False)

    @register_flop_formula(torch.ops.mkldnn._linear_pointwise)
    def _(x_shape, w_shape, *args, out_shape=None, **kwargs) -> int:
        return 2 * x_shape[0] * x_shape[1] * out_shape[-1]


def count_flops(step: Callable, model, image, objective, config, by_op: bool = False):
    """FLOPs of one step (``by_op``: a dict from op name to its FLOPs). The counter sees
    only its own thread's operations, so the tiles run in this thread while it counts (the
    tile pool is bypassed)."""
    import random
    from unittest import mock

    from torch.utils.flop_counter import FlopCounterMode

    _count_fused_convolutions()
    with mock.patch("inceptionism.engine.runtime.tile_pool", return_value=None), \
            FlopCounterMode(display=False) as counter:
        step(model, image.clone(), objective, config, random.Random(0))
    if by_op:
        return {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}
    return counter.get_total_flops()


def count_bytes(step: Callable, model, image, objective, config) -> int:
    """Bytes read and written by the step's operations: each aten op's tensor inputs and
    outputs, as if nothing stayed in cache between ops (a bandwidth-bound yardstick)."""
    import random

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class ByteCounter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func.__name__ not in ("detach.default", "view.default", "_unsafe_view.default",
                                     "t.default", "permute.default", "expand.default"):
                seen = set()
                for t in tree_flatten((args, kwargs, out))[0]:
                    if isinstance(t, torch.Tensor) and t.data_ptr() not in seen:
                        seen.add(t.data_ptr())
                        ByteCounter.total += t.numel() * t.element_size()
            return out

    with ByteCounter():
        step(model, image.clone(), objective, config, random.Random(0))
    return ByteCounter.total


# ---------------------------------------------------------------------------- suite
def run_steps(results: dict, models: list[str], sizes: list[float], repeats: int) -> None:
    rates = {"float32": results["machine"]["matmul_fp32_gflops"] * 1e9,
             "bfloat16": results["machine"].get("matmul_bf16_gflops", float("nan")) * 1e9}
    bandwidth = results["machine"]["memory_bandwidth_gbs"] * 1e9
    print(f"\n## One gradient step, {repeats} interleaved repeats (median [min-max]); matmul rates "
          f"fp32 {rates['float32'] / 1e9:.0f}, bf16 {rates['bfloat16'] / 1e9:.0f} GFLOP/s; "
          f"copy bandwidth {bandwidth / 1e9:.1f} GB/s; load {os.getloadavg()[0]:.2f}")
    header = (f"{'model':20} {'MP':>5} {'variant':20} {'ms/step (min-max)':>22} {'MP-steps/s':>10} "
              f"{'GFLOP/step':>10} {'% matmul':>8} {'GB/step':>8} {'% bw':>6} {'vs base':>7}")
    print(header)
    print("-" * len(header))
    for name in models:
        model, weights = bench_model(name)
        fast = optimize(model)
        objective = layer(get_spec(name).default_layers[0])
        config = DreamConfig(precision="float32")  # the rows name their precision
        for mp in sizes:
            h, w = size_for(mp)
            image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(DEVICE)
            variants = {
                "baseline to logits": (baseline_to_logits_step, model, config),
                "baseline": (baseline_step, model, config),
                "ours fp32": (ascent_step, fast, config),
            }
            if results["machine"]["bf16_supported"]:
                variants["ours bf16"] = (ascent_step, fast, dataclasses.replace(config, precision="bfloat16"))
            times = time_interleaved(variants, image, objective, repeats)
            base_t = statistics.median(times["baseline"])
            for variant, (step, m, c) in variants.items():
                t = statistics.median(times[variant])
                flops = count_flops(step, m, image, objective, c)
                nbytes = count_bytes(step, m, image, objective, c)
                rate = rates[c.precision]
                row = {"model": name, "weights": weights, "megapixels": mp, "size": [h, w],
                       "variant": variant, "precision": c.precision, "ms_per_step": 1000 * t,
                       "ms_min": 1000 * min(times[variant]), "ms_max": 1000 * max(times[variant]),
                       "ms_all": [1000 * x for x in times[variant]],
                       "mp_steps_per_s": h * w / MP / t, "gflop_per_step": flops / 1e9,
                       "gflops": flops / t / 1e9, "pct_matmul_same_precision": 100 * flops / t / rate,
                       "gb_per_step": nbytes / 1e9, "pct_bandwidth_bound": 100 * nbytes / bandwidth / t,
                       "speedup_vs_baseline": base_t / t}
                results["steps"].append(row)
                spread = f"{row['ms_per_step']:.0f} [{row['ms_min']:.0f}-{row['ms_max']:.0f}]"
                print(f"{name:20} {mp:5.2f} {variant:20} {spread:>22} {row['mp_steps_per_s']:10.2f} "
                      f"{row['gflop_per_step']:10.1f} {row['pct_matmul_same_precision']:7.1f}% "
                      f"{row['gb_per_step']:8.1f} {row['pct_bandwidth_bound']:5.0f}% "
                      f"{row['speedup_vs_baseline']:6.2f}x", flush=True)


def baseline_dream(model, image, objective, config):
    """The whole dream with the straightforward step (same octaves, steps, jitter)."""
    import random

    from inceptionism.engine.loop import octave_sizes
    from inceptionism.engine.transforms import resize

    rng = random.Random(config.seed)
    sizes = octave_sizes(image.shape[-2], image.shape[-1], config)
    detail = torch.zeros((1, 3) + sizes[0], device=image.device)
    for size in sizes:
        base = resize(image, size)
        dreamed = (base + resize(detail, size)).clamp(0, 1)
        for _ in range(config.steps):
            dreamed, _ = baseline_step(model, dreamed, objective, config, rng)
        detail = dreamed - base
    return dreamed


DREAM_VARIANTS = ("baseline", "ours fp32", "ours fp32 seed 1", "ours bf16")


def dream_photo(megapixels: float) -> torch.Tensor:
    """The sample coffee photo scaled to ``megapixels``, (1, 3, H, W) in [0, 1]."""
    from importlib import resources

    from inceptionism.io.images import load_image
    from inceptionism.engine.transforms import resize

    with resources.as_file(resources.files("inceptionism.data") / "coffee.png") as p:
        photo = torch.from_numpy(load_image(p).rgb).permute(2, 0, 1)[None].contiguous()
    return resize(photo, size_for(megapixels, photo.shape[-1] / photo.shape[-2])).clamp(0, 1)


def one_dream(variant: str, megapixels: float, out: str) -> None:
    """Child process: dream ``variant`` from a cold start, print seconds, save the result."""
    from inceptionism.engine.runtime import start_up

    start_up()  # the parent's count, passed in INCEPTIONISM_THREADS
    model = load_model("efficientnet_lite0", device=DEVICE)
    objective = layer(get_spec("efficientnet_lite0").default_layers[0])
    image = dream_photo(megapixels).to(DEVICE)
    config = DreamConfig(precision="float32")  # the rows name their precision
    sync()
    t = time.perf_counter()
    if variant == "baseline":
        result = baseline_dream(model, image, objective, config)
    else:
        from inceptionism.engine.runtime import start_up

        start_up()  # what `inceptionism dream` does at start-up
        fast = optimize(model)  # counted: it is part of what ours does at start-up
        if variant == "ours fp32 seed 1":
            config = dataclasses.replace(config, seed=1)
        elif variant == "ours bf16":
            config = dataclasses.replace(config, precision="bfloat16")
        result = dream(fast, image, objective, config)
    sync()
    print(time.perf_counter() - t)
    torch.save(result.cpu(), out)


def run_dreams(results: dict, megapixels: float) -> None:
    """Whole dreams, each in a fresh process (as a user runs them: a warm allocator would
    flatter the baseline's large whole-image buffers)."""
    import tempfile
    from pathlib import Path

    print(f"\n## Whole dream at {megapixels} MP, default settings, default model, each in a fresh process")
    model = load_model("efficientnet_lite0")
    name = get_spec("efficientnet_lite0").default_layers[0]
    image = dream_photo(megapixels)
    runs, timings = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in DREAM_VARIANTS:
            if variant == "ours bf16" and not results["machine"]["bf16_supported"]:
                continue
            out = Path(tmp) / "dream.pt"
            proc = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--one-dream", variant,
                                   "--megapixels", str(megapixels), "--out", str(out),
                                   "--device", str(DEVICE)],
                                  capture_output=True, text=True, check=True,
                                  env={**os.environ, "INCEPTIONISM_THREADS": str(torch.get_num_threads())})
            timings[variant] = float(proc.stdout.split()[-1])
            runs[variant] = torch.load(out)

    def strength(y):
        with torch.no_grad():
            return (model.features(y, [name])[name].pow(2).mean()
                    / model.features(image, [name])[name].pow(2).mean()).item()

    ref = runs["baseline"]
    print(f"{'run':18} {'seconds':>8} {'vs base':>8} {'objective gain':>15} {'pixel diff vs baseline':>23}")
    for label, y in runs.items():
        diff = (y - ref).abs().mean().item()
        row = {"run": label, "seconds": timings[label], "speedup": timings["baseline"] / timings[label],
               "objective_gain": strength(y), "mean_abs_diff_vs_baseline": diff,
               "size": list(image.shape[-2:])}
        results["dreams"].append(row)
        print(f"{label:18} {row['seconds']:8.1f} {row['speedup']:7.2f}x {row['objective_gain']:15.2f} "
              f"{diff:23.4f}")
    print("(a different seed is a different dream of the same kind: its pixel difference is the "
          "scale to read the others against)")


def run_scaling(results: dict, sizes: list[float], repeats: int) -> None:
    """Step time against pixels, sizes interleaved round by round; reported as measured."""
    import random

    print(f"\n## Scaling with pixels: ms per step vs pixels, as measured (ours fp32, default model, "
          f"{repeats} interleaved repeats)")
    model = optimize(load_model("efficientnet_lite0", device=DEVICE))
    objective = layer("b10")
    state = {}
    for mp in sizes:
        h, w = size_for(mp)
        state[mp] = (torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(DEVICE),
                     random.Random(0))
        ascent_step(model, state[mp][0], objective, DreamConfig(), state[mp][1])  # warm-up
    times = {mp: [] for mp in sizes}
    for r in range(repeats):
        for mp in sizes[r % len(sizes):] + sizes[:r % len(sizes)]:
            sync()
            t = time.perf_counter()
            ascent_step(model, state[mp][0], objective, DreamConfig(), state[mp][1])
            sync()
            times[mp].append(time.perf_counter() - t)
    base_t, base_mp = statistics.median(times[sizes[0]]), sizes[0]
    for mp in sizes:
        t = statistics.median(times[mp])
        time_ratio, pixel_ratio = t / base_t, mp / base_mp
        row = {"megapixels": mp, "ms_per_step": 1000 * t, "ms_min": 1000 * min(times[mp]),
               "ms_max": 1000 * max(times[mp]), "time_ratio": time_ratio,
               "pixel_ratio": pixel_ratio, "deviation_pct": 100 * (time_ratio / pixel_ratio - 1)}
        results["scaling"].append(row)
        print(f"{mp:6.2f} MP {1000 * t:9.0f} ms [{row['ms_min']:.0f}-{row['ms_max']:.0f}]  time x{time_ratio:5.2f} "
              f"for pixels x{pixel_ratio:5.2f} ({row['deviation_pct']:+.1f}% from proportional)")


def run_memory(results: dict, width: int, height: int, steps: int) -> None:
    """Peak RSS of a whole CLI dream on a width x height photo, in a fresh process."""
    print(f"\n## Peak memory: `inceptionism dream` on a {width}x{height} photo, --steps {steps}")
    import tempfile
    from pathlib import Path

    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.jpg"
        y, x = np.mgrid[0:height, 0:width]
        rgb = np.stack([(x * 255 // width), (y * 255 // height), ((x ^ y) & 255)], -1).astype(np.uint8)
        Image.fromarray(rgb).save(src, quality=90)
        del rgb, x, y
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's size at fork.
        code = ("import sys, time; from inceptionism.cli import main; t = time.time(); "
                "rc = main(sys.argv[1:]); "
                "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
                "print(hwm, time.time() - t); sys.exit(rc)")
        proc = subprocess.run([sys.executable, "-c", code, "dream", str(src), "-o", str(Path(tmp) / "out.jpg"),
                               "--steps", str(steps), "--quiet"], capture_output=True, text=True)
        if proc.returncode != 0:
            print("failed:", proc.stderr.strip())
            return
        kb, seconds = proc.stdout.split()
    row = {"width": width, "height": height, "steps": steps, "peak_rss_mib": int(kb) / 1024,
           "seconds": float(seconds)}
    results["memory"].append(row)
    print(f"peak RSS {row['peak_rss_mib']:.0f} MiB, {row['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: steps,dreams,scaling,memory")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default), cuda, cuda:N or auto; peak memory is measured on the CPU only")
    parser.add_argument("--one-dream", choices=DREAM_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--megapixels", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DEVICE
    from inceptionism.api import resolve_device
    from inceptionism.errors import InceptionismError

    try:
        DEVICE = resolve_device(args.device)
    except InceptionismError as exc:
        sys.exit(f"error: {exc}")
    if args.one_dream:
        one_dream(args.one_dream, args.megapixels, args.out)
        return
    skip = set(filter(None, args.skip.split(",")))
    torch.manual_seed(0)
    from inceptionism.engine.runtime import start_up

    choice = start_up()  # as `inceptionism dream` does: INCEPTIONISM_THREADS=N to fix the count
    results = {"machine": {**machine(), "threads_reason": choice.reason}, "steps": [], "dreams": [], "scaling": [], "memory": []}
    print("# inceptionism benchmark")
    print(json.dumps(results["machine"]))
    results["machine"]["loadavg_at_start"] = os.getloadavg()
    results["machine"]["matmul_fp32_gflops"] = matmul_rate(torch.float32) / 1e9
    if results["machine"]["bf16_supported"]:
        results["machine"]["matmul_bf16_gflops"] = matmul_rate(torch.bfloat16) / 1e9
    results["machine"]["memory_bandwidth_gbs"] = memory_bandwidth() / 1e9
    print(f"matmul fp32 {results['machine']['matmul_fp32_gflops']:.0f} GFLOP/s, bf16 "
          f"{results['machine'].get('matmul_bf16_gflops', float('nan')):.0f} GFLOP/s, copy bandwidth "
          f"{results['machine']['memory_bandwidth_gbs']:.1f} GB/s")
    models = [m for m in ("efficientnet_lite0", "googlenet") if m in list_models()]

    def save() -> None:  # after every part, so a long run interrupted keeps what it measured
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
    if "steps" not in skip:
        run_steps(results, models, [0.25] if args.quick else [0.25, 1, 4], 2 if args.quick else 3)
        save()
    if "dreams" not in skip:
        run_dreams(results, 0.25 if args.quick else 1)
        save()
    if "scaling" not in skip:
        run_scaling(results, [0.25, 1] if args.quick else [1, 4, 16], 2 if args.quick else 3)
        save()
    if "memory" not in skip and DEVICE.type == "cpu":
        run_memory(results, *((1920, 1080, 1) if args.quick else (7680, 4320, 2)))
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    if args.json:
        save()
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

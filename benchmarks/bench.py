"""Dream speed and memory benchmark: prints a table and writes JSON. Not a test.

    python -m benchmarks.bench                  # the standard suite (a few minutes on 2 cores)
    python -m benchmarks.bench --quick          # smaller sizes, for a smoke run
    python -m benchmarks.bench --json out.json  # where the figures go (default: stdout only)

For each model (the default EfficientNet-Lite0 with its real weights, and GoogLeNet-shaped
work with synthetic weights when that architecture is registered) and each image size it
measures one gradient step of

* **ours**: the engine as `inceptionism dream` runs it (forward stopped at the objective's
  layer, batch norms folded, channels-last, tiles of `tile_size`), in float32 and bfloat16;
* **baseline**: a straightforward loop: the full network forward to the logits, float32,
  default (NCHW) layout, the unmodified model, the whole image at once (no tiles).

and reports ms per step, megapixel-steps per second, the step's counted FLOPs (torch's
flop counter) as achieved GFLOP/s and as a share of this machine's float32 matrix-multiply
rate, measured in the same run. It then runs whole dreams at 1 MP (ours vs baseline, with
how much the two dreams differ), checks that time grows linearly with pixels, and measures
peak resident memory of an 8K dream in a separate process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch

from inceptionism.dream import DreamConfig, ascent_step, dream
from inceptionism.models import DreamNet, get_spec, list_models, load_model
from inceptionism.models.base import DreamNet as _DreamNet
from inceptionism.models.optimize import optimize
from inceptionism.objectives import Objective, layer
from inceptionism.transforms import gaussian_blur, roll

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
                  config: DreamConfig, rng) -> tuple[torch.Tensor, float]:
    """The straightforward step: roll, full forward to the logits, whole image, NCHW, fp32."""
    dy, dx = rng.randint(-config.jitter, config.jitter), rng.randint(-config.jitter, config.jitter)
    x = roll(image, dy, dx).detach().requires_grad_(True)
    acts, h = {}, model.normalize(x)
    for name in model.net.stage_names:  # every stage, even past the objective's layer
        h = model.net.stage(name)(h)
        if name in objective.layers:
            acts[name] = h
    loss = objective(acts)
    (grad,) = torch.autograd.grad(loss, x)
    grad = gaussian_blur(roll(grad, -dy, -dx), config.smoothing)
    image = (image + config.step_size * grad / (grad.abs().mean() + 1e-8)).clamp(0, 1)
    return image, loss.item()


def time_steps(step: Callable, model, image, objective, config, repeats: int) -> float:
    """Median seconds of one step, after one warm-up step."""
    import random

    rng = random.Random(0)
    image = image.clone()
    step(model, image, objective, config, rng)
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        image, _ = step(model, image, objective, config, rng)
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def count_flops(step: Callable, model, image, objective, config) -> int:
    import random

    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step(model, image.clone(), objective, config, random.Random(0))
    return counter.get_total_flops()


# ---------------------------------------------------------------------------- suite
def run_steps(results: dict, models: list[str], sizes: list[float], repeats: int,
              rate32: float) -> None:
    print(f"\n## One gradient step (median of {repeats}); matmul fp32 rate {rate32 / 1e9:.0f} GFLOP/s")
    header = (f"{'model':22} {'weights':9} {'MP':>5} {'variant':14} {'ms/step':>9} "
              f"{'MP-steps/s':>10} {'GFLOP/step':>10} {'GFLOP/s':>8} {'% matmul':>8} {'vs base':>7}")
    print(header)
    print("-" * len(header))
    for name in models:
        model, weights = bench_model(name)
        fast = optimize(model)
        objective = layer(get_spec(name).default_layers[0])
        config = DreamConfig()
        for mp in sizes:
            h, w = size_for(mp)
            image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(DEVICE)
            variants = {
                "baseline": (baseline_step, model, config),
                "ours fp32": (ascent_step, fast, config),
            }
            if results["machine"]["bf16_supported"]:
                variants["ours bf16"] = (ascent_step, fast, dataclasses.replace(config, precision="bfloat16"))
            base_t = None
            for variant, (step, m, c) in variants.items():
                t = time_steps(step, m, image, objective, c, repeats)
                flops = count_flops(step, m, image, objective, c)
                base_t = base_t or t
                row = {"model": name, "weights": weights, "megapixels": mp, "size": [h, w],
                       "variant": variant, "ms_per_step": 1000 * t,
                       "mp_steps_per_s": h * w / MP / t, "gflop_per_step": flops / 1e9,
                       "gflops": flops / t / 1e9, "pct_matmul_fp32": 100 * flops / t / rate32,
                       "speedup_vs_baseline": base_t / t}
                results["steps"].append(row)
                print(f"{name:22} {weights:9} {mp:5.2f} {variant:14} {row['ms_per_step']:9.0f} "
                      f"{row['mp_steps_per_s']:10.2f} {row['gflop_per_step']:10.1f} "
                      f"{row['gflops']:8.1f} {row['pct_matmul_fp32']:7.1f}% {row['speedup_vs_baseline']:6.2f}x")


def baseline_dream(model, image, objective, config):
    """The whole dream with the straightforward step (same octaves, steps, jitter)."""
    import random

    from inceptionism.dream import octave_sizes
    from inceptionism.transforms import resize

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
    from inceptionism.transforms import resize

    with resources.as_file(resources.files("inceptionism.data") / "coffee.png") as p:
        photo = torch.from_numpy(load_image(p).rgb).permute(2, 0, 1)[None].contiguous()
    return resize(photo, size_for(megapixels, photo.shape[-1] / photo.shape[-2])).clamp(0, 1)


def one_dream(variant: str, megapixels: float, out: str) -> None:
    """Child process: dream ``variant`` from a cold start, print seconds, save the result."""
    model = load_model("efficientnet_lite0", device=DEVICE)
    objective = layer(get_spec("efficientnet_lite0").default_layers[0])
    image = dream_photo(megapixels).to(DEVICE)
    config = DreamConfig()
    sync()
    t = time.perf_counter()
    if variant == "baseline":
        result = baseline_dream(model, image, objective, config)
    else:
        from inceptionism.runtime import tune_allocator

        tune_allocator()  # what `inceptionism dream` does at start-up
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
                                  capture_output=True, text=True, check=True)
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
    print("\n## Linearity: ms per step vs pixels (ours fp32, default model)")
    model = optimize(load_model("efficientnet_lite0", device=DEVICE))
    objective = layer("b10")
    base = None
    for mp in sizes:
        h, w = size_for(mp)
        image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)).to(DEVICE)
        t = time_steps(ascent_step, model, image, objective, DreamConfig(), repeats)
        base = base or (t, mp)
        time_ratio, pixel_ratio = t / base[0], mp / base[1]
        row = {"megapixels": mp, "ms_per_step": 1000 * t, "time_ratio": time_ratio,
               "pixel_ratio": pixel_ratio, "deviation_pct": 100 * (time_ratio / pixel_ratio - 1)}
        results["scaling"].append(row)
        print(f"{mp:6.2f} MP {1000 * t:9.0f} ms  time x{time_ratio:5.2f} for pixels x{pixel_ratio:5.2f} "
              f"({row['deviation_pct']:+.1f}%)")


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
    results = {"machine": machine(), "steps": [], "dreams": [], "scaling": [], "memory": []}
    print("# inceptionism benchmark")
    print(json.dumps(results["machine"]))
    rate32 = matmul_rate(torch.float32)
    results["machine"]["matmul_fp32_gflops"] = rate32 / 1e9
    if results["machine"]["bf16_supported"]:
        results["machine"]["matmul_bf16_gflops"] = matmul_rate(torch.bfloat16) / 1e9
    models = [m for m in ("efficientnet_lite0", "googlenet") if m in list_models()]
    if "steps" not in skip:
        run_steps(results, models, [0.25] if args.quick else [0.25, 1, 4], 1 if args.quick else 3, rate32)
    if "dreams" not in skip:
        run_dreams(results, 0.25 if args.quick else 1)
    if "scaling" not in skip:
        run_scaling(results, [0.25, 1] if args.quick else [1, 4, 16], 1 if args.quick else 2)
    if "memory" not in skip and DEVICE.type == "cpu":
        run_memory(results, *((1920, 1080, 1) if args.quick else (7680, 4320, 2)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

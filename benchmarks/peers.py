"""Peers benchmark: our engine against TensorFlow's DeepDream tutorial and gordicaleksa's
pytorch-deepdream on the same model, image, schedule and tiles; and how each copes with a
busy machine. Not a test, never in CI.

    python -m benchmarks.peers                 # the full run (about 25 minutes on 2 cores)
    python -m benchmarks.peers --quick         # smaller images, 2 pairs (a few minutes)
    python -m benchmarks.peers --json benchmarks/results/peers-$(date +%F).json

TensorFlow runs in its own environment, never ours (``--tf-python``, default
``.venv-tf/bin/python``; make it with
``python3 -m venv .venv-tf && .venv-tf/bin/pip install tensorflow-cpu==2.21.0``). Without
it the TensorFlow parts are skipped with a note.

Every measurement is a fresh process (as a user runs a dream): it builds the model (not
timed), then times the whole dream (ours: optimizing the network plus dreaming;
TensorFlow: tracing its ``tf.function`` plus dreaming), records the peak resident memory,
and then times single steps at full size, warm. Runs are made in pairs, alternating which
peer goes first, and each pair gives a ratio (their time / ours: above 1 means we are
faster); min / median / max of the ratios are reported, with the load average and the CPU
time other processes used during each run, because this machine may be shared.

Sections:

1. **TensorFlow's tutorial** (``peers_tf.py``): Keras InceptionV3 at ``mixed3`` + ``mixed5``
   against ours at the same blocks (``Mixed_6a`` + ``Mixed_6c``), 1152x864 (1 MP), tiles of
   512, 4 octaves x 10 steps at scale 1.4, synthetic weights on both sides, the same thread
   count on both sides (all usable CPUs). TensorFlow with every tile (``full``) and as
   published (``published``, which dreams on about half of the image: labelled, not the
   comparison).
2. **gordicaleksa/pytorch-deepdream** (``peers_gordic.py``): GoogLeNet ``inception4c``,
   its defaults (600 px wide, 4 levels at 1.3, 10 iterations), and ours on the same.
3. **Contention**: a whole Inception v3 dream idle and beside one competing process
   (``while True: pass``, one core), alternating; ours (tiles on single-threaded workers,
   ``inceptionism/engine/runtime.py``), ours with the competitor starting 3 s after our process
   (once the dream is under way), and TensorFlow.
4. **Float32 floor**: the FLOPs of one full-size step of ours at this machine's float32
   matrix-multiply rate, against TensorFlow's step divided by 1.5 (what the goal asks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HZ = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------- workers
def vm(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(args) -> None:
    """Child process: one peer's measurement, printed as one JSON line."""
    import random

    import numpy as np
    import torch

    from benchmarks.bench import bench_model
    from inceptionism.engine.runtime import start_up

    choice = start_up()
    photo = torch.from_numpy(np.load(args.image)).permute(2, 0, 1)[None].contiguous()
    layers = args.layers.split(",")
    model, weights = bench_model(args.model)
    result = {"peer": args.worker, "model": args.model, "weights": weights, "precision": args.precision,
              "threads": choice.threads, "threads_reason": choice.reason,  # tile workers
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
              "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"), "rss_model_mib": vm("VmRSS")}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    if args.worker == "gordicaleksa":
        from benchmarks import peers_gordic

        dreamed = peers_gordic.dream(model.net, photo, layers, args.octaves, args.octave_scale,
                                     args.steps)
    else:
        from inceptionism.engine.loop import ascent_step, dream
        from inceptionism.settings import DreamConfig
        from inceptionism.models.optimize import optimize
        from inceptionism.engine.objectives import parse

        objective = parse(args.layers)  # "a,b": the sum of the layers' objectives
        config = DreamConfig(octaves=args.octaves, octave_scale=args.octave_scale,
                             steps=args.steps, tile_size=args.tile_size, precision=args.precision)
        fast = optimize(model, consume=True)  # counted: what a Dreamer does with the model it loads
        dreamed = dream(fast, photo, objective, config)
    result["dream_s"] = time.perf_counter() - t
    result["threads_after_dream"] = torch.get_num_threads()  # the load may have changed it
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result["dream_cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    result["peak_rss_mib"] = vm("VmHWM")
    result["dream_mean"] = float(dreamed.mean())
    if args.save:
        from PIL import Image

        Image.fromarray((dreamed[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")).save(args.save)

    rng = random.Random(1)
    times = []
    if args.worker == "gordicaleksa":
        from benchmarks import peers_gordic

        x = (photo - peers_gordic.MEAN) / peers_gordic.STD
        for i in range(args.step_repeats + 1):
            t = time.perf_counter()
            x = peers_gordic.step(model.net, x, layers, 5, args.steps, rng)
            times.append(time.perf_counter() - t)
    else:
        image = photo.clone()
        for _ in range(args.step_repeats + 1):
            t = time.perf_counter()
            ascent_step(fast, image, objective, config, rng)
            times.append(time.perf_counter() - t)
    result["step_s"] = times[1:]  # the first is a warm-up
    result["peak_rss_after_steps_mib"] = vm("VmHWM")
    print(json.dumps(result))


# ---------------------------------------------------------------------------- parent
def cpu_busy_jiffies() -> int:
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:9]]
    return sum(v) - v[3] - v[4]


def proc_cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    except OSError:
        return 0.0


class Competitor:
    """One busy process (a Python busy loop: one core), started and stopped by us. With
    ``delay`` it starts idle and begins its loop ``delay`` seconds later: the measured
    process has then already chosen its threads on an idle machine."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def __enter__(self):
        code = f"import time; time.sleep({self.delay})\nwhile True: pass"
        self.proc = subprocess.Popen([sys.executable, "-c", code])
        if not self.delay:
            time.sleep(1.0)  # let it take its core, and the load show it
        return self

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def run_child(cmd: list[str], env: dict, competitor: Competitor | None = None) -> dict:
    """Run one measurement; add the load and other processes' CPU during it."""
    load0 = os.getloadavg()
    busy0, child0 = cpu_busy_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN)
    comp0 = competitor.cpu_s() if competitor else 0.0
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{proc.stderr[-2000:]}")
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (child1.ru_utime - child0.ru_utime) + (child1.ru_stime - child0.ru_stime)
    comp_cpu = (competitor.cpu_s() - comp0) if competitor else 0.0
    busy = (cpu_busy_jiffies() - busy0) / HZ
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update(wall_s=wall, process_cpu_s=child_cpu, competitor_cpu_s=comp_cpu,
               other_processes_cpu_s=max(0.0, busy - child_cpu - comp_cpu),
               loadavg_before=load0[0], loadavg_after=os.getloadavg()[0])
    row["step_median_s"] = statistics.median(row["step_s"])
    return row


def spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def fmt(s: dict) -> str:
    return f"{s['median']:.2f}x (min {s['min']:.2f}, max {s['max']:.2f}, n={s['n']})"


def save_photo(path: Path, size: tuple[int, int]) -> None:
    from importlib import resources

    import numpy as np
    import torch

    from inceptionism.io.images import load_image
    from inceptionism.engine.transforms import resize

    with resources.as_file(resources.files("inceptionism.data") / "coffee.png") as p:
        photo = torch.from_numpy(load_image(p).rgb).permute(2, 0, 1)[None].contiguous()
    photo = resize(photo, size).clamp(0, 1)
    np.save(path, photo[0].permute(1, 2, 0).numpy().astype(np.float32))


def compare(title: str, runners: dict, pairs: int, results: list, key_ours: str) -> dict:
    """Alternate the runners ``pairs`` times (rotating which goes first); ratios vs ours."""
    print(f"\n## {title}")
    names = list(runners)
    rows = {n: [] for n in names}
    for i in range(pairs):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            row = runners[name]()
            row.update(section=title, label=name, pair=i)
            rows[name].append(row)
            results.append(row)
            print(f"  pair {i} {name:34} dream {row.get('dream_s', float('nan')):7.2f} s  "
                  f"step {row['step_median_s']:6.3f} s  peak {row.get('peak_rss_mib', float('nan')):6.0f} MiB  "
                  f"threads {row.get('threads', row.get('intra_op_threads'))}  load {row['loadavg_before']:.2f}  "
                  f"others {row['other_processes_cpu_s']:.1f} s CPU", flush=True)
    summary = {}
    for name in names:
        if name == key_ours:
            continue
        pairs_ = list(zip(rows[name], rows[key_ours]))  # above 1: `name` is slower than ours
        summary[name] = {
            "dream_ratio": spread([a["dream_s"] / b["dream_s"] for a, b in pairs_]),
            "step_ratio": spread([a["step_median_s"] / b["step_median_s"] for a, b in pairs_]),
            "peak_memory_ratio": spread([a["peak_rss_mib"] / b["peak_rss_mib"] for a, b in pairs_]),
            "dream_working_memory_ratio": spread(
                [(a["peak_rss_mib"] - a["rss_model_mib"]) / (b["peak_rss_mib"] - b["rss_model_mib"])
                 for a, b in pairs_]),
        }
        s = summary[name]
        print(f"  {name} / {key_ours}: whole dream {fmt(s['dream_ratio'])}; step {fmt(s['step_ratio'])}; "
              f"peak memory {fmt(s['peak_memory_ratio'])}; dream working memory "
              f"{fmt(s['dream_working_memory_ratio'])}")
    for name in names:
        r = rows[name]
        summary.setdefault("absolute", {})[name] = {
            "dream_s": spread([x["dream_s"] for x in r]), "step_s": spread([x["step_median_s"] for x in r]),
            "peak_rss_mib": spread([x["peak_rss_mib"] for x in r])}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="half-size images, 2 pairs")
    parser.add_argument("--pairs", type=int, help="pairs per comparison (default 3; --quick 2)")
    parser.add_argument("--json", help="write the results here (default: benchmarks/results/peers-DATE.json)")
    parser.add_argument("--tf-python", default=str(ROOT / ".venv-tf" / "bin" / "python"))
    parser.add_argument("--skip", default="", help="comma list: tensorflow,gordicaleksa,contention,floor")
    # worker mode (internal)
    parser.add_argument("--worker", choices=("ours", "gordicaleksa"), help=argparse.SUPPRESS)
    parser.add_argument("--model", default="inception_v3", help=argparse.SUPPRESS)
    parser.add_argument("--layers", default="Mixed_6a,Mixed_6c", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--octaves", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--octave-scale", type=float, default=1.4, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--tile-size", type=int, default=512, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--step-repeats", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    from inceptionism.engine.runtime import usable_cpus

    skip = set(filter(None, args.skip.split(",")))
    pairs = args.pairs or (2 if args.quick else 3)
    cpus = usable_cpus()
    tf_python = Path(args.tf_python)
    have_tf = tf_python.exists() and "tensorflow" not in skip
    if not tf_python.exists():
        print(f"note: {tf_python} not found; TensorFlow parts skipped (see this module's docstring)")
    import torch

    results = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                           "cpus": cpus, "processor": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                                            if l.startswith("model name")), platform.machine()),
                           "loadavg_at_start": os.getloadavg()},
               "quick": args.quick, "pairs": pairs, "runs": [], "summary": {}}
    print("# peers benchmark")
    print(json.dumps(results["machine"]))
    tmp = Path(tempfile.mkdtemp(prefix="peers-"))
    big = (432, 576) if args.quick else (864, 1152)
    small = (200, 300) if args.quick else (400, 600)
    save_photo(tmp / "big.npy", big)
    save_photo(tmp / "small.npy", small)
    py = sys.executable
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_NUM_THREADS",
                          "INCEPTIONISM_THREADS")}
    schedule = ["--octaves", "4", "--octave-scale", "1.4", "--steps", "10", "--tile-size", "512"]
    out = Path(args.json) if args.json else ROOT / "benchmarks" / "results" / (
        f"peers-{time.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}.json")

    def save() -> None:  # after every section: a long run stopped early keeps what it measured
        results["machine"]["loadavg_at_end"] = os.getloadavg()
        out.write_text(json.dumps(results, indent=1))

    def ours(image, env, model="inception_v3", layers="Mixed_6a,Mixed_6c", sched=schedule, competitor=None,
             precision="float32"):
        return lambda: run_child([py, "-m", "benchmarks.peers", "--worker", "ours", "--model", model,
                                  "--layers", layers, "--image", str(image), *sched,
                                  "--precision", precision], env, competitor)

    def tf(tiling, threads=cpus, competitor=None):
        cmd = [str(tf_python), str(ROOT / "benchmarks" / "peers_tf.py"), "--image", str(tmp / "big.npy"),
               "--tiling", tiling, "--threads", str(threads), "--octaves", "4", "--octave-scale", "1.4",
               "--steps", "10", "--tile-size", "512"]
        return lambda: run_child(cmd, clean, competitor)

    if have_tf:
        runners = {"ours": ours(tmp / "big.npy", clean), "tensorflow (full tiling)": tf("full"),
                   "tensorflow (published tiling)": tf("published"),
                   "ours, precision auto": ours(tmp / "big.npy", clean, precision="auto")}
        results["summary"]["tensorflow"] = compare(
            f"TensorFlow's tutorial loop vs ours: Inception v3 mixed3+mixed5, {big[1]}x{big[0]}, "
            f"tiles 512, 4 octaves x 10 steps at 1.4; threads: ours {cpus} tile workers, TensorFlow {cpus}",
            runners, pairs, results["runs"], "ours")
        save()
    if "gordicaleksa" not in skip:
        g_sched = ["--octaves", "4", "--octave-scale", "1.3", "--steps", "10", "--tile-size", "512"]
        runners = {
            "ours": ours(tmp / "small.npy", clean, "googlenet", "inception4c", g_sched),
            "gordicaleksa": lambda: run_child(
                [py, "-m", "benchmarks.peers", "--worker", "gordicaleksa", "--model", "googlenet",
                 "--layers", "inception4c", "--image", str(tmp / "small.npy"), *g_sched], clean),
        }
        results["summary"]["gordicaleksa"] = compare(
            f"gordicaleksa/pytorch-deepdream vs ours: GoogLeNet inception4c, {small[1]}x{small[0]}, "
            f"4 levels x 10 iterations at 1.3; threads: ours {cpus} tile workers",
            runners, pairs, results["runs"], "ours")
        save()
    if "contention" not in skip:
        cimg = tmp / "contention.npy"
        csize = (360, 480) if args.quick else (480, 640)
        save_photo(cimg, csize)
        variants = {"ours": lambda c: ours(cimg, clean, competitor=c),
                    "ours, competitor arriving after start-up": lambda c: ours(cimg, clean, competitor=c)}
        delays = {"ours, competitor arriving after start-up": 3.0}
        if have_tf:
            variants["tensorflow (full tiling)"] = lambda c: (lambda: run_child(
                [str(tf_python), str(ROOT / "benchmarks" / "peers_tf.py"), "--image", str(cimg),
                 "--tiling", "full", "--octaves", "4", "--octave-scale", "1.4", "--steps", "10",
                 "--tile-size", "512"], clean, c))
        print(f"\n## Contention: a whole Inception v3 dream at {csize[1]}x{csize[0]}, idle vs beside one "
              f"busy process, alternating (loaded / idle; 2.00x or less is the goal)")
        summary = {}
        for label, make in variants.items():
            idle, loaded = [], []
            for i in range(pairs):
                for kind in (("idle", "loaded") if i % 2 == 0 else ("loaded", "idle")):
                    if kind == "idle":
                        row = make(None)()
                        idle.append(row)
                    else:
                        with Competitor(delays.get(label, 0.0)) as c:
                            row = make(c)()
                        loaded.append(row)
                    row.update(section="contention", label=label, kind=kind, pair=i)
                    results["runs"].append(row)
                    print(f"  {label:38} {kind:6} dream {row['dream_s']:7.2f} s  step {row['step_median_s']:6.3f} s  "
                          f"threads {row.get('threads', row.get('intra_op_threads'))}  cpu {row['process_cpu_s']:.0f} s  "
                          f"load {row['loadavg_before']:.2f}  others {row['other_processes_cpu_s']:.1f} s "
                          f"(+competitor {row['competitor_cpu_s']:.1f} s)", flush=True)
            s = {"dream_loaded_over_idle": spread([b["dream_s"] / a["dream_s"] for a, b in zip(idle, loaded)]),
                 "step_loaded_over_idle": spread([b["step_median_s"] / a["step_median_s"] for a, b in zip(idle, loaded)])}
            summary[label] = s
            results["summary"]["contention"] = summary
            save()
            print(f"  {label}: whole dream loaded/idle {fmt(s['dream_loaded_over_idle'])}; "
                  f"step {fmt(s['step_loaded_over_idle'])}")
    if "floor" not in skip:
        results["floor"] = floor(tmp / "big.npy", results["summary"].get("tensorflow", {}))
        save()
    save()
    print(f"\nwrote {out}")


def floor(image: Path, tf_summary: dict) -> dict:
    """What the float32 goal asks of this CPU: the FLOPs of one full-size step of ours
    (torch's flop counter: the convolutions forward and their input gradients), divided by
    this machine's float32 matrix-multiply rate measured now, is the least time any engine
    doing that arithmetic can take; compare it with TensorFlow's step divided by 1.5."""
    import random

    import numpy as np
    import torch

    from benchmarks.bench import bench_model, count_flops, matmul_rate
    from inceptionism.engine.loop import ascent_step
    from inceptionism.settings import DreamConfig
    from inceptionism.models.optimize import optimize
    from inceptionism.engine.objectives import parse
    from inceptionism.engine.runtime import start_up

    start_up()
    photo = torch.from_numpy(np.load(image)).permute(2, 0, 1)[None].contiguous()
    model, _ = bench_model("inception_v3")
    fast = optimize(model)
    objective = parse("Mixed_6a,Mixed_6c")
    config = DreamConfig(tile_size=512)
    flops = count_flops(lambda m, i, o, c, r: ascent_step(m, i, o, c, r), fast, photo, objective, config)
    rate = matmul_rate(torch.float32)
    row = {"gflop_per_step": flops / 1e9, "matmul_fp32_gflops": rate / 1e9,
           "least_step_s_at_matmul_rate": flops / rate, "threads": torch.get_num_threads()}
    tf_step = tf_summary.get("absolute", {}).get("tensorflow (full tiling)", {}).get("step_s", {}).get("median")
    print(f"\n## Float32 floor: one {photo.shape[-1]}x{photo.shape[-2]} step of ours counts "
          f"{flops / 1e9:.1f} GFLOP; at this machine's float32 matmul rate ({rate / 1e9:.0f} GFLOP/s, "
          f"{torch.get_num_threads()} threads) that is at least {flops / rate:.3f} s")
    if tf_step:
        row.update(tensorflow_step_s=tf_step, goal_step_s=tf_step / 1.5,
                   goal_gflops_needed=flops / (tf_step / 1.5) / 1e9)
        print(f"  TensorFlow's step (median) {tf_step:.3f} s; 1.5x faster is {tf_step / 1.5:.3f} s, which needs "
              f"{row['goal_gflops_needed']:.0f} GFLOP/s: {100 * row['goal_gflops_needed'] / (rate / 1e9):.0f}% "
              f"of the matmul rate for the whole step")
    return row


if __name__ == "__main__":
    main()

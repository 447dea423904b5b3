"""Batch and segment benchmark: prints figures and writes JSON. Not a test.

    python -m benchmarks.scaling                      # 24 photos; 1 and 2 workers; Ray; seams
    python -m benchmarks.scaling --photos 8 --rounds 1  # a smoke run
    python -m benchmarks.scaling --json out.json

Measures, on this machine:

1. **Images per minute** for a batch of N photos (crops of the two sample photos, 200x150,
   the default still-dream recipe) with one worker (all cores as threads; and one thread),
   two local worker processes (cores shared out) and Ray (a local cluster, one actor per
   core, one thread each). Every
   configuration starts from an empty output folder, and each is run ``--rounds`` times in
   turn (interleaved, so a change in the machine's load hits them alike); the load average is
   recorded with each run.
2. **Ray's overhead**: cluster start-up, actor start-up (model load), and per image the
   driver's wall time minus the workers' own dream time; the bytes each image sends (input)
   and brings back (encoded output).
3. **The seam metric** of ``video --segments`` for warm-up K = 0, 4 and 8 (3 segments of a
   36-frame clip), against the sequential render (``inceptionism.video.segments.seam_metric``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inceptionism.io.batch import discover, read_manifest
from inceptionism.jobs.batch import drive, make_spec, photo_backend
from inceptionism.jobs.recipe import Recipe
from inceptionism.settings import DreamConfig

RECIPE = Recipe(model="efficientnet_lite0", objective="b10", config=DreamConfig())
# Local: one process with all cores as threads, one with one thread, two processes sharing
# the cores; Ray: one actor per core, one thread each.
CONFIGS = ("1 worker, all threads", "1 worker, 1 thread", "2 workers", "ray")
SIZE = (200, 150)  # photo size: small, so the whole suite fits in minutes on 2 busy cores


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def make_photos(folder: Path, n: int) -> None:
    """N different crops of the two sample photos (JPEG, as a camera would give)."""
    folder.mkdir(parents=True)
    sources = []
    for name in ("chelsea", "coffee"):
        with Image.open(resources.files("inceptionism.data") / f"{name}.png") as img:
            sources.append(img.convert("RGB"))
    for i in range(n):
        src = sources[i % 2]
        w, h = src.size
        x = (i * 37) % (w - SIZE[0])
        y = (i * 23) % (h - SIZE[1])
        src.crop((x, y, x + SIZE[0], y + SIZE[1])).save(folder / f"photo{i:03d}.jpg", quality=92)


def run_config(name: str, photos: Path, out: Path, cores: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    items = discover([photos])
    t0 = time.perf_counter()
    load0 = loadavg()
    extra = {}
    if name.startswith("1 worker"):
        spec = make_spec(RECIPE, ".png", "embedded", threads=1 if "1 thread" in name else cores)
        backend = photo_backend(spec)
    elif name == "2 workers":
        spec = make_spec(RECIPE, ".png", "embedded", threads=max(1, cores // 2))
        backend = photo_backend(spec, 2)
    else:

        spec = make_spec(RECIPE, ".png", "embedded", threads=1)
        ray_backend = photo_backend(spec, workers=cores, ray="")

        class Timed:  # time the actors' start-up (model load) apart from the photos
            def __enter__(self):
                t = time.perf_counter()
                ray_backend.__enter__()
                extra["actor_start_s"] = time.perf_counter() - t
                return self

            def __exit__(self, *exc):
                return ray_backend.__exit__(*exc)

            def results(self, tasks):
                return ray_backend.results(tasks)

        backend = Timed()
    summary = drive(items, out, spec, backend)
    wall = time.perf_counter() - t0
    entries = read_manifest(summary.manifest)
    worker_s = sum(e["seconds"] for e in entries)
    assert summary.done == len(items), summary
    in_bytes = sum(p.stat().st_size for p in photos.iterdir())
    out_bytes = sum(Path(e["output"]).stat().st_size for e in entries)
    return {"config": name, "photos": len(items), "wall_s": wall,
            "images_per_min": len(items) * 60 / wall,
            "worker_dream_s_mean": worker_s / len(items),
            "input_bytes_mean": in_bytes / len(items), "output_bytes_mean": out_bytes / len(items),
            "load_start": load0, "load_end": loadavg(), **extra}


def overhead_figures(photos: Path, out: Path, cores: int) -> dict:
    """The cost of moving a photo through each backend without dreaming it (0 steps): read,
    hash, send, decode, encode, bring back, write. Ray's minus the one-process figure is what
    Ray itself adds per image."""
    recipe = Recipe(model="efficientnet_lite0", objective="b10",
                    config=DreamConfig(octaves=1, steps=0))
    figures = {}
    for name in ("1 worker, 1 thread", "ray"):
        shutil.rmtree(out, ignore_errors=True)
        spec = make_spec(recipe, ".png", "embedded", threads=1)
        if name == "ray":

            backend = photo_backend(spec, workers=1, ray="")  # one actor: the round trip, not parallelism
            backend.__enter__()  # actor start-up kept out of the per-image figure
            opened = backend

            class Started:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    opened.__exit__(*exc)

                def results(self, tasks):
                    return opened.results(tasks)

            backend = Started()
        else:
            backend = photo_backend(spec)
        items = discover([photos])
        t = time.perf_counter()
        drive(items, out, spec, backend)
        figures[name] = (time.perf_counter() - t) / len(items)
    figures["ray_minus_local_s"] = figures["ray"] - figures["1 worker, 1 thread"]
    return figures


def seam_figures(frames: int = 36, segments: int = 3) -> dict:
    from inceptionism.api import Dreamer
    from inceptionism.video.store import FrameStore, file_digest
    from inceptionism.video.codec import ffmpeg_exe, read_frames
    from inceptionism.video.segments import render_segments, seam_metric, split
    from inceptionism.video.loops import render_video

    tmp = Path(tempfile.mkdtemp())
    clip = tmp / "clip.mp4"
    with Image.open(resources.files("inceptionism.data") / "chelsea.png") as img:
        rgb = np.asarray(img.convert("RGB"))
    w, h, dx, dy = 160, 120, 3, 1
    raw = b"".join(np.ascontiguousarray(rgb[dy * t:dy * t + h, dx * t:dx * t + w]).tobytes()
                   for t in range(frames))
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{w}x{h}", "-r", "12", "-i", "-", "-c:v", "libx264", "-crf", "12",
                    "-pix_fmt", "yuv420p", str(clip)], input=raw, check=True)
    dreamer = Dreamer()
    inputs = list(read_frames(clip))
    seq_store = FrameStore(tmp / "seq")
    t = time.perf_counter()
    render_video(dreamer, read_frames(clip), seq_store, frames, file_digest(clip))
    seq_s = time.perf_counter() - t
    sequential = [seq_store.load(i) for i in range(frames)]
    seams = [s.first for s in split(frames, segments, 0)][1:]
    out = {"frames": frames, "segments": segments, "size": f"{w}x{h}", "seams": seams,
           "sequential_s": seq_s, "by_warmup": {}}
    for k in (0, 4, 8):
        store = FrameStore(tmp / f"k{k}")
        t = time.perf_counter()
        render_segments(dreamer, clip, store, frames, file_digest(clip), segments, k)
        seconds = time.perf_counter() - t
        made = [store.load(i) for i in range(frames)]
        out["by_warmup"][k] = {**seam_metric(made, inputs, seams, sequential), "seconds": seconds}
    shutil.rmtree(tmp)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-seams", action="store_true")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=CONFIGS,
                        help="which batch configurations to run (default: all)")
    parser.add_argument("--only-extra", action="store_true",
                        help="only the 0-step round trip and the seam metric")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    base = Path(tempfile.mkdtemp())
    make_photos(base / "photos", args.photos)
    report: dict = {"machine": {"cpus": cores, "platform": platform.platform(),
                                "torch": torch.__version__}, "runs": []}
    import ray

    t = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1")
    report["ray_cluster_start_s"] = time.perf_counter() - t
    print(f"Ray local cluster started in {report['ray_cluster_start_s']:.1f} s")
    try:
        for r in range(0 if args.only_extra else args.rounds):
            for name in args.configs:
                run = run_config(name, base / "photos", base / "out", cores)
                run["round"] = r
                report["runs"].append(run)
                print(f"round {r} {name:10}: {run['images_per_min']:6.1f} images/min "
                      f"({run['wall_s']:.1f} s; a worker's dream {run['worker_dream_s_mean']:.2f} s/image; "
                      f"load {run['load_start']:.1f}->{run['load_end']:.1f})"
                      + (f"; actors started in {run['actor_start_s']:.1f} s" if "actor_start_s" in run else ""))
        report["zero_step_s_per_image"] = overhead_figures(base / "photos", base / "out0", cores)
        print("0-step round trip per image:", json.dumps(report["zero_step_s_per_image"]))
    finally:
        ray.shutdown()
    summary = {}
    for name in args.configs if report["runs"] else ():
        runs = [r for r in report["runs"] if r["config"] == name]
        summary[name] = {"images_per_min_median": statistics.median(r["images_per_min"] for r in runs),
                         "worker_dream_s_mean": statistics.mean(r["worker_dream_s_mean"] for r in runs)}
    ray_runs = [r for r in report["runs"] if r["config"] == "ray"]
    two = [r for r in report["runs"] if r["config"] == "2 workers"]
    if ray_runs and two:
        per_image_ray = statistics.median(r["wall_s"] / r["photos"] for r in ray_runs)
        per_image_two = statistics.median(r["wall_s"] / r["photos"] for r in two)
        summary["ray_overhead"] = {
            "cluster_start_s": report["ray_cluster_start_s"],
            "actor_start_s": statistics.median(r["actor_start_s"] for r in ray_runs),
            "per_image_wall_minus_2_workers_s": per_image_ray - per_image_two,
            "per_image_driver_minus_worker_s": statistics.median(
                r["wall_s"] * cores / r["photos"] - r["worker_dream_s_mean"] for r in ray_runs),
            "input_bytes_mean": ray_runs[0]["input_bytes_mean"],
            "output_bytes_mean": ray_runs[0]["output_bytes_mean"],
        }
    report["summary"] = summary
    print(json.dumps(summary, indent=1))
    if not args.skip_seams:
        report["seams"] = seam_figures()
        s = report["seams"]
        print(f"seam metric, {s['segments']} segments of a {s['frames']}-frame {s['size']} clip "
              f"(sequential render {s['sequential_s']:.1f} s):")
        for k, m in s["by_warmup"].items():
            print(f"  K={k}: change into a seam {m['seam']:.4f}, within segments {m['within']:.4f}, "
                  f"sequential at the seams {m['sequential_seam']:.4f}; dream strength at the "
                  f"seams {m['strength_seam']:.4f} vs within {m['strength_within']:.4f} "
                  f"({m['seconds']:.1f} s)")
    shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

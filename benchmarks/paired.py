"""Whole-process runs of the main job against another source tree: wall time and peak memory,
paired and alternating. Not a test.

    python -m benchmarks.paired --before /tmp/old                   # 1152x864 dream, 12-frame zoom
    python -m benchmarks.paired --before /tmp/old --pairs 4 --jobs dream4mp

Each job runs ``python -m inceptionism ...`` in a fresh process with a tree as the working
directory (so that tree's package is the one imported), the trees taking turns within each
pair and the order flipping from pair to pair, so a change in the machine's load hits both
alike. Peak memory is the child's maximum resident set (``ru_maxrss``). Prints, per job and
tree, the median wall time and peak memory with their min-max, and the per-pair ratio
(this tree / before) with its spread; ``--json`` writes the raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def photo(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image

    sample = HERE / "inceptionism" / "data" / "chelsea.png"
    Image.open(sample).convert("RGB").resize(size, Image.LANCZOS).save(path)
    return path


def jobs(work: Path) -> dict[str, list[str]]:
    small = photo(work / "1mp.png", (1152, 864))
    big = photo(work / "4mp.png", (2304, 1728))
    return {
        "dream1mp": ["dream", str(small), "-o", str(work / "out.png"), "--force"],
        "dream4mp": ["dream", str(big), "-o", str(work / "out4.png"), "--force"],
        "zoom12": ["zoom", str(small), "-o", str(work / "zoom.gif"), "--frames", "12",
                   "--size", "192x144", "--force"],
        "zoom12w400": ["zoom", str(small), "-o", str(work / "zoom400.gif"), "--frames", "12",
                      "--size", "400x300", "--force"],
    }


def measure(tree: Path, args: list[str]) -> tuple[float, float]:
    code = ("import resource, subprocess, sys, time, os; t = time.perf_counter(); "
            "subprocess.run(sys.argv[2:], cwd=sys.argv[1], check=True, capture_output=True, "
            "env={**os.environ, 'PYTHONPATH': sys.argv[1]}); "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(tree), sys.executable, "-m",
                          "inceptionism", *args], check=True, capture_output=True, text=True)
    wall, rss = out.stdout.split()
    return float(wall), float(rss)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other source tree")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", default="dream1mp,zoom12", help="comma-separated: dream1mp, dream4mp, zoom12, zoom12w400")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    trees = {"this": HERE, "before": args.before.resolve()}
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        table = jobs(Path(tmp))
        for name in args.jobs.split(","):
            rows = figures[name] = {"this": [], "before": []}
            for pair in range(args.pairs):
                order = ["this", "before"] if pair % 2 == 0 else ["before", "this"]
                for which in order:  # a fresh output each run: no resume from the other tree
                    fresh = [a.replace(".gif", f"-{which}-{pair}.gif") for a in table[name]]
                    rows[which].append(measure(trees[which], fresh))
            ratio = [t[0] / b[0] for t, b in zip(rows["this"], rows["before"])]
            mem = [t[1] / b[1] for t, b in zip(rows["this"], rows["before"])]
            print(f"{name}: wall s this {spread([r[0] for r in rows['this']])}, "
                  f"before {spread([r[0] for r in rows['before']])}; ratio {spread(ratio)}")
            print(f"{name}: peak MiB this {spread([r[1] for r in rows['this']])}, "
                  f"before {spread([r[1] for r in rows['before']])}; ratio {spread(mem)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": platform.processor() or platform.machine(),
                                         "cpus": os.cpu_count(), "before": str(args.before),
                                         "figures": figures}, indent=1))


if __name__ == "__main__":
    main()

"""How long light commands take to answer, and whether they import PyTorch. Not a test.

    python -m benchmarks.startup                       # this tree
    python -m benchmarks.startup --before /tmp/old     # and another source tree, interleaved

Each command runs as ``python -m inceptionism ARGS`` in a fresh process with the tree as the
working directory (so that tree's package is the one imported), ``--runs`` times, the trees
taking turns run by run so machine load hits both alike; the median wall time is printed,
with whether the command imported torch.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = [["--help"], ["dream", "--help"], ["classes", "goldfish"], ["models"], ["layers"]]
PROBE = ("import sys, runpy; sys.argv = ['inceptionism', *sys.argv[1:]]\n"
         "try:\n    runpy.run_module('inceptionism', run_name='__main__')\n"
         "except SystemExit:\n    pass\n"
         "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr)")


def wall(tree: Path, args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inceptionism", *args], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def imports_torch(tree: Path, args: list[str]) -> bool:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tree, capture_output=True,
                         text=True)
    return out.stderr.strip().endswith("TORCH") and not out.stderr.strip().endswith("NOTORCH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another source tree to compare with")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trees = {"after": Path(__file__).resolve().parent.parent}
    if args.before:
        trees = {"before": args.before.resolve(), **trees}
    try:
        load = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        load = "?"
    print(f"median of {args.runs} runs in fresh processes; load average {load} at start")
    print(f"{'command':30} " + " ".join(f"{name:>16}" for name in trees))
    for command in COMMANDS:
        times = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                times[name].append(wall(tree, command))
        cells = []
        for name, tree in trees.items():
            torch = "torch" if imports_torch(tree, command) else "no torch"
            cells.append(f"{statistics.median(times[name]):6.2f} s {torch:>8}")
        print(f"{'inceptionism ' + ' '.join(command):30} " + " ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()

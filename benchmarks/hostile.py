"""Hostile-input figures: prints them; not a test.

    python -m benchmarks.hostile

1. Objective parsing time against the number of terms (linear: the time per term stays flat),
   up to the 1000-term limit, and how long refusing a 20 000-term objective takes.
2. Peak resident memory (VmHWM) of the CLI refusing each oversized example,
   each in a fresh process: each would need about 10 GB if it were dreamed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inceptionism.engine.objectives import parse
from inceptionism.errors import InceptionismError

PEAK = """
import sys
from inceptionism.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(code, peak)
"""


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def parsing() -> None:
    print("objective parsing (best of 5)")
    parse("b1")  # loads nothing lazily later
    for n in (125, 250, 500, 1000):
        for term in ("b10:0.5", "b12/1+2:0.3", "class=jellyfish:2"):
            spec = ",".join([term] * n)
            t = best_of(lambda: parse(spec))
            print(f"  {n:5d} x {term:18s} {t * 1e3:8.2f} ms  {t / n * 1e6:6.2f} us/term")

    def refuse():
        try:
            parse(",".join(["b10"] * 20_000))
        except InceptionismError:
            pass

    print(f"  refusing 20000 terms: {best_of(refuse) * 1e3:.2f} ms")


def refusals() -> None:
    if not os.path.exists("/proc/self/status"):
        print("peak memory: needs /proc (Linux)")
        return
    tmp = Path(tempfile.mkdtemp())
    wide = tmp / "wide.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (1, 100_000, 3), np.uint8)).save(wide)
    photo = tmp / "photo.png"
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(photo)
    print(f"wide.png: {wide.stat().st_size / 1e3:.0f} KB")
    examples = {
        "dream wide.png (100000x1)": ["dream", wide, "-o", tmp / "a.png"],
        "zoom --size 40000x40000": ["zoom", photo, "-o", tmp / "z.mp4", "--size", "40000x40000"],
        "dream --min-size 100000": ["dream", photo, "-o", tmp / "b.png", "--min-size", "100000"],
        "dream --guide wide.png": ["dream", photo, "-o", tmp / "c.png", "--guide", wide],
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print("peak resident memory while refusing (fresh process each)")
    for name, args in examples.items():
        result = subprocess.run([sys.executable, "-c", PEAK, *map(str, args)], env=env,
                                capture_output=True, text=True)
        code, peak = map(int, result.stdout.split())
        print(f"  {name:28s} exit {code}  {peak / 1024:6.0f} MiB  {result.stderr.strip()[:90]}")


if __name__ == "__main__":
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        print("load average:", f.read().strip() or "n/a")
    parsing()
    refusals()

"""One-model step probe used for the README's wait-policy rows (not a test).

    MODEL=inception_v3 SIZE=864,1152 N=3 PT_THREADS=2 python -m benchmarks.probe_step   # PyTorch's defaults
    GOMP_SPINCOUNT=20000 POLICY=1 SIZE=864,1152 N=3 python -m benchmarks.probe_step     # our start-up policy
    OMP_WAIT_POLICY=PASSIVE POLICY=1 SIZE=864,1152 N=3 python -m benchmarks.probe_step  # passive waiting

It imports torch *before* inceptionism, so the package's OpenMP default does not apply by
itself: set OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment, and POLICY=1 to run
runtime.start_up() (PT_THREADS=N fixes torch's threads instead). Prints the min and median
step time, CPU per step and the thread count; run it idle and beside
`python -c "while True: pass"`, alternating.
"""
import os, sys, time, statistics, random  # noqa: E401
import torch
from inceptionism.engine.loop import ascent_step
from inceptionism.engine.objectives import parse
from inceptionism.models.optimize import optimize
from inceptionism.settings import DreamConfig
from benchmarks.bench import bench_model  # noqa: E402
th = int(os.environ.get("PT_THREADS", "0"))
if os.environ.get("POLICY"):
    from inceptionism.engine.runtime import start_up; print("policy:", start_up())
if th: torch.set_num_threads(th)
model, _ = bench_model(os.environ.get("MODEL", "inception_v3"))
fast = optimize(model)
obj = parse(os.environ.get("LAYERS", "Mixed_6a,Mixed_6c"))
h, w = [int(v) for v in os.environ.get("SIZE", "432,576").split(",")]
img = torch.rand(1, 3, h, w)
cfg = DreamConfig()
rng = random.Random(0)
ascent_step(fast, img, obj, cfg, rng)
ts = []
c0 = time.process_time()
for _ in range(int(os.environ.get("N", "4"))):
    t = time.perf_counter(); ascent_step(fast, img, obj, cfg, rng); ts.append(time.perf_counter() - t)
print(f"{min(ts):.3f} {statistics.median(ts):.3f} cpu/step {(time.process_time()-c0)/len(ts):.3f} threads {torch.get_num_threads()}")
import resource, os as _os
r = resource.getrusage(resource.RUSAGE_SELF)
print("user", r.ru_utime, "sys", r.ru_stime, "policy", _os.environ.get("OMP_WAIT_POLICY"), "vcsw", r.ru_nvcsw, "ivcsw", r.ru_nivcsw)

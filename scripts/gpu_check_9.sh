#!/usr/bin/env bash
# Issue 9 on a GPU (<3 min with python3 + torch + CUDA): two Dreamers dreaming in two threads
# on one CUDA device give the same images as one after another; a CancelToken stops a CUDA
# dream mid-octave; the octave callback's images come back; a job re-runs bit-identically
# from its stored parameters on cuda.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv /tmp/i9gpu && /tmp/i9gpu/bin/pip install -q -e . >/dev/null
/tmp/i9gpu/bin/python - <<'PY'
import tempfile, threading, time
from pathlib import Path
import numpy as np
from PIL import Image
import torch
from inceptionism import (CancelToken, Cancelled, DreamConfig, DreamRequest, Dreamer, Hooks,
                          run_dream)
from inceptionism.io.images import load_image

assert torch.cuda.is_available(), "no CUDA"
tmp = Path(tempfile.mkdtemp())
Image.new("RGB", (8, 8)).save(tmp / "probe.png")
from importlib import resources
with resources.as_file(resources.files("inceptionism.data") / "chelsea.png") as p:
    rgb = load_image(p).rgb
cfg = [DreamConfig(seed=1), DreamConfig(seed=2, steps=12)]
ds = [Dreamer(device="cuda"), Dreamer(device="cuda")]
run = lambda i: ds[i].dream_array(rgb, ["b10", "b8"][i], cfg[i])
t0 = time.time(); seq = [run(0), run(1)]; t_seq = time.time() - t0
out = [None, None]; bar = threading.Barrier(2)
def work(i):
    bar.wait(); out[i] = run(i)
ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
t0 = time.time(); [t.start() for t in ts]; [t.join() for t in ts]; t_par = time.time() - t0
same = [np.array_equal(a, b) for a, b in zip(seq, out)]
diff = [float(np.abs(a - b).max()) for a, b in zip(seq, out)]
print(f"threads == sequential: {same} (max abs diff {diff}); sequential {t_seq:.2f}s, two threads {t_par:.2f}s")
tok = CancelToken(); steps = []
def on_step(s):
    steps.append(s); tok.cancel() if len(steps) == 3 else None
try:
    ds[0].dream_array(rgb, "b10", DreamConfig(), callback=on_step, cancel=tok); print("cancel: NOT stopped")
except Cancelled:
    print(f"cancel: stopped after {len(steps)} steps (octave {steps[-1].octave})")
octs = []
ds[0].dream_array(rgb, "b10", DreamConfig(steps=2), on_octave=octs.append)
print("octave images:", [tuple(o.image.shape) for o in octs], octs[-1].image.device)
Image.fromarray((rgb * 255).round().astype(np.uint8)).save(tmp / "cat.png")
run_dream(DreamRequest(input=tmp / "cat.png", output=tmp / "a.png", device="cuda"))
run_dream(DreamRequest(input=tmp / "cat.png", output=tmp / "b.png", params_from=tmp / "a.png"))
a, b = (np.asarray(Image.open(tmp / n)) for n in ("a.png", "b.png"))
print("cuda re-run bit-identical:", np.array_equal(a, b))
PY

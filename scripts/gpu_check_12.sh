#!/usr/bin/env bash
# Issue 12 on a GPU (<3 min with python3 + torch + CUDA; installs ray from PyPI): the per-image
# cost of the default still dream on CUDA for 320x240 and 1024x768 photos (the figure
# docs/scaling.md's GPU projection assumes), a 24-photo batch on one CUDA worker, and the same
# batch on a local Ray cluster with one GPU actor; the Ray and one-process dreams are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv /tmp/i12gpu && /tmp/i12gpu/bin/pip install -q -e '.[ray]' >/dev/null
/tmp/i12gpu/bin/python - <<'PY'
import tempfile, time
from importlib import resources
from pathlib import Path
import numpy as np, torch
from PIL import Image
from inceptionism import Dreamer, DreamConfig
from inceptionism.io.batch import discover, read_manifest
from inceptionism.jobs.batch import InlineBackend, drive, make_spec
from inceptionism.jobs.recipe import Recipe

assert torch.cuda.is_available(), "no CUDA"
d = Dreamer(device="cuda")
with Image.open(resources.files("inceptionism.data") / "chelsea.png") as img:
    src = img.convert("RGB")
for w, h in ((320, 240), (1024, 768)):
    rgb = np.asarray(src.resize((w, h)), dtype=np.float32) / 255
    d.dream_array(rgb, "b10", DreamConfig(steps=2))  # warm-up
    torch.cuda.synchronize(); t = time.perf_counter()
    for _ in range(3):
        d.dream_array(rgb, "b10", DreamConfig())
    torch.cuda.synchronize()
    print(f"default dream {w}x{h} on {torch.cuda.get_device_name()}: {(time.perf_counter()-t)/3:.3f} s/image")
tmp = Path(tempfile.mkdtemp()); (tmp / "in").mkdir()
for i in range(24):
    src.crop(((i * 5) % 120, (i * 3) % 60, (i * 5) % 120 + 320, (i * 3) % 60 + 240)).save(tmp / "in" / f"p{i:02d}.jpg", quality=92)
recipe = Recipe(model="efficientnet_lite0", objective="b10", config=DreamConfig(), device="cuda")
spec = make_spec(recipe, ".png", "embedded", threads=4)
t = time.perf_counter(); s = drive(discover([tmp / "in"]), tmp / "one", spec, InlineBackend(spec))
print(f"24 photos, one CUDA worker: {24 * 60 / (time.perf_counter() - t):.0f} images/min (model load included)")
import ray
from inceptionism.jobs.cluster import RayBackend
ray.init(num_cpus=4, num_gpus=1, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
spec = make_spec(recipe, ".png", "embedded", threads=4)
t = time.perf_counter(); s = drive(discover([tmp / "in"]), tmp / "ray", spec, RayBackend(spec, workers=1))
print(f"24 photos, Ray with one GPU actor: {24 * 60 / (time.perf_counter() - t):.0f} images/min (actor start included)")
diff = max(np.abs(np.asarray(Image.open(tmp / "one" / p.name), dtype=int) - np.asarray(Image.open(p), dtype=int)).max()
           for p in (tmp / "ray").glob("*.png"))
print(f"largest pixel difference Ray vs one process on CUDA: {diff} (0 expected: same code, same device)")
m = read_manifest(tmp / "ray" / "manifest.jsonl")
print(f"mean dream time on the actor: {sum(e['seconds'] for e in m) / len(m):.3f} s/image")
ray.shutdown()
PY

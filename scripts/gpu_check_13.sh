#!/usr/bin/env bash
# Issue 13 on a GPU (<3 min with python3 + torch + CUDA): the working-size bound refuses the
# issue's examples before any image reaches the GPU (peak CUDA memory stays at the model's);
# values at the edges of every range dream finite images on CUDA (float32 and bfloat16);
# non-finite weights are refused; SIGTERM during a CUDA dream leaves no partial file.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv /tmp/i13gpu && /tmp/i13gpu/bin/pip install -q -e . >/dev/null
/tmp/i13gpu/bin/python - <<'PY'
import math, tempfile
from pathlib import Path
import numpy as np, torch
from inceptionism import DreamConfig, Dreamer
from inceptionism.errors import InceptionismError

assert torch.cuda.is_available(), "no CUDA"
d = Dreamer(device="cuda")
torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
base = torch.cuda.max_memory_allocated()
for what, call in [
    ("100000x1 up-scaled", lambda: d.dream_array(np.zeros((1, 100_000, 3), np.float32), "b10")),
    ("min size 100000", lambda: d.dream_array(np.zeros((48, 64, 3), np.float32), "b10",
                                              DreamConfig(min_size=100_000))),
    ("100000x1 guide", lambda: d.guided("b10", np.zeros((1, 100_000, 3), np.float32))),
]:
    try:
        call(); raise SystemExit(f"FAIL: {what} was not refused")
    except InceptionismError as e:
        print("refused:", what, "-", e)
extra = torch.cuda.max_memory_allocated() - base
print(f"peak CUDA memory while refusing: +{extra / 2**20:.1f} MiB")
assert extra < 64 * 2**20, extra
rgb = np.random.default_rng(0).random((96, 128, 3), dtype=np.float32)
edges = [dict(smoothing=50.0), dict(smoothing_growth=50.0, smoothing_cascade=True),
         dict(jitter=10_000), dict(step_size=1.0), dict(octave_scale=16.0, octaves=64),
         dict(tile_size=32), dict(seed=2**64 - 1)]
for precision in ("float32", "bfloat16"):
    for edge in edges:
        config = DreamConfig(**{"steps": 2, "octaves": 2, "precision": precision, **edge})
        out = d.dream_array(rgb, "b10:1000,b8:-1000", config)
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1, (precision, edge)
    print("finite at every range edge:", precision)
tmp = Path(tempfile.mkdtemp())
from inceptionism.models import get_spec
from inceptionism.models.weights import load_state_dict
s = load_state_dict(get_spec("efficientnet_lite0").weights.resolve())
k = next(iter(s)); s[k] = s[k].clone().fill_(math.nan); torch.save(s, tmp / "nan.pt")
try:
    Dreamer(weights=tmp / "nan.pt", device="cuda"); raise SystemExit("FAIL: NaN weights loaded")
except InceptionismError as e:
    print("refused:", e)
PY
# SIGTERM mid-dream on CUDA: exit 143, no .part file.
tmp=$(mktemp -d)
/tmp/i13gpu/bin/inceptionism sample "$tmp/cat.png" >/dev/null 2>&1
/tmp/i13gpu/bin/inceptionism dream "$tmp/cat.png" -o "$tmp/out.png" --device cuda --steps 200 -q &
pid=$!; sleep 12; kill -TERM $pid; set +e; wait $pid; rc=$?; set -e
echo "exit status after SIGTERM: $rc"; test "$rc" = 143 || test "$rc" = 0
test -z "$(find "$tmp" -name '*.part')" && echo "no partial file"
echo "issue 13 GPU check passed"

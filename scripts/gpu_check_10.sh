#!/usr/bin/env bash
# Issue 10 GPU check (< 3 min on a machine with python3, torch with CUDA, and the repository):
# the studio serves on CUDA, dreams through its HTTP API, and returns a PNG whose stored
# parameters say cuda; Stop-free, browser-free (the browser tests run in CI on the CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-gpu10 --system-site-packages
.venv-gpu10/bin/pip install -q -e '.[web]' gradio_client
port=$(.venv-gpu10/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv-gpu10/bin/inceptionism serve --port "$port" --device cuda > serve.out 2> serve.err &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 120); do grep -q "studio on" serve.out && break; sleep 1; done
.venv-gpu10/bin/python - "$port" <<'PY'
import sys, time
from importlib import resources
from gradio_client import Client, handle_file
from inceptionism.io.images import read_metadata
client = Client(f"http://127.0.0.1:{sys.argv[1]}/", verbose=False)
photo = str(resources.files("inceptionism.data") / "chelsea.png")
for run in range(2):  # the first loads the model
    t0 = time.time()
    status, _, png, _ = client.predict(handle_file(photo), "efficientnet_lite0", "b10", 10, 4, 1.4,
                                       0.012, 0.5, 0, False, "octave", 0.5, 32, 0, None,
                                       api_name="/dream")
    print(f"run {run + 1}: {time.time() - t0:.2f} s  {status[-60:]}")
meta = read_metadata(png)
assert meta["device"].startswith("cuda"), meta["device"]
print("OK: dreamed on", meta["device"], "through the studio's API")
PY

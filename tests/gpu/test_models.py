"""Graph models and precision on a GPU: inception5h's interpreter gives the recorded tensors
and gradient on the device, graph and ONNX models dream there, ``auto`` precision chooses
bfloat16 only where it should and dreams as strongly, and tiles batched on a GPU give the
gradient of tiles one by one. Marked `gpu`: skipped where there is no CUDA device."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from inceptionism import Dreamer
from inceptionism.engine.loop import dream, objective_gradient, resolve_precision
from inceptionism.engine.objectives import layer
from inceptionism.models import DreamNet, load_model
from inceptionism.models.optimize import optimize
from inceptionism.settings import DreamConfig

from ..torchvision_parity import synthetic_state_dict

pytestmark = pytest.mark.gpu

FIXTURES = Path(__file__).parent.parent / "fixtures"
GRAPH = FIXTURES / "inception5h_synthetic.pb.gz"


@pytest.fixture(autouse=True)
def exact_float32():
    """TF32 off, as a float32 dream runs (runtime.reproducible_cuda), so the tolerances hold."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


@pytest.fixture(scope="module")
def inception_v3(gpu, tmp_path_factory) -> DreamNet:
    """Inception v3 with the parity fixture's synthetic weights, optimized as a Dreamer runs
    it (no download: the code paths, not the looks)."""
    path = tmp_path_factory.mktemp("weights") / "inception_v3.pth"
    torch.save(synthetic_state_dict("inception_v3"), path)
    return Dreamer("inception_v3", weights=path, device=str(gpu), progress=False).model


@pytest.mark.parametrize("variant", ["as loaded", "optimized"])
def test_inception5h_gives_the_recorded_tensors_and_gradient(gpu, variant):
    ref = json.loads((FIXTURES / "inception5h_parity.json").read_text())
    model = load_model("inception5h", weights=GRAPH, device=gpu)
    if variant == "optimized":
        model = optimize(model)
    for case, seed in (("224x224", 0), ("173x251", 1)):
        h, w = map(int, case.split("x"))
        x = (np.random.default_rng(seed).uniform(0, 255, size=(h, w, 3)) - 117).astype(np.float32)[None]
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).to(gpu).contiguous(memory_format=model.memory_format)
        recorded = ref["cases"][case]["tensors"]
        with torch.no_grad():
            out = model.net.features(xt, [k[:-2] for k in recorded])
        for key, r in recorded.items():
            y = out[key[:-2]].double().cpu()
            y = (y.permute(0, 2, 3, 1) if y.dim() == 4 else y).numpy()
            assert list(y.shape) == r["shape"], key
            v = np.array([y[tuple(p)] for p in r["positions"]])
            error = np.max(np.abs(v - r["values"]) / np.maximum(np.abs(r["values"]), r["std"]))
            assert error <= 1e-4, (case, key, error)
    g = ref["cases"]["173x251"]["gradient"]
    x = (np.random.default_rng(1).uniform(0, 255, size=(173, 251, 3)) - 117).astype(np.float32)[None]
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).to(gpu).contiguous(
        memory_format=model.memory_format).requires_grad_()
    model.net.features(xt, ["mixed4c"])["mixed4c"].square().mean().backward()
    grad = xt.grad.permute(0, 2, 3, 1).double().cpu().numpy()
    v = np.array([grad[tuple(p)] for p in g["positions"]])
    assert np.max(np.abs(v - g["values"]) / np.maximum(np.abs(g["values"]), g["mean_abs"])) <= 1e-4


def test_graph_and_onnx_models_dream_on_the_gpu(gpu, chelsea, tmp_path):
    d = Dreamer("inception5h", weights=GRAPH, device=str(gpu))
    out = d.dream_array(chelsea, None, DreamConfig(steps=2, octaves=2))
    assert np.isfinite(out).all() and np.abs(out - chelsea).mean() > 1e-3
    onnx = pytest.importorskip("onnx")
    from ..onnx_googlenet import build

    onnx.save(build(), tmp_path / "g.onnx")
    d = Dreamer(str(tmp_path / "g.onnx"), preprocess="caffe", device=str(gpu))
    out = d.dream_array(chelsea, None, DreamConfig(steps=2, octaves=2))
    assert np.isfinite(out).all() and np.abs(out - chelsea).mean() > 1e-3


def test_auto_precision_is_bfloat16_only_for_compute_bound_networks(gpu, cuda_only, inception_v3):
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU does not compute bfloat16")
    assert resolve_precision("auto", inception_v3) == "bfloat16"
    assert resolve_precision("auto", optimize(load_model("efficientnet_lite0", device=gpu))) \
        == "float32"


def test_a_bfloat16_dream_is_as_strong_as_float32(gpu, inception_v3):
    model = fast = inception_v3
    objective = layer("Mixed_6a") + layer("Mixed_6c")
    x = torch.rand(1, 3, 432, 576, generator=torch.Generator().manual_seed(0)).to(gpu)

    def strength(image):
        with torch.no_grad():
            return sum(v.pow(2).mean() for v in
                       model.features(image, ["Mixed_6a", "Mixed_6c"]).values()).item()

    gains = {p: strength(dream(fast, x, objective, DreamConfig(steps=5, precision=p)))
             / strength(x) for p in ("float32", "bfloat16")}
    assert 0.8 <= gains["bfloat16"] / gains["float32"] <= 1.25, gains


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_tiles_in_batches_give_the_gradient_of_tiles_one_by_one(gpu, precision, inception_v3):
    fast = inception_v3
    before = fast.tile_batch
    objective = layer("Mixed_6a") + layer("Mixed_6c")
    x = torch.rand(1, 3, 864, 1152, generator=torch.Generator().manual_seed(0)).to(gpu)
    config = DreamConfig(precision=precision)
    grads = {}
    for batch in (1, 2):
        fast.tile_batch = batch
        grads[batch], _, _ = objective_gradient(fast, x, objective, config)
    error = ((grads[2] - grads[1]).abs().max() / grads[1].abs().max()).item()
    fast.tile_batch = before
    assert torch.isfinite(grads[2]).all()
    assert error < (1e-4 if precision == "float32" else 5e-2), error

"""Google's inception5h graph, read from its GraphDef, against what TensorFlow computes.

``fixtures/inception5h_synthetic.pb.gz`` has exactly the structure of the real
``tensorflow_inception_graph.pb`` (same 370 nodes, names, attrs, wiring) with synthetic
weights; ``fixtures/inception5h_parity.json`` holds TensorFlow 2.21's outputs on it for two
fixed inputs (see /work/shared/parity/inception5h.md, copied rules below). The graph is
loaded through ``load_model("inception5h", weights=...)``, the code path of the real file.

Tolerance (the fixture's rule): ``abs(ours - ref) <= 1e-4 * max(abs(ref), layer_std)``
for sampled values and channel means; relative 1e-4 for mean/std/max; for the gradient,
``max(abs(ref), mean_abs)`` as the scale.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from inceptionism.models import load_model
from inceptionism.models.optimize import optimize
from inceptionism.models.tf_graph import read_graphdef

FIXTURES = Path(__file__).parent.parent / "fixtures"
GRAPH = FIXTURES / "inception5h_synthetic.pb.gz"
REF = json.loads((FIXTURES / "inception5h_parity.json").read_text())
RTOL = 1e-4
CASES = {"224x224": 0, "173x251": 1}


def fixture_input(case: str) -> np.ndarray:
    """The NHWC input of a case, built by the fixture's rule (float64, then one cast)."""
    height, width = map(int, case.split("x"))
    rng = np.random.default_rng(CASES[case])
    return (rng.uniform(0.0, 255.0, size=(height, width, 3)) - 117.0).astype(np.float32)[None]


@pytest.fixture(scope="module", params=["as loaded", "optimized"])
def net(request, one_thread):
    """The raw graph network (no preprocessing: the fixture feeds input:0 directly), as
    loaded (NCHW) and as `dream` runs it (optimize(): channels-last, whose LRN and pools
    take other code paths; conv+bias fusion and in-place ReLUs are on in both)."""
    model = load_model("inception5h", weights=GRAPH)
    if request.param == "optimized":
        model = optimize(model)
    return model.net, model.memory_format


def to_nhwc(t: torch.Tensor) -> np.ndarray:
    t = t.detach().double()
    return (t.permute(0, 2, 3, 1) if t.dim() == 4 else t).numpy()


def test_input_is_the_fixtures():
    for case in CASES:
        x = fixture_input(case)
        digest = hashlib.sha256(x.astype("<f4").tobytes()).hexdigest()
        assert digest == REF["cases"][case]["input"]["sha256_float32_le"]


def test_weights_are_bit_identical_to_the_rule():
    """Regenerate the synthetic weights and compare with what the reader decoded: catches
    endianness and HWIO/OIHW mix-ups directly."""
    graph = read_graphdef(gzip.decompress(GRAPH.read_bytes()))
    names = sorted(n for n, v in graph.constants.items() if v.dtype == torch.float32)
    assert len(names) == 128
    for k, name in enumerate(names):
        ours = graph.constants[name]
        shape = tuple(ours.shape)
        if ours.dim() == 4:  # stored OIHW by the reader; the rule draws HWIO
            shape = (shape[2], shape[3], shape[1], shape[0])
        rng = np.random.default_rng(2015 + k)
        q = (rng.integers(0, 3, size=shape) - 1).astype(np.float32)
        if len(shape) == 1:
            expected = q * np.float32(1.0)
        else:
            a = math.sqrt(3.0 / math.prod(shape[:-1]))
            if name in ("softmax0_w", "softmax1_w", "softmax2_w"):
                a /= 16
            expected = q * np.float32(a)
        if ours.dim() == 4:
            expected = expected.transpose(3, 2, 0, 1)
        assert np.array_equal(ours.numpy(), expected), name


@pytest.mark.parametrize("case", list(CASES))
def test_every_recorded_tensor(net, case):
    net, layout = net
    recorded = REF["cases"][case]["tensors"]
    x = torch.from_numpy(fixture_input(case)).permute(0, 3, 1, 2).contiguous(memory_format=layout)
    with torch.no_grad():
        out = net.features(x, [name.removesuffix(":0") for name in recorded])
    worst = {}
    for key, ref in recorded.items():
        ours = to_nhwc(out[key.removesuffix(":0")])
        assert list(ours.shape) == ref["shape"], key
        scale = ref["std"]
        values = np.array([ours[tuple(p)] for p in ref["positions"]])
        expected = np.array(ref["values"])
        errors = [np.max(np.abs(values - expected) / np.maximum(np.abs(expected), scale))]
        if "channel_mean" in ref:  # recorded for feature maps, not for the softmax outputs
            channel = ours.reshape(-1, ours.shape[-1]).mean(0)
            cref = np.array(ref["channel_mean"])
            errors.append(np.max(np.abs(channel - cref) / np.maximum(np.abs(cref), scale)))
        for stat, value in (("mean", ours.mean()), ("std", ours.std()), ("max", ours.max())):
            errors.append(abs(value - ref[stat]) / max(abs(ref[stat]), 1e-30))
        worst[key] = max(errors)
        assert worst[key] <= RTOL, (key, worst[key])
    print(case, {k: f"{v:.1e}" for k, v in worst.items()})


def test_input_gradient(net):
    net, layout = net
    case = "173x251"
    ref = REF["cases"][case]["gradient"]
    x = torch.from_numpy(fixture_input(case)).permute(0, 3, 1, 2).contiguous(memory_format=layout)
    x.requires_grad_()
    acts = net.features(x, ["mixed4c"])["mixed4c"]
    objective = acts.square().mean()
    objective.backward()
    assert abs(objective.item() - ref["objective_value"]) <= RTOL * ref["objective_value"]
    grad = to_nhwc(x.grad)
    assert list(grad.shape) == ref["shape"]
    values = np.array([grad[tuple(p)] for p in ref["positions"]])
    expected = np.array(ref["values"])
    error = np.max(np.abs(values - expected) / np.maximum(np.abs(expected), ref["mean_abs"]))
    print(f"gradient {error:.1e}, objective {abs(objective.item() / ref['objective_value'] - 1):.1e}")
    assert error <= RTOL, error
    assert abs(np.abs(grad).mean() - ref["mean_abs"]) <= RTOL * ref["mean_abs"]
    assert abs(grad.max() - ref["max"]) <= RTOL * ref["max"]

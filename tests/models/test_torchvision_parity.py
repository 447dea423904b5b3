"""Our googlenet, inception_v3, vgg16 and resnet50 against what torchvision computes.

The reference numbers come from torchvision 0.29.1 (``fixtures/torchvision_parity.json``),
with synthetic weights rebuilt here from the fixture's own key list (see
``torchvision_parity.py``), so these tests need neither torchvision nor a download. Matching
keys and shapes means torchvision's real files load with ``strict=True``; matching activations
and logits means the same computation.
"""

from __future__ import annotations

import pytest
import torch
from ..torchvision_parity import normalized_input, reference, synthetic_state_dict

from inceptionism.models import get_spec

MODELS = ["googlenet", "inception_v3", "vgg16", "resnet50"]

# float32 noise: the fixture's README puts it at about 1e-4 relative.
RTOL = 1e-4


def relative_difference(ours: torch.Tensor, ref: dict, scale: float) -> float:
    """Largest difference between our tensor's summary and the recorded one, relative to
    ``scale`` (the recorded std: ReLU zeros make element-wise relative errors meaningless)."""
    ours = ours.double()
    first = ours.flatten()[: len(ref["first"])]
    diffs = [abs(ours.mean().item() - ref["mean"]), abs(ours.std().item() - ref["std"])]
    diffs += (first - torch.tensor(ref["first"], dtype=torch.float64)).abs().tolist()
    return max(diffs) / scale


@pytest.fixture(scope="module", params=MODELS)
def parity_run(request):
    """(name, our network with the synthetic weights, its taps and logits)."""
    name = request.param
    spec = get_spec(name)
    net = spec.build().eval()
    net.load_state_dict(synthetic_state_dict(name), strict=True)
    layers = list(reference()[name]["taps"]) + [spec.logits_layer]
    with torch.no_grad():
        acts = net.features(normalized_input(name), layers)
    return name, net, acts


def test_state_dict_keys_and_shapes_equal_torchvisions(parity_run):
    name, net, _ = parity_run
    ours = {k: list(v.shape) for k, v in net.state_dict().items()}
    ref = reference()[name]["state_dict_shapes"]
    assert list(ours) == list(ref)  # same keys, same order
    assert ours == ref


def test_synthetic_weights_match_the_recipe(parity_run):
    # Guards the generator itself: a wrong draw order would make every other test here
    # compare against different weights.
    name, net, _ = parity_run
    total = sum(t.double().sum().item() for t in net.state_dict().values())  # as loaded
    assert total == pytest.approx(reference()[name]["synthetic_weight_sum"], rel=1e-9)


def test_activations_at_named_layers_equal_torchvisions(parity_run):
    name, _, acts = parity_run
    for layer, ref in reference()[name]["taps"].items():
        act = acts[layer]
        assert list(act.shape) == ref["shape"], layer
        ref = {"mean": ref["mean"], "std": ref["std"], "first": ref["first5"]}
        assert relative_difference(act, ref, ref["std"]) < RTOL, layer


def test_logits_equal_torchvisions(parity_run):
    name, _, acts = parity_run
    ref = reference()[name]
    logits = acts[get_spec(name).logits_layer]
    assert logits.shape == (1, 1000)
    summary = {"mean": ref["logits_mean"], "std": ref["logits_std"], "first": ref["logits_first10"]}
    assert relative_difference(logits, summary, ref["logits_std"]) < RTOL
    assert logits.argmax().item() == ref["argmax"]

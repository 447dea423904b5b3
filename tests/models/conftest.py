"""Fixtures for the torchvision-format models: their synthetic weights, saved as files."""

from __future__ import annotations

import pytest
import torch
from ..torchvision_parity import synthetic_state_dict

# Keys of the auxiliary classifiers in torchvision's published files (trained with them,
# unused at inference), with their real shapes; our models have no such modules.
AUX_KEYS = {
    "googlenet": {
        "aux1.conv.conv.weight": (128, 512, 1, 1), "aux1.conv.bn.running_var": (128,),
        "aux1.fc1.weight": (1024, 2048), "aux1.fc2.bias": (1000,),
        "aux2.conv.conv.weight": (128, 528, 1, 1), "aux2.fc2.weight": (1000, 1024),
    },
    "inception_v3": {
        "AuxLogits.conv0.conv.weight": (128, 768, 1, 1),
        "AuxLogits.conv1.conv.weight": (768, 128, 5, 5),
        "AuxLogits.conv1.bn.num_batches_tracked": (),
        "AuxLogits.fc.weight": (1000, 768),
    },
}


@pytest.fixture(scope="session")
def synthetic_weights_file(tmp_path_factory):
    """``synthetic_weights_file(name)`` -> a state-dict file shaped like torchvision's
    published one for ``name`` (auxiliary classifiers included), holding the parity
    fixture's synthetic weights; written once per session."""
    folder = tmp_path_factory.mktemp("weights")
    made = {}

    def make(name: str):
        if name not in made:
            aux = {key: torch.ones(shape) for key, shape in AUX_KEYS.get(name, {}).items()}
            made[name] = folder / f"{name}-synthetic.pth"
            torch.save({**synthetic_state_dict(name), **aux}, made[name])
        return made[name]

    return make

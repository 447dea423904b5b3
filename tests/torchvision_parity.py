"""The torchvision parity fixture: synthetic weights and inputs anyone can rebuild offline.

``fixtures/torchvision_parity.json`` was recorded with torchvision 0.29.1 (copied from the
project's shared/parity folder, whose README gives the recipe reproduced here): for each of
googlenet, inception_v3, vgg16 and resnet50, the state-dict keys and shapes, and what the
network computes from the synthetic weights below on the input below.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import torch

FIXTURE = Path(__file__).parent / "fixtures" / "torchvision_parity.json"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = {"inception_v3": 299}  # the others: 224


@lru_cache(maxsize=None)
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


def reference_shapes(model: str) -> dict[str, list[int]]:
    return reference()[model]["state_dict_shapes"]


def synthetic_state_dict(model: str) -> dict[str, torch.Tensor]:
    """The fixture's synthetic weights, drawn in sorted-key order from one seeded generator.

    Built from the fixture's own key list and shapes, never from our model, so a wrong key
    or shape in our architecture cannot hide here.
    """
    shapes = reference_shapes(model)
    g = torch.Generator().manual_seed(1234)
    state = {}
    for key in sorted(shapes):
        shape = tuple(shapes[key])
        if key.endswith("num_batches_tracked"):
            t = torch.zeros((), dtype=torch.long)
        elif key.endswith("running_var"):
            t = torch.rand(shape, generator=g) + 0.5
        elif key.endswith("running_mean"):
            t = torch.randn(shape, generator=g) * 0.1
        elif len(shape) >= 2:
            t = torch.randn(shape, generator=g) * math.sqrt(2 / math.prod(shape[1:]))
        elif key.endswith("weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            t = 0.1 * torch.randn(shape, generator=g)
        state[key] = t
    return {key: state[key] for key in shapes}  # torchvision's order, as in the real files


def rgb_input(model: str) -> torch.Tensor:
    """The fixture's input, as RGB in [0, 1] (before ImageNet normalization)."""
    size = INPUT_SIZE.get(model, 224)
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))


def normalized_input(model: str) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (rgb_input(model) - mean) / std

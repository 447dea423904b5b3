"""The model registry: one entry per model, bundling everything needed to dream with it.

Code elsewhere never branches on a model's name: it looks the entry up and uses its fields
(architecture builder, weights source, preprocessing, default layers).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import UnknownModelError, WeightsError
from .base import DreamNet, LayeredNet, Normalization
from .weights import load_state_dict


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[], LayeredNet]  # the architecture, with random weights
    weights: object  # a weights source: PackageWeights or UrlWeights (describe/status/resolve)
    normalization: Normalization
    default_layers: tuple[str, ...]  # what `dream` maximizes when no layer is given
    input_size: int  # the resolution the network was trained at
    logits_layer: str = "logits"  # the stage whose output is the 1000 ImageNet class logits
    top1: float | None = None  # ImageNet-1k top-1 accuracy (%) reported for these weights
    license: str = "unknown"
    description: str = ""
    # State-dict keys present in the published files but not in our architecture (e.g.
    # auxiliary classifiers), dropped before the strict load.
    drop_prefixes: tuple[str, ...] = field(default=())
    # The smallest side (pixels) the whole network accepts; unpadded convolutions and
    # pooling make some networks refuse smaller inputs (Inception v3: 75).
    min_input_size: int = 1


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[str]:
    return list(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(name, list_models()) from None


def set_weights(name: str, weights: object) -> ModelSpec:
    """Point model ``name`` at another weights source (e.g. a ``UrlWeights`` for a mirror or a
    local copy, or a ``PackageWeights``); returns the entry it replaced, so it can be put back
    with :func:`restore_spec`. Affects models loaded afterwards, in the whole process."""
    old = get_spec(name)
    _REGISTRY[name] = dataclasses.replace(old, weights=weights)
    return old


def restore_spec(spec: ModelSpec) -> None:
    """Put back an entry :func:`set_weights` replaced."""
    get_spec(spec.name)
    _REGISTRY[spec.name] = spec


@contextlib.contextmanager
def use_weights(name: str, weights: object) -> Iterator[ModelSpec]:
    """Within the block, model ``name`` loads from ``weights``; the entry is restored after."""
    old = set_weights(name, weights)
    try:
        yield get_spec(name)
    finally:
        restore_spec(old)


def load_model(
    name: str,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> DreamNet:
    """Build model ``name``, load its weights (``weights`` overrides the registry's source),
    and return it in eval mode, frozen, on ``device``, taking RGB input in [0, 1].

    Weights that must be downloaded first show a progress bar on stderr unless ``progress``
    is False."""
    spec = get_spec(name)
    path = Path(weights) if weights is not None else spec.weights.resolve(progress=progress)
    state = load_state_dict(path)
    if spec.drop_prefixes:
        state = {k: v for k, v in state.items() if not k.startswith(spec.drop_prefixes)}
    net = spec.build()
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise WeightsError(
            f"Weights file {path} does not fit model {name} ({first.rstrip(':')})."
        ) from None
    model = DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False)
    return model.to(device)

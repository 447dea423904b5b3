"""The model registry: one entry per model, bundling everything needed to dream with it.

Code elsewhere never branches on a model's name: it looks the entry up and uses its fields
(architecture builder, weights source, preprocessing, default layers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import UnknownModelError, WeightsError
from .base import DreamNet, LayeredNet, Normalization
from .weights import load_state_dict


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[], LayeredNet] | None  # the architecture, with random weights (None: see load)
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
    # Networks that come as a graph file (inception5h's GraphDef, ONNX) have no separate
    # architecture: ``load(path)`` reads the file into a network, in place of ``build`` plus
    # a state dict. The file's own class names, if any, ride on the network (``labels``).
    load: Callable[[Path], LayeredNet] | None = None
    # The layers `explore` tours by default, in order (empty: every layer); with
    # ``tour_numbered`` each tile is labelled with its position, as the seed's tour was.
    tour_layers: tuple[str, ...] = ()
    tour_numbered: bool = False


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
    if spec.load is not None:
        net = spec.load(path).eval()
        model = DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False)
        return model.to(device)
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

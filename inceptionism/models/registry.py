"""The model registry: one entry per model, bundling everything needed to dream with it.

Code elsewhere never branches on a model's name: it looks the entry up and uses its fields
(architecture builder, weights source, preprocessing, default layers).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

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


def installed_models() -> list[str]:
    """The registered models whose weights are on this machine already (an installed package
    or a cached download): those that run here without a download."""
    return [name for name, spec in _REGISTRY.items()
            if spec.weights is not None and spec.weights.status() in ("embedded", "cached")]


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
    name: str | ModelSpec,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> DreamNet:
    """Build model ``name``, load its weights (``weights`` overrides the registry's source),
    and return it in eval mode, frozen, on ``device``, taking RGB input in [0, 1].

    Weights that must be downloaded first show a progress bar on stderr unless ``progress``
    is False."""
    spec = name if isinstance(name, ModelSpec) else get_spec(name)
    path = Path(weights) if weights is not None else spec.weights.resolve(progress=progress)
    if spec.load is not None:
        net = spec.load(path).eval()
        model = DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False)
        return model.to(device)
    state = load_state_dict(path)
    if spec.drop_prefixes:
        state = {k: v for k, v in state.items() if not k.startswith(spec.drop_prefixes)}
    try:
        net = _with_weights(spec.build, state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise WeightsError(
            f"Weights file {path} does not fit model {spec.name} ({first.rstrip(':')})."
        ) from None
    model = DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False)
    return model.to(device)


def _with_weights(build: Callable[[], nn.Module], state: dict[str, torch.Tensor]) -> nn.Module:
    """``build()`` holding the weights of ``state`` (all of them, and nothing else).

    The architecture is built without storage (on PyTorch's ``meta`` device) and the loaded
    tensors are put in place, each in the dtype its parameter was declared with: building
    it for real would first fill every weight with random numbers only to overwrite them
    (measured: VGG16 0.54 s against 0.003 s, Inception v3 0.105 s against 0.018 s).
    A network that also makes tensors of its own (not in its state dict) is built for real.
    """
    with torch.device("meta"):
        net = build()
    wanted = net.state_dict()
    if wanted.keys() == state.keys():
        state = {k: v.to(wanted[k].dtype) for k, v in state.items()}
    net.load_state_dict(state, strict=True, assign=True)  # a mismatch raises: the caller says so
    if any(t.is_meta for t in (*net.parameters(), *net.buffers())):
        net = build()
        net.load_state_dict(state, strict=True)
    return net


@dataclass(frozen=True)
class LocalFile:
    """A model file the user named (an ONNX or TensorFlow graph outside the registry)."""

    path: Path

    @property
    def size_mb(self) -> float:
        return self.path.stat().st_size / 2**20 if self.path.is_file() else 0.0

    def describe(self) -> str:
        return str(self.path)

    def status(self) -> str:
        return "local file" if self.path.is_file() else "missing"

    def resolve(self, progress: bool = True) -> Path:
        if not self.path.is_file():
            raise WeightsError(f"Model file {self.path} does not exist.")
        return self.path


GRAPH_SUFFIXES = (".onnx", ".pb")


def file_spec(path: str | Path, normalization: Normalization) -> ModelSpec:
    """A spec for a model file nobody registered: an ONNX model (``.onnx``) or a frozen
    TensorFlow graph (``.pb``). The file is read now, since its layers decide the defaults."""
    from .graph_files import load_onnx, load_tf_graph

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Model file {path} does not exist.")
    net = load_onnx(path) if path.suffix.lower() == ".onnx" else load_tf_graph(path)
    return ModelSpec(
        name=str(path),
        build=None,
        load=lambda _path, net=net: net,
        weights=LocalFile(path),
        normalization=normalization,
        default_layers=net.default_layers,
        input_size=224,
        logits_layer=net.logits_layer,
        description=f"{'ONNX' if path.suffix.lower() == '.onnx' else 'TensorFlow'} model file {path.name}",
        tour_layers=net.tour_layers,
    )


def model_spec(model: str, preprocess: str | Normalization | None = None) -> ModelSpec:
    """The spec of ``model``: a registered name, or the path of an ``.onnx`` / ``.pb`` file.

    ``preprocess`` (a :mod:`~inceptionism.models.preprocess` name, ``key=value`` text or a
    Normalization) replaces the model's input convention; a file's default is ``torch``."""
    from .preprocess import parse_preprocess

    if isinstance(preprocess, str):
        preprocess = parse_preprocess(preprocess)
    if model in _REGISTRY:
        spec = _REGISTRY[model]
        return replace(spec, normalization=preprocess) if preprocess is not None else spec
    if Path(model).suffix.lower() in GRAPH_SUFFIXES:
        return file_spec(model, preprocess or parse_preprocess("torch"))
    raise UnknownModelError(model, list_models())

"""The Python API: a :class:`Dreamer` holds a loaded model and dreams on images.

    from inceptionism import Dreamer, DreamConfig
    dreamer = Dreamer()                          # EfficientNet-Lite0, embedded weights, CPU
    out = dreamer.dream(Image.open("cat.jpg"), "b10", DreamConfig(steps=20))

The model is loaded once per Dreamer, so a video can dream every frame with one instance.
It also lists its layers (:meth:`Dreamer.layers`), builds guided objectives
(:meth:`Dreamer.guided`) and runs the layer tour (:meth:`Dreamer.explore`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from .engine.loop import (
    CancelToken,
    OctaveCallback,
    StepCallback,
    check_working_size,
    dream,
    fit_to_model,
    resolve_precision,
)
from .engine.objectives import Objective, guide, parse
from .engine.runtime import one_thread, start_up
from .engine.tour import TourCallback, shrink, tour
from .engine.transforms import resize, to_array, to_tensor
from .errors import InceptionismError
from .io.images import mask_from_pil, pil_to_rgb, to_pil
from .models import DreamNet, LayerInfo, Normalization, layer_table, list_models, load_model
from .models.optimize import optimize
from .models.registry import model_spec
from .settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    MAX_PIXELS,
    TOUR_CONFIG,
    TOUR_SIZE,
    TOUR_SIZES,
    DreamConfig,
    megapixels,
)


DEVICES = "cpu, cuda, cuda:N, mps or auto"


def mps_available() -> bool:
    """Whether PyTorch can use an Apple-silicon GPU (Metal Performance Shaders) here."""
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(name: str = "cpu") -> torch.device:
    """'cpu', 'cuda', 'cuda:N', 'mps' or 'auto' (CUDA, else Apple's MPS, else the CPU) -> a
    usable device, or one sentence saying why not."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InceptionismError(f"Unknown device '{name}'; use {DEVICES}.") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            problem = "CUDA was asked for, but PyTorch sees no CUDA device here"
            raise InceptionismError(f"{problem}; use the CPU.", remedy="cpu", problem=problem)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InceptionismError(
                f"There is no {device}; this machine has {torch.cuda.device_count()} CUDA device(s)."
            )
        from .engine.runtime import reproducible_cuda

        reproducible_cuda()
    elif device.type == "mps":
        if not mps_available():
            problem = ("MPS was asked for, but PyTorch sees no Apple-silicon GPU here (it needs "
                       "macOS 12.3 or later on an M-series Mac)")
            raise InceptionismError(f"{problem}; use the CPU.", remedy="cpu", problem=problem)
    elif device.type != "cpu":
        raise InceptionismError(f"Device '{name}' is not supported; use {DEVICES}.")
    return device


class Dreamer:
    """A model, loaded once, ready to dream."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        weights: str | Path | None = None,
        device: str = "cpu",
        progress: bool = True,
        fast: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        preprocess: str | Normalization | None = None,
    ):
        """``model``: a registered name, or the path of an ONNX (``.onnx``) or frozen
        TensorFlow (``.pb``) file.
        ``weights``: a weights file to use instead of the model's own source (a state dict;
        for inception5h its zip or .pb; for bvlc_googlenet its .onnx).
        ``max_pixels``: the most pixels this Dreamer works on at once, counted where the work
        is (an image up-scaled to the smallest octave size, a guide scaled for the network, a
        video frame), not in the file; more is refused before any work.
        ``progress``: show a progress bar on stderr if the weights must be downloaded.
        ``fast``: fold batch norms and run channels-last (the same function, faster; see
        models/optimize.py); off, the network dreams exactly as loaded.
        ``preprocess``: the network's input convention, replacing the model's own (see
        models/preprocess.py: caffe, torch, tf, inception5h, raw or key=value pairs); a
        model file's default is torch."""
        self.max_pixels = MAX_PIXELS.check(max_pixels)
        # Once per process, for every front end (CLI, web, workers): the allocator, one
        # thread per operation and the tile workers (runtime.py; INCEPTIONISM_THREADS).
        start_up()
        self.spec = model_spec(model, preprocess)
        self.device = resolve_device(device)
        self.model = load_model(self.spec, weights, self.device, progress=progress)
        # Where the weights came from, as recorded with outputs and in video fingerprints.
        self.weights_source = str(weights) if weights is not None else self.spec.weights.describe()
        if fast:
            self.model = optimize(self.model, consume=True)  # loaded just now, for this alone

    @classmethod
    def from_module(
        cls,
        module: nn.Module,
        preprocess: str | Normalization = "torch",
        layers: Sequence[str] | None = None,
        default_layers: Sequence[str] | None = None,
        logits_layer: str | None = None,
        labels: Sequence[str] | None = None,
        device: str = "cpu",
        input_size: int = 224,
        name: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> Dreamer:
        """A Dreamer on any PyTorch module (Places365, a fine-tuned classifier...).

        ``layers``: the submodules to tap, by ``named_modules()`` name, nested ones included
        (``inception4c.branch2``, ``layer3.1``); default: every leaf module. The forward pass
        stops after the deepest one a dream needs. ``preprocess``: the input convention the
        module was trained with (default torch's ImageNet mean/std). ``default_layers``: what
        a dream maximizes when no objective is given (default: the tap 60% of the way down).
        ``logits_layer``: the submodule whose output is the class logits, for ``class=``
        terms; ``labels``: their names (default: indices only, unless the logits have the
        1000 ImageNet classes). The module is used as it is (eval mode, frozen), not copied.
        """
        from .models.module_net import ModuleNet
        from .models.preprocess import parse_preprocess
        from .models.registry import LocalFile, ModelSpec

        normalization = parse_preprocess(preprocess) if isinstance(preprocess, str) else preprocess
        net = ModuleNet(module, layers, also=logits_layer)
        taps = net.stage_names
        default = tuple(default_layers or (taps[round(0.6 * (len(taps) - 1))],))
        net.check_layers(default)
        label = name or type(module).__name__
        spec = ModelSpec(
            name=label, build=None, load=lambda _path: net, weights=LocalFile(Path(f"<module {label}>")),
            normalization=normalization, default_layers=default, input_size=input_size,
            logits_layer=logits_layer or taps[-1], description=f"PyTorch module {label}",
        )
        self = cls.__new__(cls)
        self.max_pixels = MAX_PIXELS.check(max_pixels)
        self.spec = spec
        self.device = resolve_device(device)
        self.model = DreamNet(net.eval().requires_grad_(False), normalization).to(self.device)
        self.weights_source = f"Python module {label}"
        self.module_labels = tuple(labels) if labels is not None else None
        return self

    @property
    def labels(self) -> tuple[str, ...] | None:
        """The class names ``class=NAME`` terms look up: the file's own (inception5h's 1008),
        the ImageNet 1000 (None) for registered ImageNet models, or () for indices only."""
        own = getattr(self, "module_labels", None)
        if own is not None:
            return own
        net_labels = getattr(self.model.net, "labels", None)
        if net_labels is not None:
            return net_labels
        if self.spec.build is None and self.spec.name not in list_models():
            return ()  # a model file or module nobody described: indices only
        return None

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.model.layer_names

    @property
    def tour_layers(self) -> tuple[str, ...]:
        """What ``explore`` visits by default: the model's own tour (inception5h: the seed's
        twelve layers; a model file: twelve evenly spaced feature maps), else every layer."""
        return self.spec.tour_layers or self.layer_names

    def tour_label(self, name: str) -> str:
        """A tile's caption: the layer's name, after its number in the model's tour when the
        tour is numbered (inception5h: "7 mixed4c", as the seed numbered its layers)."""
        if self.spec.tour_numbered and name in self.spec.tour_layers:
            return f"{self.spec.tour_layers.index(name)} {name}"
        return name

    def layers(self) -> list[LayerInfo]:
        """Each named layer, shallow to deep, with its channel count and output stride."""
        return layer_table(self.model.net, self.spec.input_size)

    def resolved(self, config: DreamConfig) -> DreamConfig:
        """``config`` with an ``"auto"`` precision made concrete for this model and device:
        what a stored recipe records, so that a re-run computes in the same arithmetic."""
        return dataclasses.replace(config, precision=resolve_precision(config.precision, self.model))

    def check_size(self, width: int, height: int, config: DreamConfig = DreamConfig(),
                   what: str = "image") -> None:
        """Refuse, before any work, a ``width`` x ``height`` ``what`` this Dreamer would not
        dream with ``config``: one sentence naming its working size and the limit."""
        config.validate()
        check_working_size(height, width, fit_to_model(config, self.model), self.max_pixels, what)

    def objective(self, objective: str | Objective | None = None) -> Objective:
        """Turn a CLI string, an Objective or None (the model's defaults) into an Objective
        whose layers this model has. ``class=`` terms read the model's logits layer."""
        if objective is None:
            objective = ",".join(self.spec.default_layers)
        if isinstance(objective, str):
            objective = parse(objective, logits_layer=self.spec.logits_layer, labels=self.labels,
                              layer_names=self.layer_names)
        self.model.net.check_layers(objective.layers)
        return objective

    def guide_tensor(self, guide_image: Tensor) -> Tensor:
        """The guide as the network sees it: scaled so its shorter side is the model's
        training resolution, where its features mean what the network learned."""
        height, width = guide_image.shape[-2:]
        if min(height, width) < 1:
            raise InceptionismError(f"A guide image needs at least 1 pixel a side (got {width}x{height}).")
        f = self.spec.input_size / min(height, width)
        size = (max(1, round(height * f)), max(1, round(width * f)))
        if size[0] * size[1] > self.max_pixels:
            problem = (
                f"A {width}x{height} guide image is seen by the network at {size[1]}x{size[0]} "
                f"(its shorter side scaled to the model's {self.spec.input_size}), which is "
                f"{megapixels(size[0] * size[1])} megapixels, more than the limit of "
                f"{megapixels(self.max_pixels)} megapixels")
            raise InceptionismError(f"{problem}.", remedy="pixel_limit", problem=problem)
        return resize(guide_image.to(self.device, torch.float32), size).clamp(0, 1)

    def guided(
        self, objective: str | Objective | None, guide_image: Image.Image | np.ndarray | Tensor
    ) -> Objective:
        """A guided objective: each whole-layer term of ``objective`` becomes a
        :func:`~inceptionism.engine.objectives.guide` term toward ``guide_image``'s features at that
        layer, with the same weight. Channel and class terms cannot be guided."""
        objective = self.objective(objective)
        x = self.guide_tensor(as_tensor(guide_image))
        parts = []
        for weight, term in objective.terms:
            if term.spec not in self.layer_names:
                raise InceptionismError(
                    f"A guided dream follows whole layers, and '{term.spec or term.name}' is not "
                    f"one; use layer names such as {self.spec.default_layers[0]}."
                )
            with torch.no_grad(), one_thread():  # thread-invariant, like the dream
                features = self.model.features(x, [term.spec])[term.spec]
            part = guide(term.spec, features)
            parts.append(part if weight == 1.0 else weight * part)
        return parts[0] if len(parts) == 1 else sum(parts[1:], parts[0])

    def dream_tensor(
        self,
        image: Tensor,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
        on_octave: OctaveCallback | None = None,
        cancel: CancelToken | None = None,
        mask: Tensor | np.ndarray | None = None,
    ) -> Tensor:
        """(1, 3, H, W) RGB in [0, 1] -> dreamed tensor of the same shape, on the CPU.

        ``callback``: after every step; ``on_octave``: after every octave, with the image so
        far; ``cancel``: a :class:`~inceptionism.CancelToken` that stops the dream (raising
        :class:`~inceptionism.errors.Cancelled`) at the next step once set; ``mask``: (H, W)
        weights in [0, 1], white dreams, black is left as it is bit for bit."""
        objective = self.objective(objective)
        if mask is not None:
            mask = torch.as_tensor(np.asarray(mask, dtype=np.float32) if isinstance(
                mask, np.ndarray) else mask).to(self.device)
        out = dream(self.model, image.to(self.device, torch.float32), objective, config, callback,
                    on_octave, cancel, max_pixels=self.max_pixels, mask=mask)
        return out.cpu()

    def dream_array(
        self,
        rgb: np.ndarray,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
        on_octave: OctaveCallback | None = None,
        cancel: CancelToken | None = None,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """(H, W, 3) float RGB in [0, 1] -> dreamed array of the same shape; ``mask`` as in
        :meth:`dream_tensor`."""
        out = self.dream_tensor(to_tensor(rgb), objective, config, callback, on_octave, cancel,
                                mask)
        return to_array(out)

    def dream(
        self,
        image: Image.Image,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
        on_octave: OctaveCallback | None = None,
        cancel: CancelToken | None = None,
        mask: Image.Image | None = None,
    ) -> Image.Image:
        """Dream on a Pillow image. An alpha channel is carried through unchanged.
        ``mask``: a black-and-white (or grey) image, resized to the photo: white dreams,
        black is left as it is, grey partly."""
        rgb, alpha = pil_to_rgb(image)
        weights = None if mask is None else mask_from_pil(mask, image.size)
        return to_pil(self.dream_array(rgb, objective, config, callback, on_octave, cancel,
                                       weights), alpha)

    def explore(
        self,
        image: Image.Image | np.ndarray | Tensor,
        layers: list[str] | None = None,
        config: DreamConfig = TOUR_CONFIG,
        size: int = TOUR_SIZE,
        callback: TourCallback | None = None,
        cancel: CancelToken | None = None,
        on_layer: Callable[[str, Image.Image], None] | None = None,
    ) -> Tour:
        """The layer tour: ``image`` shrunk to ``size`` on its longest side, then dreamed at each
        of ``layers`` (default: every layer, shallow to deep). Lay the result out with
        :func:`inceptionism.io.sheet.contact_sheet`. ``on_layer`` gets each layer's name and
        tile as soon as it is dreamed."""
        TOUR_SIZES.check(size)
        x = shrink(as_tensor(image), size).to(self.device, torch.float32)
        relay = None if on_layer is None else (lambda name, d: on_layer(name, _pil(d)))
        dreams = tour(self.model, x, list(layers or self.tour_layers), config, callback, cancel,
                      max_pixels=self.max_pixels, on_layer=relay)
        return Tour(_pil(x), [(name, _pil(d)) for name, d in dreams.items()])


@dataclass(frozen=True)
class Tour:
    original: Image.Image  # the shrunken photo every layer dreamed on
    dreams: list[tuple[str, Image.Image]]  # (layer, dream), in tour order


def as_tensor(image: Image.Image | np.ndarray | Tensor) -> Tensor:
    """A Pillow image, an (H, W, 3) array or a (1, 3, H, W) tensor in [0, 1] -> (1, 3, H, W)."""
    if isinstance(image, Tensor):
        return image
    if isinstance(image, Image.Image):
        image, _ = pil_to_rgb(image)
    return to_tensor(image)


def _pil(x: Tensor) -> Image.Image:
    return to_pil(to_array(x))

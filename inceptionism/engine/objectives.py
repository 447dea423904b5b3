"""What a dream maximizes, as composable values.

An :class:`Objective` maps a dict of layer activations to a scalar and names the layers it
needs (so the forward pass can stop at the deepest one). Objectives add and scale::

    layer("b10") + 0.5 * channel("b12", 37) + 2 * imagenet_class("jellyfish")

and :func:`parse` reads the short CLI form, comma-separated terms ``TARGET[:WEIGHT]``:

    b10                     the whole layer b10
    b12/37, b12/3+37+40     one or several channels of b12
    class=jellyfish         the logit of an ImageNet class, by name or index (class=107)
    b10:0.7,b12/37:0.3      a weighted sum of any of the above

Every objective built from these parts carries ``spec``, that same string form, so an
output's metadata can store the objective and ``--params-from`` can rebuild it exactly.
:func:`guide` (the guided dream) needs an image's features and has no string form.
(The value-based design follows lucent's ``optvis/objectives.py``.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..classes import class_index, imagenet_classes
from ..errors import InceptionismError

Activations = dict[str, Tensor]

CLASS_PREFIX = "class="
# The most terms one objective may have. Every term is evaluated on every tile at every
# step; a few dozen is already more than any look needs, and more is only a way to stall.
MAX_TERMS = 1000
# Term weights are relative (the step is normalized), so a ratio of 10^6 between two terms
# is plenty; larger weights overflow float32 activations into infinity.
MAX_WEIGHT = 1000.0
_WEIGHT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_CHANNEL_RE = re.compile(r"[0-9]+", re.ASCII)
MAX_CHANNEL_DIGITS = 6  # no layer has a million channels


def check_weight(k: object) -> float:
    """A term weight as a float, or one sentence: finite and at most ``MAX_WEIGHT`` in size."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) \
            or abs(k) > MAX_WEIGHT:
        raise InceptionismError(
            f"An objective's weight must be a number from {-MAX_WEIGHT:g} to {MAX_WEIGHT:g} "
            f"(got {k!r}).")
    return float(k)


def check_term_count(n: int) -> None:
    if n > MAX_TERMS:
        raise InceptionismError(f"An objective may have at most {MAX_TERMS} terms (got {n}).")


class Objective:
    """A scalar function of activations, with the layers it reads, a name and a spec.

    ``spec`` is the string :func:`parse` turns back into this objective, or None when
    there is none (custom functions, guided dreams).
    """

    def __init__(
        self,
        fn: Callable[[Activations], Tensor],
        layers: Sequence[str],
        name: str,
        spec: str | None = None,
    ):
        self.fn = fn
        self.layers = tuple(dict.fromkeys(layers))  # unique, in first-seen order
        self.name = name
        self.spec = spec

    @property
    def terms(self) -> tuple[tuple[float, Objective], ...]:
        """(weight, primitive objective) pairs whose weighted sum this objective is."""
        return ((1.0, self),)

    def __call__(self, acts: Activations) -> Tensor:
        return self.fn(acts)

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return WeightedSum(self.terms + other.terms)

    def __radd__(self, other: object) -> Objective:
        if isinstance(other, (int, float)) and other == 0:  # lets sum() start from 0
            return self
        return NotImplemented

    def __mul__(self, k: float) -> Objective:
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            return NotImplemented
        k = check_weight(k)
        return WeightedSum(tuple((k * w, o) for w, o in self.terms))

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1 * self

    def __sub__(self, other: Objective) -> Objective:
        return self + (-1 * other)


class WeightedSum(Objective):
    """A flat weighted sum of primitive objectives: what ``+`` and ``*`` build.

    Sums stay flat (``(a + b) + c`` has three terms) and scaling multiplies the weights, so
    an objective built in Python and the one parsed back from its spec compute the same
    expression, term by term, and give bit-identical dreams.
    """

    def __init__(self, terms: tuple[tuple[float, Objective], ...]):
        check_term_count(len(terms))
        for w, _ in terms:
            if not math.isfinite(w):
                raise InceptionismError(f"An objective's weight must be finite (got {w!r}).")
        self._terms = terms
        layers = [name for _, o in terms for name in o.layers]
        name = " + ".join(o.name if w == 1 else f"{w:g}*{o.name}" for w, o in terms)
        specs = [o.spec for _, o in terms]
        spec = None
        if None not in specs:
            # repr() of a float is the shortest string that reads back as the same float.
            spec = ",".join(s if w == 1 else f"{s}:{w!r}" for (w, _), s in zip(terms, specs))
        super().__init__(self._evaluate, layers, name, spec)

    @property
    def terms(self) -> tuple[tuple[float, Objective], ...]:
        return self._terms

    def _evaluate(self, acts: Activations) -> Tensor:
        total = None
        for w, o in self._terms:
            value = w * o(acts)
            total = value if total is None else total + value
        return total


def layer(name: str) -> Objective:
    """The mean squared activation of a whole layer (DeepDream's classic L2 objective)."""
    return Objective(lambda a: a[name].pow(2).mean(), [name], name, spec=name)


def channels(name: str, indices: Sequence[int]) -> Objective:
    """The mean squared activation of some channels of a layer (mean over those channels)."""
    indices = [int(i) for i in indices]
    if not indices:
        raise InceptionismError(f"No channels given for layer {name}.")
    if any(i < 0 for i in indices):
        raise InceptionismError(f"Channel numbers start at 0 (got {min(indices)} for layer {name}).")
    label = f"{name}/{'+'.join(str(i) for i in indices)}"

    def fn(a: Activations) -> Tensor:
        act = a[name]
        bad = [i for i in indices if i >= act.shape[1]]
        if bad:
            raise InceptionismError(
                f"Channel {bad[0]} does not exist: layer {name} has channels 0 to {act.shape[1] - 1}."
            )
        return act[:, indices].pow(2).mean()

    return Objective(fn, [name], label, spec=label)


def channel(name: str, index: int) -> Objective:
    """The mean squared activation of one channel of a layer."""
    return channels(name, [index])


def imagenet_class(which: str | int, logits_layer: str = "logits",
                   labels: Sequence[str] | None = None) -> Objective:
    """The logit of one ImageNet class ("dream of jellyfish"), by name or index.

    ``logits_layer`` is the stage that outputs the class logits: a model's
    ``ModelSpec.logits_layer``. The raw logit is maximized, not the softmax probability,
    so the dream adds the class's features rather than removing every other class's.
    ``labels``: the model's own class names where they are not the 1000 ImageNet classes
    in torchvision's order (inception5h's 1008; an empty tuple: indices only).
    Logits with more than one row (a classifier run at every window of a larger input)
    count by their mean.
    """
    index = class_index(which, labels)
    names = imagenet_classes() if labels is None else labels
    label = f"{CLASS_PREFIX}{names[index] if index < len(names) else index}"

    def fn(a: Activations) -> Tensor:
        logits = a[logits_layer]
        if logits.dim() < 2 or logits.shape[1] <= index:
            raise InceptionismError(
                f"Layer {logits_layer} has no output {index}: it is not the model's class logits."
            )
        return logits[:, index].mean()  # also right for spatial (N, K, H, W) logits

    return Objective(fn, [logits_layer], label, spec=label)


def guide(name: str, features: Tensor, max_vectors: int = 4096, chunk: int = 1 << 22) -> Objective:
    """Push each position's features at layer ``name`` toward the best-matching guide feature.

    ``features`` are the guide image's activations at that layer, (1, C, h, w) or (C, M).
    This is the guided dream of the original deepdream notebook: at every position the
    gradient sent back is the guide feature vector with the largest dot product with the
    position's own features. The value is the mean of those dot products; its gradient is
    exactly the notebook's. At most ``max_vectors`` guide positions are kept (evenly
    spaced), and the best match is found ``chunk`` dot products at a time, so memory stays
    bounded on large images and shallow layers.
    """
    target = features.detach()
    target = target.flatten(2)[0] if target.dim() == 4 else target  # (C, M)
    if target.dim() != 2:
        raise ValueError(f"guide features must be (1, C, h, w) or (C, M), got {tuple(features.shape)}")
    if target.shape[1] > max_vectors:
        keep = torch.linspace(0, target.shape[1] - 1, max_vectors, device=target.device).round().long()
        target = target[:, keep]

    def fn(a: Activations) -> Tensor:
        x = a[name].flatten(2)[0]  # (C, N)
        if x.shape[0] != target.shape[0]:
            raise InceptionismError(
                f"The guide's features have {target.shape[0]} channels, layer {name} has {x.shape[0]}."
            )
        y = target.to(x.dtype)
        rows = max(1, chunk // y.shape[1])
        with torch.no_grad():
            best = torch.cat([(x[:, i:i + rows].T @ y).argmax(1) for i in range(0, x.shape[1], rows)])
        return (x * y[:, best]).sum(0).mean()

    return Objective(fn, [name], f"guide({name})")


class _GraphLayerNames:
    """Stands for "any layer name": a '/' term is a whole layer unless what follows its
    last '/' is channel numbers. For reading a stored objective without its model."""

    def __contains__(self, name: object) -> bool:
        last = str(name).rpartition("/")[2]
        return not all(c.strip().isascii() and c.strip().isdigit() for c in last.split("+"))


ANY_LAYER_NAMES = _GraphLayerNames()


def _is_layer_name(target: str, layer_names: Sequence[str] | None) -> bool:
    """Whether a term with '/' names a whole layer (graph layers such as
    ``inception_4c/output_1``): only when the model's ``layer_names`` are known."""
    return layer_names is not None and target in layer_names


def parse(spec: str, logits_layer: str = "logits", labels: Sequence[str] | None = None,
          layer_names: Sequence[str] | None = None) -> Objective:
    """Read the CLI form: comma-separated terms ``TARGET[:WEIGHT]`` (see the module doc).

    ``logits_layer`` is where ``class=`` terms read their logits, ``labels`` the model's
    class names (default: the 1000 ImageNet classes). ``layer_names``, when given, tells
    layers whose names hold '/' from channel terms. Layer names are checked against a
    model later, by the model itself. Linear in the length of ``spec``; at most
    :data:`MAX_TERMS` terms, weights and channel numbers in ASCII digits only.
    """
    if not isinstance(spec, str):
        raise InceptionismError(
            f"An objective must be text such as 'b10' or 'b10:0.7,b12/37' (got {type(spec).__name__}).")
    terms = spec.split(",")
    check_term_count(len(terms))
    terms = [t.strip() for t in terms]
    if not spec.strip() or any(not t for t in terms):
        raise InceptionismError(f"Objective '{_short(spec)}' is empty or has an empty term.")
    weighted: list[tuple[float, Objective]] = []
    for term in terms:
        target, _, weight_text = term.partition(":")
        target, weight_text = target.strip(), weight_text.strip()
        weight = 1.0
        if weight_text:
            if not _WEIGHT_RE.fullmatch(weight_text):
                raise InceptionismError(
                    f"Weight '{_short(weight_text)}' in '{_short(term)}' is not a number.")
            weight = float(weight_text)
            if not math.isfinite(weight) or abs(weight) > MAX_WEIGHT:
                raise InceptionismError(
                    f"Weight '{_short(weight_text)}' in '{_short(term)}' must be a number from "
                    f"{-MAX_WEIGHT:g} to {MAX_WEIGHT:g}.")
        if target.startswith(CLASS_PREFIX):
            part = imagenet_class(target[len(CLASS_PREFIX):].strip(), logits_layer, labels)
        elif "/" in target and not _is_layer_name(target, layer_names):
            # Channels follow the last '/': graph layers have '/' in their names
            # (inception_4c/output_1/97 is channel 97 of inception_4c/output_1).
            name, _, channel_text = target.rpartition("/")
            numbers = [c.strip() for c in channel_text.split("+")]
            if not all(_CHANNEL_RE.fullmatch(c) for c in numbers):
                raise InceptionismError(
                    f"Channels '{_short(channel_text)}' in '{_short(term)}' are not whole numbers "
                    "joined by '+'."
                )
            big = next((c for c in numbers if len(c.lstrip("0")) > MAX_CHANNEL_DIGITS), None)
            if big is not None:
                raise InceptionismError(f"Channel {_short(big)} in '{_short(term)}' is too large; "
                                        "no layer has a million channels.")
            part = channels(name.strip(), [int(c) for c in numbers])
        elif "=" in target:
            raise InceptionismError(
                f"Unknown term '{_short(target)}'; the only NAME=VALUE term is class=NAME.")
        else:
            part = layer(target)
        weighted.append((weight, part))
    if len(weighted) == 1:
        weight, part = weighted[0]
        return part if weight == 1.0 else weight * part
    # One flat sum built at once: adding terms one by one copies the sum each time (quadratic).
    return WeightedSum(tuple((weight * w, o) for weight, part in weighted for w, o in part.terms))


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message (a stored objective can be huge)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."

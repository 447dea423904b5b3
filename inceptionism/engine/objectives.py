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


EMPTY = ("The objective is empty; name a layer (b10), channels (b12/37) or a class "
         "(class=goldfish), or leave the objective out for the model's default layers.")


def check_given(spec: object) -> None:
    """Refuse an objective that was given but holds nothing: ``""`` or blanks (what a script
    sends when its variable is unset). Only ``None`` means "the model's default layers"."""
    if isinstance(spec, str) and not spec.strip():
        raise InceptionismError(EMPTY)


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


class _MeanSquare(torch.autograd.Function):
    """``x.pow(2).mean()``, whose backward is one pass in ``x``'s own memory layout. Autograd's
    backward of ``pow`` and ``mean`` takes three (divide, double, multiply by the expanded
    scalar, the last on a stride-0 operand, which defeats the layout-preserving fast path):
    measured on a channels-last 768 x 25 x 22 layer, 1.7 ms against 0.2 ms. The same bits:
    ``(g / n) * (2 * x)`` and ``x * ((g / n) * 2)`` round the same product once."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return x.pow(2).mean()

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return x * (grad / x.numel() * 2)


def mean_square(x: Tensor) -> Tensor:
    """The mean of ``x`` squared (a 0-dim tensor), differentiable."""
    return _MeanSquare.apply(x)


def layer(name: str) -> Objective:
    """The mean squared activation of a whole layer (DeepDream's classic L2 objective)."""
    return Objective(lambda a: mean_square(a[name]), [name], name, spec=name)


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
        return mean_square(act[:, indices])

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
    check_given(spec)
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
        visual = parse_visual_term(target)  # mean=, neuron=, direction=, diversity=
        if visual is not None:
            part = visual
        elif target.startswith(CLASS_PREFIX):
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
                f"Unknown term '{_short(target)}'; the NAME=VALUE terms are class=, "
                f"{', '.join(VISUAL_PREFIXES)}.")
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


# --- Feature visualization objectives -----------------------------------------------------
# Objectives for visualizing what a unit responds to, from noise (Olah, Mordvintsev and
# Schubert, "Feature Visualization", Distill 2017; after lucid's and lucent's objectives).
# Unlike the dream objectives above, which square activations, these read them raw: a
# visualization should show what makes a unit positive, not what makes it large either way.
# String forms (read by :func:`parse` through :func:`parse_visual_term`):
#
#     mean=b10/37             the mean activation of channel 37 of b10
#     neuron=b10/37           channel 37 at the centre position of b10
#     neuron=b10/37@2;5       channel 37 at row 2, column 5
#     direction=b10@V;V;...   the mean projection onto a direction in channel space (unit length)
#     diversity=b10           minus the mean cosine similarity of a batch's Gram matrices
#
# caricature() needs a photo's features and has no string form (like guide()).

VISUAL_PREFIXES = ("mean=", "neuron=", "direction=", "diversity=")
MAX_DIRECTION = 100_000  # components of a direction: wider than any layer


def _channel_of(name: str, act: Tensor, index: int) -> None:
    if index >= act.shape[1]:
        raise InceptionismError(
            f"Channel {index} does not exist: layer {name} has channels 0 to {act.shape[1] - 1}.")


def channel_mean(name: str, index: int) -> Objective:
    """The mean (raw, not squared) activation of one channel over all positions and images:
    the objective of a channel visualization."""
    index = int(index)
    if index < 0:
        raise InceptionismError(f"Channel numbers start at 0 (got {index} for layer {name}).")
    label = f"mean={name}/{index}"

    def fn(a: Activations) -> Tensor:
        act = a[name]
        _channel_of(name, act, index)
        return act[:, index].mean()

    return Objective(fn, [name], label, spec=label)


def neuron(name: str, index: int, y: int | None = None, x: int | None = None) -> Objective:
    """One channel's activation at one position (row ``y``, column ``x`` of the layer's
    grid; the centre, ``size // 2``, where not given), averaged over the batch."""
    index = int(index)
    if index < 0 or (y is not None and y < 0) or (x is not None and x < 0):
        raise InceptionismError(f"A neuron's channel and position start at 0 (layer {name}).")
    where = "" if y is None and x is None else f"@{'' if y is None else y};{'' if x is None else x}"
    label = f"neuron={name}/{index}{where}"

    def fn(a: Activations) -> Tensor:
        act = a[name]
        _channel_of(name, act, index)
        if act.dim() != 4:
            raise InceptionismError(f"Layer {name} has no positions; use mean={name}/{index}.")
        h, w = act.shape[2], act.shape[3]
        row = h // 2 if y is None else y
        col = w // 2 if x is None else x
        if row >= h or col >= w:
            raise InceptionismError(
                f"Position ({row}, {col}) is outside layer {name}'s {h}x{w} grid at this size.")
        return act[:, index, row, col].mean()

    return Objective(fn, [name], label, spec=label)


def direction(name: str, vector: Sequence[float] | Tensor) -> Objective:
    """The mean over positions and images of each position's activation vector projected on
    ``vector`` (a direction in the layer's channel space, scaled to unit length; the spec
    holds it as given)."""
    v = torch.as_tensor(vector, dtype=torch.float64).flatten()
    norm = float(v.norm())
    if v.numel() == 0 or not math.isfinite(norm) or norm == 0:
        raise InceptionismError(f"A direction in layer {name} needs a finite, non-zero vector.")
    if v.numel() > MAX_DIRECTION:
        raise InceptionismError(f"A direction may have at most {MAX_DIRECTION} components "
                                f"(got {v.numel()}).")
    # The spec keeps the vector as given (float64 reads back exactly); normalizing it there
    # would change its last bits at every round trip.
    label = f"direction={name}@" + ";".join(repr(float(c)) for c in v)
    v = v / norm

    def fn(a: Activations) -> Tensor:
        act = a[name]
        if act.shape[1] != v.numel():
            raise InceptionismError(
                f"The direction has {v.numel()} components, layer {name} has {act.shape[1]} channels.")
        d = v.to(act.device, act.dtype).view((1, -1) + (1,) * (act.dim() - 2))
        return (act * d).sum(1).mean()

    return Objective(fn, [name], f"direction({name})", spec=label)


def diversity(name: str) -> Objective:
    """Minus the mean cosine similarity between the Gram matrices (channel x channel
    correlations over positions) of every pair of images in the batch: adding it to a
    visualization of a batch makes the images show different facets of the unit (lucid's
    ``diversity``). Zero for a batch of one."""
    label = f"diversity={name}"

    def fn(a: Activations) -> Tensor:
        act = a[name]
        n = act.shape[0]
        if n < 2:
            return act.sum() * 0
        flat = act.flatten(2)  # (N, C, P)
        gram = (flat @ flat.transpose(1, 2)).flatten(1)  # (N, C*C)
        gram = gram / gram.norm(dim=1, keepdim=True).clamp_min(1e-12)
        sim = gram @ gram.T
        return -(sim.sum() - sim.diagonal().sum()) / (n * (n - 1))

    return Objective(fn, [name], label, spec=label)


def caricature(name: str, features: Tensor, cossim_pow: float = 1.0) -> Objective:
    """What a photo's own activations at layer ``name`` emphasize: the dot product of the
    image's activations with ``features`` (the photo's, (1, C, h, w)) times their cosine
    similarity (at least 0.1) to the power ``cossim_pow`` (lucid's caricature). The photo's
    features are resized to the layer's grid where its size differs (robustness transforms
    change the image's size). No string form: it needs the photo."""
    target = features.detach()
    if target.dim() != 4 or target.shape[0] != 1:
        raise InceptionismError(
            f"A caricature's features must be (1, C, h, w), got {tuple(target.shape)}.")

    def fn(a: Activations) -> Tensor:
        act = a[name]
        if act.shape[1] != target.shape[1]:
            raise InceptionismError(
                f"The photo's features have {target.shape[1]} channels, "
                f"layer {name} has {act.shape[1]}.")
        t = target.to(act.device, act.dtype)
        if t.shape[2:] != act.shape[2:]:
            t = torch.nn.functional.interpolate(t, size=act.shape[2:], mode="bilinear",
                                                align_corners=False)
        x, y = act.flatten(1), t.flatten(1)
        dot = (x * y).sum(1)
        cos = dot / (x.norm(dim=1) * y.norm(dim=1) + 1e-6)
        return (dot * cos.clamp_min(0.1) ** cossim_pow).mean() / x.shape[1]

    return Objective(fn, [name], f"caricature({name})")


def parse_visual_term(target: str) -> Objective | None:
    """The objective of one ``mean=``, ``neuron=``, ``direction=`` or ``diversity=`` term,
    or None when ``target`` is none of them (see the comment above :data:`VISUAL_PREFIXES`)."""
    prefix = next((p for p in VISUAL_PREFIXES if target.startswith(p)), None)
    if prefix is None:
        return None
    body = target[len(prefix):].strip()
    forms = {"mean=": "mean=LAYER/CHANNEL", "neuron=": "neuron=LAYER/CHANNEL[@ROW;COLUMN]",
             "direction=": "direction=LAYER@V;V;...", "diversity=": "diversity=LAYER"}
    bad = InceptionismError(f"'{_short(target)}' is not of the form {forms[prefix]}.")
    if prefix == "diversity=":
        if not body:
            raise bad
        return diversity(body)
    if prefix == "direction=":
        name, _, numbers = body.rpartition("@")
        values = numbers.split(";")
        if not name.strip() or not all(_WEIGHT_RE.fullmatch(c.strip()) for c in values):
            raise bad
        if len(values) > MAX_DIRECTION:
            raise InceptionismError(f"A direction may have at most {MAX_DIRECTION} components.")
        return direction(name.strip(), [float(c) for c in values])
    where = ""
    if prefix == "neuron=" and "@" in body:
        body, _, where = body.rpartition("@")
    name, _, index = body.rpartition("/")
    if not name.strip() or not _CHANNEL_RE.fullmatch(index.strip()) \
            or len(index.strip()) > MAX_CHANNEL_DIGITS:
        raise bad
    if prefix == "mean=":
        return channel_mean(name.strip(), int(index))
    pos = [c.strip() for c in where.split(";")] if where else ["", ""]
    if len(pos) != 2 or not all(c == "" or (_CHANNEL_RE.fullmatch(c) and len(c) <= MAX_CHANNEL_DIGITS)
                                for c in pos):
        raise bad
    y, x = (int(c) if c else None for c in pos)
    return neuron(name.strip(), int(index), y, x)

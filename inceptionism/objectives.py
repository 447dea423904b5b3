"""What a dream maximizes, as composable values.

An :class:`Objective` maps a dict of layer activations to a scalar and names the layers it
needs (so the forward pass can stop at the deepest one). Objectives add and scale::

    layer("b10") + 0.5 * channel("b12", 37)

and :func:`parse` reads the short CLI form ``b10``, ``b10:0.7,b12:0.3`` or ``b12/37``.
(The value-based design follows lucent's ``optvis/objectives.py``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor

from .errors import InceptionismError

Activations = dict[str, Tensor]


class Objective:
    def __init__(self, fn: Callable[[Activations], Tensor], layers: Sequence[str], name: str):
        self.fn = fn
        self.layers = tuple(dict.fromkeys(layers))  # unique, in first-seen order
        self.name = name

    def __call__(self, acts: Activations) -> Tensor:
        return self.fn(acts)

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(lambda a: self(a) + other(a), self.layers + other.layers,
                         f"{self.name} + {other.name}")

    def __radd__(self, other: object) -> Objective:
        if other == 0:  # lets sum() start from 0
            return self
        return NotImplemented

    def __mul__(self, k: float) -> Objective:
        if not isinstance(k, (int, float)):
            return NotImplemented
        return Objective(lambda a: k * self(a), self.layers, f"{k:g}*{self.name}")

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1 * self

    def __sub__(self, other: Objective) -> Objective:
        return self + (-1 * other)


def layer(name: str) -> Objective:
    """The mean squared activation of a whole layer (DeepDream's classic L2 objective)."""
    return Objective(lambda a: a[name].pow(2).mean(), [name], name)


def channel(name: str, index: int) -> Objective:
    """The mean squared activation of one channel of a layer."""

    def fn(a: Activations) -> Tensor:
        act = a[name]
        if not 0 <= index < act.shape[1]:
            raise InceptionismError(
                f"Channel {index} does not exist: layer {name} has channels 0 to {act.shape[1] - 1}."
            )
        return act[:, index].pow(2).mean()

    return Objective(fn, [name], f"{name}/{index}")


def parse(spec: str) -> Objective:
    """Read the CLI form: comma-separated terms ``LAYER[/CHANNEL][:WEIGHT]``.

    ``b10`` -> layer b10; ``b12/37`` -> channel 37 of b12; ``b10:0.7,b12:0.3`` -> weighted sum.
    Layer names are checked against a model later, by the model itself.
    """
    terms = [t.strip() for t in spec.split(",")]
    if not spec.strip() or any(not t for t in terms):
        raise InceptionismError(f"Objective '{spec}' is empty or has an empty term.")
    objective: Objective | None = None
    for term in terms:
        target, _, weight_text = term.partition(":")
        name, _, channel_text = target.partition("/")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise InceptionismError(f"Weight '{weight_text}' in '{term}' is not a number.") from None
        if channel_text:
            if not channel_text.isdigit():
                raise InceptionismError(f"Channel '{channel_text}' in '{term}' is not a whole number.")
            part = channel(name.strip(), int(channel_text))
        else:
            part = layer(name.strip())
        part = part if weight == 1.0 else weight * part
        objective = part if objective is None else objective + part
    assert objective is not None
    return objective

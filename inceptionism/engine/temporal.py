"""The temporal term of a video's dream: keep what the previous frame dreamed, where it is seen.

After Ruder, Dosovitskiy and Brox, "Artistic style transfer for videos" (GCPR 2016): while
frame t is dreamed, the image ``x`` is pulled towards a *target* ``p`` (the previous dreamed
frame carried along the optical flow), pixel by pixel, with a weight ``c`` in [0, 1] (the
flow's consistency mask: 0 where the pixel has no past, an occlusion or a motion boundary).
The dream then ascends

    objective(x) - strength * penalty(x),      penalty(x) = 1/2 * sum(c * (x - p)^2),

so the network keeps what is already there and dreams anew only where the scene is new.

The dream loop normalizes the objective's gradient (each step moves the pixels by
``step_size`` on average), so ``strength`` is measured against that normalized step: a pixel
settles where ``strength * c * (x - p)`` balances the normalized gradient, i.e. about
``1 / strength`` away from its target. The quadratic term is taken implicitly, as a proximal
step (:func:`pull`): after the ordinary step y, ``x = argmin 1/2 |x - y|^2 + k * penalty(x)``
with ``k = step_size * strength``, which is ``(y + k c p) / (1 + k c)`` in closed form and
stable for any strength (an explicit step would overshoot once ``k c > 2``).

Tensor in, tensor out: the flows and masks are made elsewhere (``video/flow.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .transforms import resize, resize_mask


@dataclass(frozen=True)
class Temporal:
    """What :func:`~inceptionism.engine.loop.dream` needs for the temporal term."""

    target: Tensor  # (1, 3, H, W) in [0, 1]: the previous dream carried into this frame
    weight: Tensor  # (1, 1, H, W) in [0, 1]: where the target is trusted (consistency mask)
    strength: float  # how strongly x is held to the target (0: the term is off)

    def at(self, size: tuple[int, int]) -> Temporal:
        """The term at an octave of (H, W) ``size``."""
        if tuple(self.target.shape[-2:]) == tuple(size):
            return self
        return Temporal(resize(self.target, size), resize_mask(self.weight, size).clamp(0, 1),
                        self.strength)


def penalty(x: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """``1/2 * sum(weight * (x - target)^2)``: how far ``x`` is from its target where it
    has one (a scalar tensor, differentiable in ``x``)."""
    return 0.5 * (weight * (x - target) ** 2).sum()


def penalty_gradient(x: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """The gradient of :func:`penalty` with respect to ``x``: ``weight * (x - target)``."""
    return weight * (x - target)


def pull(y: Tensor, target: Tensor, weight: Tensor, k: float) -> Tensor:
    """The proximal step of ``k * penalty`` from ``y``: the x that minimizes
    ``1/2 |x - y|^2 + k * penalty(x)``, i.e. ``(y + k w p) / (1 + k w)``, in place on ``y``.
    Where the weight is 0 ``y`` is unchanged; a larger ``k`` holds x closer to the target."""
    kw = weight * k
    return y.add_(kw * target).div_(1 + kw)

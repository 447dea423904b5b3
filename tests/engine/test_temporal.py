"""The temporal term: its gradient, its proximal step, and the dream with and without it."""

from __future__ import annotations

import pytest
import torch

from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.engine.temporal import Temporal, penalty, penalty_gradient, pull
from inceptionism.errors import InceptionismError
from inceptionism.settings import DreamConfig

FAST = DreamConfig(octaves=2, steps=4, jitter=4)


def tiny_frame(seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64)
    target = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64)
    weight = torch.rand(1, 1, 4, 5, generator=g, dtype=torch.float64)
    return x, target, weight


def finite_differences(f, x: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x).view(-1)
        e[i] = h
        e = e.view_as(x)
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def test_the_penalty_gradient_is_its_finite_differences():
    x, target, weight = tiny_frame(0)
    numeric = finite_differences(lambda v: penalty(v, target, weight).item(), x)
    torch.testing.assert_close(penalty_gradient(x, target, weight), numeric, rtol=1e-6, atol=1e-8)
    # and what autograd finds
    v = x.clone().requires_grad_(True)
    penalty(v, target, weight).backward()
    torch.testing.assert_close(v.grad, numeric, rtol=1e-6, atol=1e-8)


def test_the_pull_is_the_proximal_step():
    """pull(y) minimizes 1/2 |x - y|^2 + k * penalty(x): there its gradient is zero (by
    finite differences), and any nudge away raises it."""
    y, target, weight = tiny_frame(1)
    k = 3.0
    x = pull(y.clone(), target, weight, k)

    def proximal(v):
        return (0.5 * ((v - y) ** 2).sum() + k * penalty(v, target, weight)).item()

    assert finite_differences(proximal, x).abs().max() < 1e-6
    nudge = 1e-3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=x.dtype)
    assert proximal(x + nudge) > proximal(x)
    # weight 0: untouched; a large k: at the target
    assert torch.equal(pull(y.clone(), target, torch.zeros_like(weight), k), y)
    torch.testing.assert_close(pull(y.clone(), target, torch.ones_like(weight), 1e9), target)


def test_off_the_dream_is_bit_for_bit_the_dream_without_it(tiny_model):
    x = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    plain = dream(tiny_model, x, layer("c3"), FAST)
    off = Temporal(torch.zeros_like(x), torch.ones(1, 1, 48, 64), 0.0)
    assert torch.equal(dream(tiny_model, x, layer("c3"), FAST, temporal=off), plain)


def test_the_term_holds_the_dream_to_its_target_where_the_weight_is_one(tiny_model):
    """With the frame itself as the target, the term keeps the weighted half near the frame
    while the other half dreams as without it (64 pixels high: dreamed at its own size)."""
    x = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(1))
    plain = dream(tiny_model, x, layer("c3"), FAST)
    weight = torch.zeros(1, 1, 64, 96)
    weight[..., :48] = 1

    def change(strength):
        out = dream(tiny_model, x, layer("c3"), FAST, temporal=Temporal(x, weight, strength))
        d = (out - x).abs().mean(1)[0]
        return float(d[:, :40].mean()), float(d[:, 56:].mean())

    free = (plain - x).abs().mean(1)[0]
    held, elsewhere = change(200.0)
    assert held < 0.3 * float(free[:, :40].mean()), (held, free[:, :40].mean())
    assert elsewhere > 0.8 * float(free[:, 56:].mean()), (elsewhere, free[:, 56:].mean())
    assert change(5.0)[0] > 1.5 * held  # a weaker term holds less


def test_a_bad_strength_or_target_is_refused(tiny_model):
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(InceptionismError, match="temporal strength"):
        dream(tiny_model, x, layer("c3"), FAST, temporal=Temporal(x, torch.ones(1, 1, 16, 16), -1.0))
    with pytest.raises(ValueError, match="temporal target"):
        dream(tiny_model, x, layer("c3"), FAST,
              temporal=Temporal(x[..., :8], torch.ones(1, 1, 16, 16), 1.0))

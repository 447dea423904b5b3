"""The guided dream: the notebook's best-matching-feature objective, and what it does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ..conftest import to_tensor

from inceptionism import DreamConfig, Dreamer, guide
from inceptionism.engine.tour import shrink
from inceptionism.errors import InceptionismError


def notebook_gradient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The deepdream notebook's objective_guide, verbatim in NumPy: (C, N), (C, M) -> (C, N)."""
    a = x.T.dot(y)  # dot products of every position with every guide feature
    return y[:, a.argmax(1)]  # the best-matching guide feature at each position


@pytest.mark.parametrize("max_vectors, chunk", [(4096, 1 << 22), (4096, 7)])
def test_guide_gradient_is_the_notebooks(max_vectors, chunk):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 6, 4, 5, generator=g, requires_grad=True)
    y = torch.randn(1, 6, 3, 3, generator=g)
    objective = guide("L", y, max_vectors=max_vectors, chunk=chunk)
    (grad,) = torch.autograd.grad(objective({"L": x}), x)
    expected = notebook_gradient(x.detach()[0].reshape(6, -1).numpy(), y[0].reshape(6, -1).numpy())
    # The objective is a mean over the 20 positions, so its gradient is the notebook's / 20.
    np.testing.assert_allclose(grad[0].reshape(6, -1).numpy() * 20, expected, rtol=1e-6)


def test_guide_keeps_at_most_max_vectors_evenly_spaced():
    x = torch.rand(1, 3, 2, 2).add(0.1).requires_grad_(True)  # positive: prefers large guide values
    y = torch.zeros(1, 3, 10, 10)
    y[0, 0, 0, 1] = 10.0  # position 1: between the 5 evenly spaced positions kept (0, 25, ... 99)
    y[0, 0, 9, 9] = 1.0  # position 99: always kept
    (grad,) = torch.autograd.grad(guide("L", y, max_vectors=5)({"L": x}), x)
    assert torch.allclose(grad[0, 0], torch.full((2, 2), 1.0 / 4))  # matched to position 99
    (grad,) = torch.autograd.grad(guide("L", y)({"L": x}), x)
    assert torch.allclose(grad[0, 0], torch.full((2, 2), 10.0 / 4))  # all kept: position 1 wins


def test_guide_refuses_features_of_another_width():
    objective = guide("L", torch.randn(1, 4, 2, 2))
    with pytest.raises(InceptionismError, match="4 channels"):
        objective({"L": torch.randn(1, 5, 2, 2)})


def test_guided_dream_moves_features_toward_the_guides(chelsea, coffee):
    dreamer = Dreamer()
    model, name = dreamer.model, "b9"
    photo = shrink(to_tensor(chelsea), 128)
    with torch.no_grad():
        target = model.features(dreamer.guide_tensor(to_tensor(coffee)), [name])[name].flatten(2)[0]

    def features(x):
        with torch.no_grad():
            return model.features(x, [name])[name].flatten(2)[0]

    def mean_distance(x):  # cosine distance between the average feature vectors
        return 1 - F.cosine_similarity(features(x).mean(1), target.mean(1), dim=0).item()

    def nearest_distance(x):  # mean cosine distance from each position to its nearest guide feature
        f, t = F.normalize(features(x), dim=0), F.normalize(target, dim=0)
        return 1 - (f.T @ t).max(1).values.mean().item()

    config = DreamConfig(octaves=2, steps=10, step_size=0.02)
    plain = dreamer.dream_tensor(photo, name, config)
    guided = dreamer.dream_tensor(photo, dreamer.guided(name, to_tensor(coffee)), config)
    for distance in (mean_distance, nearest_distance):
        d_photo, d_plain, d_guided = distance(photo), distance(plain), distance(guided)
        # Closer to the guide than the photo was, and than the same dream without a guide.
        assert d_guided < 0.9 * d_photo, (distance.__name__, d_photo, d_guided)
        assert d_guided < 0.9 * d_plain, (distance.__name__, d_plain, d_guided)


def test_guided_dream_needs_whole_layers():
    dreamer = Dreamer()
    with pytest.raises(InceptionismError, match="whole layers"):
        dreamer.guided("b9/3", torch.rand(1, 3, 64, 64))
    weighted = dreamer.guided("b9:0.5,b10", torch.rand(1, 3, 64, 64))
    assert weighted.layers == ("b9", "b10")
    assert weighted.name == "0.5*guide(b9) + guide(b10)"

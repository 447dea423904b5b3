"""Transformation robustness: exact values on tiny tensors, seeded and reproducible."""

from __future__ import annotations

import pytest
import torch

from inceptionism.errors import InceptionismError
from inceptionism.engine.robustness import (Jitter, Pad, Rotate, Scale, apply, gentle, parse_transforms,
                                     rotate, standard, transforms_spec)


def ramp(h=4, w=4, dtype=torch.float32):
    return torch.arange(h * w, dtype=dtype).view(1, 1, h, w)


def test_pad_constant_and_reflect():
    x = ramp(2, 2)
    out = Pad(1)(x)
    assert out.shape == (1, 1, 4, 4)
    assert torch.equal(out[0, 0, 1:3, 1:3], x[0, 0])
    assert (out[0, 0, 0] == 0.5).all() and (out[0, 0, :, 0] == 0.5).all()
    assert torch.equal(Pad(1, "reflect")(ramp(3, 3))[0, 0, 0], torch.tensor([4.0, 3, 4, 5, 4]))


def test_jitter_crops_at_the_seeded_offset():
    x = ramp(6, 6)
    out = Jitter(2)(x, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    dy, dx = (int(torch.randint(3, (1,), generator=g)) for _ in range(2))
    assert torch.equal(out, x[:, :, dy:dy + 4, dx:dx + 4])
    offsets = {tuple(Jitter(2)(x, torch.Generator().manual_seed(s))[0, 0, 0, :1].tolist())
               for s in range(20)}
    assert len(offsets) > 1  # different seeds, different crops


def test_rotate_quarter_and_half_turns_are_exact():
    x = ramp(4, 4)
    assert torch.allclose(rotate(x, 90), torch.rot90(x, 1, (2, 3)), atol=1e-5)
    assert torch.allclose(rotate(x, -90), torch.rot90(x, -1, (2, 3)), atol=1e-5)
    y = ramp(3, 5)  # not square: a half turn must not shear
    assert torch.allclose(rotate(y, 180), y.flip(2, 3), atol=1e-5)
    assert torch.equal(Rotate((0.0,))(y), y)


def test_rotate_fills_outside_with_grey():
    out = rotate(torch.zeros(1, 1, 9, 9), 45)
    assert out[0, 0, 0, 0].item() == pytest.approx(0.5)
    assert out[0, 0, 4, 4].item() == pytest.approx(0.0)


def test_scale_resizes():
    x = ramp(4, 6)
    assert Scale((2.0,))(x).shape == (1, 1, 8, 12)
    assert torch.equal(Scale((1.0,))(x), x)
    const = torch.full((1, 3, 10, 10), 0.3)
    assert torch.allclose(Scale((1.2,))(const), torch.full((1, 3, 12, 12), 0.3))


def test_a_list_is_reproducible_from_its_seed():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ts = standard(32)
    a = apply(x, ts, torch.Generator().manual_seed(7))
    b = apply(x, ts, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    different = [apply(x, ts, torch.Generator().manual_seed(s)) for s in range(8, 12)]
    assert any(d.shape != a.shape or not torch.equal(d, a) for d in different)


def test_transforms_are_differentiable():
    x = torch.rand(1, 2, 9, 9, dtype=torch.float64, requires_grad=True)
    ts = (Pad(2), Jitter(2), Scale((1.1,)), Rotate((7.0,)))
    assert torch.autograd.gradcheck(lambda t: apply(t, ts, torch.Generator().manual_seed(1)), (x,))


def test_spec_round_trip():
    for ts in (standard(128), standard(64), gentle(96), (Pad(3, "reflect"),), ()):
        assert parse_transforms(transforms_spec(ts)) == tuple(ts)
    assert parse_transforms("rotate=2") == (Rotate((-2.0, -1.0, 0.0, 1.0, 2.0)),)
    assert parse_transforms("scale=0.9:1.1")[0].factors[0] == pytest.approx(0.9)
    assert parse_transforms("none") == ()


@pytest.mark.parametrize("bad", ["pad=-1", "jitter=x", "scale=10", "rotate=1;y", "blur=2", "pad=3:wrap"])
def test_bad_specs_are_refused(bad):
    with pytest.raises(InceptionismError):
        parse_transforms(bad)


def test_jitter_larger_than_the_image_is_refused():
    with pytest.raises(InceptionismError, match="larger"):
        Jitter(4)(ramp(4, 4))

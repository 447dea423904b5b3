"""The interpreter's own versions of ops, against PyTorch's plain ones."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from inceptionism.models.graph import _lrn, _maxpool, same_padding


def test_same_padding_is_tensorflows():
    # The fixture's examples: at 224, conv2d0 (7x7/2) pads 2/3 and maxpool0 (3x3/2 on 112)
    # pads 0/1; at 173 conv2d0 pads 3/3.
    assert same_padding(224, 7, 2) == (2, 3)
    assert same_padding(112, 3, 2) == (0, 1)
    assert same_padding(173, 7, 2) == (3, 3)
    assert same_padding(5, 3, 1) == (1, 1)
    assert same_padding(4, 1, 2) == (0, 0)


@pytest.mark.parametrize("size,beta", [(11, 0.5), (5, 0.75)])
def test_lrn_on_channels_last_is_pytorchs(size, beta):
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    alpha = 0.3
    ours = _lrn(x, size, alpha, beta, 2.0)
    ref = F.local_response_norm(x, size, alpha, beta, 2.0)
    assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda t: _lrn(t, size, alpha, beta, 2.0), (x,))


@pytest.mark.parametrize("hw", [(112, 112), (113, 57), (56, 9), (7, 8), (2, 3)])
def test_same_max_pool_without_a_padded_copy(hw):
    x = torch.rand(1, 4, *hw)
    ours = _maxpool(x, {"kernel": (3, 3), "stride": (2, 2), "pad": "same"})
    top, bottom = same_padding(hw[0], 3, 2)
    left, right = same_padding(hw[1], 3, 2)
    ref = F.max_pool2d(F.pad(x, (left, right, top, bottom), value=-math.inf), 3, 2)
    assert torch.equal(ours, ref)

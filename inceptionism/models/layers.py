"""Small building blocks shared by the torchvision-format architectures.

Names and arithmetic follow torchvision 0.29 exactly (``BasicConv2d``'s ``conv``/``bn``
submodules, ``_transform_input``'s formula), so the published weight files load with
``strict=True`` and the forward pass is the same computation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class BasicConv2d(nn.Module):
    """Conv (no bias) -> batch norm (eps 1e-3, as the TensorFlow-ported weights need) -> ReLU.

    Not in-place: a stage's output is kept as a layer activation, which a later in-place
    ReLU would overwrite.
    """

    def __init__(self, in_channels: int, out_channels: int, **conv_kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv_kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.bn(self.conv(x)))


class TransformInput(nn.Module):
    """torchvision's ``transform_input=True`` for GoogLeNet and Inception v3.

    Those weights were ported from TensorFlow and expect each channel scaled to about
    [-1, 1], i.e. ``(rgb - 0.5) / 0.5``; the network receives ImageNet-normalized input
    ``(rgb - mean) / std`` and undoes that: ``x * std / 0.5 + (mean - 0.5) / 0.5``.
    Plain Python constants, no buffers: this is used inside a stage view (see
    ``LayeredNet.set_stages``). The expression is torchvision's, term for term.
    """

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def forward(self, x: Tensor) -> Tensor:
        channels = [
            torch.unsqueeze(x[:, c], 1) * (self.STD[c] / 0.5) + (self.MEAN[c] - 0.5) / 0.5
            for c in range(3)
        ]
        return torch.cat(channels, 1)


def flatten_then(module: nn.Module) -> nn.Module:
    """A stage view: ``torch.flatten(x, 1)`` (as torchvision's forward does) then ``module``."""
    return nn.Sequential(nn.Flatten(1), module)

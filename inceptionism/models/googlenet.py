"""GoogLeNet (Inception v1; Szegedy et al., "Going Deeper with Convolutions", 2014).

The network DeepDream was born on (Mordvintsev, Olah & Tyka, 2015). This is torchvision's
definition (``torchvision/models/googlenet.py``, 0.29), written out here so that torchvision
is not needed: the module names, and so the state-dict keys, are torchvision's, and its
published ImageNet file (``googlenet-1378be20.pth``, ported from TensorFlow) loads with
``strict=True`` once its auxiliary classifiers (``aux1.``, ``aux2.``) are dropped.

Like torchvision with those weights, the network takes ImageNet-normalized input and
converts it to the [-1, 1] scaling the ported weights expect (``transform_input=True``);
that happens inside the first stage.

Named stages (torchvision's top-level modules, in forward order): ``conv1``, ``maxpool1``,
``conv2``, ``conv3``, ``maxpool2``, ``inception3a``, ``inception3b``, ``maxpool3``,
``inception4a`` ... ``inception4e``, ``maxpool4``, ``inception5a``, ``inception5b``,
``avgpool``, ``dropout``, ``fc`` (the logits).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import LayeredNet
from .layers import BasicConv2d, TransformInput, flatten_then


class Inception(nn.Module):
    """Four parallel branches, concatenated: 1x1; 1x1 -> 3x3; 1x1 -> "5x5"; pool -> 1x1."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        # A 3x3 where the paper has a 5x5: torchvision's known deviation, which its weight
        # file was trained with, so it is kept.
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNet(LayeredNet):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(1024, num_classes)

        stages = {name: module for name, module in self.named_children()}
        stages["conv1"] = nn.Sequential(TransformInput(), self.conv1)
        stages["fc"] = flatten_then(self.fc)
        self.set_stages(stages)


def googlenet() -> GoogLeNet:
    return GoogLeNet()

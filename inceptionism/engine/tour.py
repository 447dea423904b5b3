"""The layer tour: the same photo dreamed at each named layer, shallow to deep.

Tensor in, tensors out; the contact sheet that shows the results is drawn in
``io/sheet.py``. Every layer is dreamed from the same (shrunken) photo with the same
config and seed, so the tiles differ only by the layer: what the network has learned
there, from strokes and textures in early layers to eyes, animals and buildings deeper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import Tensor

from ..models.base import DreamNet
from ..settings import DEFAULT_MAX_PIXELS, TOUR_CONFIG, DreamConfig
from .loop import CancelToken, StepInfo, dream
from .objectives import layer
from .transforms import resize

# The tour dreams once per layer (19 for EfficientNet-Lite0), so it works small and short:
# fewer octaves and steps than a single dream, with a larger step to make up for them.


@dataclass(frozen=True)
class TourStep:
    layer: str
    index: int  # 0-based position of this layer in the tour
    count: int  # how many layers the tour visits
    step: StepInfo


TourCallback = Callable[[TourStep], None]
LayerCallback = Callable[[str, Tensor], None]  # a layer's name and its dream, once done


def shrink(image: Tensor, size: int) -> Tensor:
    """Scale (1, 3, H, W) down so its longest side is ``size``; never enlarges."""
    height, width = image.shape[-2:]
    f = size / max(height, width)
    if f >= 1:
        return image
    return resize(image, (max(1, round(height * f)), max(1, round(width * f)))).clamp(0, 1)


def tour(
    model: DreamNet,
    image: Tensor,
    layers: Sequence[str],
    config: DreamConfig = TOUR_CONFIG,
    callback: TourCallback | None = None,
    cancel: CancelToken | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    on_layer: LayerCallback | None = None,
) -> dict[str, Tensor]:
    """Dream ``image`` (1, 3, H, W) in [0, 1] on each of ``layers``; {layer: dream}, in order.
    ``on_layer`` gets each layer's dream as soon as it is done."""
    model.net.check_layers(layers)
    dreams: dict[str, Tensor] = {}
    for index, name in enumerate(layers):
        def relay(info: StepInfo, name: str = name, index: int = index) -> None:
            if callback is not None:
                callback(TourStep(name, index, len(layers), info))

        dreams[name] = dream(model, image, layer(name), config, relay, cancel=cancel,
                             max_pixels=max_pixels)
        if on_layer is not None:
            on_layer(name, dreams[name])
    return dreams

"""What each named layer of a network outputs: channel count and output stride.

Measured, not declared: a dummy forward pass at two input sizes, so the answer is right for
any :class:`LayeredNet` in the registry, whatever its padding. The output stride is how many
input pixels one output position moves per step, i.e. input growth / output growth between
the two sizes (exact also for networks with unpadded convolutions, where ``size / out`` is
not). Layers with no spatial dimensions (pooled features, logits) have no stride.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import LayeredNet


@dataclass(frozen=True)
class LayerInfo:
    name: str
    channels: int
    stride: float | None  # input pixels per output position; None for non-spatial layers
    shape: tuple[int, ...]  # output shape (without batch) at the first probe size

    @property
    def stride_text(self) -> str:
        if self.stride is None:
            return "global"
        return f"{self.stride:g}"


def layer_table(net: LayeredNet, input_size: int = 224, growth: int = 64) -> list[LayerInfo]:
    """One :class:`LayerInfo` per stage of ``net``, shallow to deep.

    ``input_size`` should be one the network accepts (its training resolution); ``growth``
    (the second probe is that much larger) must be a multiple of the largest stride.
    Weights do not matter, so a freshly built network with random weights will do.
    """
    sizes = (input_size, input_size + growth)
    shapes: list[dict[str, tuple[int, ...]]] = []
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for size in sizes:
                x = torch.zeros(1, 3, size, size)
                if hasattr(net, "probe_shapes"):  # a graph: every tap it can compute here
                    shapes.append(net.probe_shapes(x))
                    continue
                out = {}
                for name in net.stage_names:
                    x = net.stage(name)(x)
                    out[name] = tuple(x.shape[1:])
                shapes.append(out)
    finally:
        net.train(was_training)
    table = []
    for name in net.stage_names:
        if name not in shapes[0]:  # a graph's head that only works at another size
            continue
        small, large = shapes[0][name], shapes[1].get(name, shapes[0][name])
        stride = None
        if len(small) == 3:
            grown = large[-1] - small[-1]
            stride = growth / grown if grown else input_size / small[-1]
            stride = round(stride) if abs(stride - round(stride)) < 1e-6 else stride
        table.append(LayerInfo(name, small[0], stride, small))
    return table

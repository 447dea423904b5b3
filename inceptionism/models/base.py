"""What every dream model is: an ordered list of named stages, plus its preprocessing.

A network is split into top-level *stages* (``stem``, ``b0`` ... for EfficientNet-Lite;
``inception4c`` ... for GoogLeNet). Each stage's output is a layer a user can name. Running
the stages in order and stopping after the deepest requested one is what lets a dream on a
shallow layer skip the rest of the network.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import UnknownLayerError


class LayeredNet(nn.Module):
    """A network whose forward pass is a sequence of named stages.

    Subclasses register their stages (in order) as attributes and list their names in
    ``stage_names``. ``forward`` runs every stage and returns the last one's output (logits).
    """

    stage_names: tuple[str, ...] = ()

    def set_stages(self, stages: dict[str, nn.Module]) -> None:
        """Name the stages, in order, when they are not simply the network's attributes.

        A stage may be a view over registered modules (e.g. ``features.28`` of a
        ``Sequential``, or a flatten followed by ``fc``). The views share those modules'
        parameters but are not registered as submodules, so the state dict keeps exactly the
        published weight files' keys. A view must not own parameters or buffers of its own:
        they would neither load nor move with ``.to(device)``.
        """
        object.__setattr__(self, "_stage_views", dict(stages))
        self.stage_names = tuple(stages)

    def stage(self, name: str) -> nn.Module:
        views = self.__dict__.get("_stage_views")
        return views[name] if views is not None else getattr(self, name)

    def check_layers(self, layers: Iterable[str]) -> list[str]:
        """Return ``layers`` as a list, refusing any name this network does not have."""
        layers = list(layers)
        for name in layers:
            if name not in self.stage_names:
                raise UnknownLayerError(name, self.stage_names)
        return layers

    def features(self, x: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        """Run the stages up to the deepest of ``layers`` and return those layers' outputs."""
        wanted = set(self.check_layers(layers))
        out: dict[str, Tensor] = {}
        for name in self.stage_names:
            x = self.stage(name)(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out

    def forward(self, x: Tensor) -> Tensor:
        for name in self.stage_names:
            x = self.stage(name)(x)
        return x


@dataclass(frozen=True)
class Normalization:
    """Maps RGB in [0, 1] to what the network was trained on: ``(x - mean) / std``, after
    reversing the channels to BGR when ``bgr`` (Caffe's networks). ``mean`` and ``std`` are
    in the network's channel order and in [0, 1] units: Caffe's 0..255 input minus
    (104, 117, 123) is ``mean=(104/255, 117/255, 123/255), std=(1/255,) * 3, bgr=True``."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    bgr: bool = False


class _GradientIn(torch.autograd.Function):
    """The identity, whose backward lays the gradient out in the network's memory format.
    An objective's gradient comes back in the default layout (``mean``'s backward builds a
    planar tensor), and in a channels-last network every operation it then meets mixes the
    two layouts: measured, 8 additions a tile of a 768-channel gradient at 0.7 ms each in
    Inception v3, against one conversion here."""

    @staticmethod
    def forward(ctx, x: Tensor, memory_format: torch.memory_format) -> Tensor:
        ctx.memory_format = memory_format
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad.contiguous(memory_format=ctx.memory_format), None


class DreamNet(nn.Module):
    """A :class:`LayeredNet` that takes RGB in [0, 1], so gradients land in pixel space."""

    def __init__(self, net: LayeredNet, normalization: Normalization, min_input_size: int = 1):
        super().__init__()
        self.net = net
        self.normalization = normalization
        # The smallest side the whole network accepts (Inception v3: 75); the dream loop
        # never feeds it an octave or a tile smaller than that.
        self.min_input_size = min_input_size
        # The layout the network runs fastest in; the dream loop feeds it tiles in this layout.
        self.memory_format = torch.contiguous_format
        # How many tiles of one shape the dream loop may stack into one batch. More than 1
        # only where each image of a batch is computed on its own (our architectures; see
        # models/optimize.py), never for a graph file or a user's module, whose heads may
        # reshape across the batch.
        self.tile_batch = 1
        self.register_buffer("mean", torch.tensor(normalization.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(normalization.std).view(1, 3, 1, 1))

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.net.stage_names

    @functools.cached_property
    def depthwise(self) -> bool:
        """Whether the network has depthwise convolutions (EfficientNet-Lite's). Such a
        network is limited by memory traffic and by the cost of launching its many small
        operations, not by arithmetic: bfloat16 does not speed it up, and neither does
        cutting a small image into more tiles (docs/performance.md)."""
        return any(getattr(m, "groups", 1) > 1 and getattr(m, "weight", None) is not None
                   and m.weight.dim() == 4 and m.weight.shape[1] == 1  # a plain or fused conv
                   for m in self.modules())

    def normalize(self, x: Tensor) -> Tensor:
        if self.normalization.bgr:
            x = x.flip(1)
        return (x - self.mean) / self.std

    def features(self, x: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        acts = self.net.features(self.normalize(x), layers)
        if self.memory_format is torch.contiguous_format or not torch.is_grad_enabled():
            return acts
        return {k: _GradientIn.apply(v, self.memory_format) if v.dim() == 4 else v
                for k, v in acts.items()}

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.normalize(x))

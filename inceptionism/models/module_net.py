"""Any PyTorch module as a dreamable network: taps are its submodules, by their names.

    from inceptionism import Dreamer
    dreamer = Dreamer.from_module(places365_resnet, "torch", layers=["layer3", "layer4.1"])

Tap names are ``named_modules()`` names, nested ones included (``inception4c.branch2``,
``features.28``, ``layer3.1.conv2``), exactly as torchvision's ``get_graph_node_names``
and ``load_state_dict`` spell them. A forward hook on each tapped submodule records its
output; once every requested tap has been recorded the forward pass stops (a private
exception unwinds it), so a dream on a shallow layer never runs the rest of the network.
The recorded outputs keep their autograd history, so gradients flow back to the image.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from torch import Tensor, nn

from ..errors import InceptionismError
from .base import LayeredNet


class _Done(Exception):
    """Raised by the last hook needed: the rest of the forward pass is not wanted."""


class ModuleNet(LayeredNet):
    """Wraps ``module``; its layers are the submodules named in ``layers``, in the order
    given (shallow to deep, as the user lists them). ``forward`` is the module's own.

    One forward pass at a time: the hooks share this object's state (not thread-safe)."""

    staged = False  # optimize() cannot fold a user's module stage by stage

    def __init__(self, module: nn.Module, layers: Sequence[str] | None = None, also: str | None = None):
        """``also``: one more layer to tap if ``layers`` lacks it (the logits)."""
        super().__init__()
        self.module = module
        named = dict(module.named_modules())
        if layers is None:  # every leaf module, in registration order
            layers = [name for name, m in named.items() if name and not list(m.children())]
        layers = list(layers)
        if also is not None and also not in layers:
            layers.append(also)
        unknown = [name for name in layers if name not in named or not name]
        if unknown:
            from ..errors import UnknownLayerError

            raise UnknownLayerError(unknown[0], [n for n in named if n])
        if not layers:
            raise InceptionismError("The module has no submodule to tap; name at least one layer.")
        self.stage_names = tuple(layers)
        self._wanted: frozenset[str] = frozenset()
        self._out: dict[str, Tensor] = {}
        for name in self.stage_names:
            named[name].register_forward_hook(self._hook(name))

    def _hook(self, name: str):
        def hook(_module, _inputs, output):
            if name not in self._wanted:
                return
            if isinstance(output, (tuple, list)):
                output = output[0]
            self._out[name] = output
            if len(self._out) == len(self._wanted):
                raise _Done

        return hook

    def features(self, x: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        wanted = frozenset(self.check_layers(layers))
        self._wanted, self._out = wanted, {}
        try:
            self.module(x)
        except _Done:
            pass
        finally:
            self._wanted = frozenset()
        out, self._out = self._out, {}
        missing = [name for name in wanted if name not in out]
        if missing:
            raise InceptionismError(
                f"The module's forward pass never ran {', '.join(sorted(missing))}, so it "
                f"cannot be dreamed on."
            )
        return out

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)

    def probe_shapes(self, x: Tensor) -> dict[str, tuple[int, ...]]:
        import torch

        with torch.no_grad():
            out = self.features(x, self.stage_names)
        return {name: tuple(value.shape[1:]) for name, value in out.items()}

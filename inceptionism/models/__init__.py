"""Models: the registry and the architectures registered in it."""

from . import zoo  # noqa: F401  (registers the built-in models)
from .base import DreamNet, LayeredNet, Normalization
from .inspect import LayerInfo, layer_table
from .registry import (
    ModelSpec,
    get_spec,
    installed_models,
    list_models,
    load_model,
    register_model,
    restore_spec,
    set_weights,
    use_weights,
)

__all__ = [
    "DreamNet",
    "LayerInfo",
    "LayeredNet",
    "ModelSpec",
    "Normalization",
    "get_spec",
    "installed_models",
    "layer_table",
    "list_models",
    "load_model",
    "register_model",
    "restore_spec",
    "set_weights",
    "use_weights",
]

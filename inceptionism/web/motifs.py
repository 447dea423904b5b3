"""The models the page offers and what each layer dreams, in a few words, for its layer list.

The words come from looking at the layer tour's contact sheet (``docs/layer-tour.png``,
described in the README) for EfficientNet-Lite0 on the chelsea photo. Models not yet
toured that way show their layer names alone.
"""

from __future__ import annotations

from functools import lru_cache

from ..models import get_spec, list_models

_LITE0 = {
    "stem": "magenta tint, fine woven grid",
    "b0": "dense fine stripes",
    "b1": "wavy lines",
    "b2": "flowing strokes",
    "b3": "bold curves, loops",
    "b4": "loops, eye-like ovals",
    "b5": "concentric rings",
    "b6": "rings, grooves",
    "b7": "fingerprint ripples",
    "b8": "eyes and snouts",
    "b9": "eyes, snouts, dog-ish faces",
    "b10": "dog faces, snouts, eyes",
    "b11": "fine fur, small eyes",
    "b12": "fur, small eyes",
    "b13": "fur, the subject sharpened",
    "b14": "fur, the subject sharpened",
    "b15": "the subject's own face, sharpened",
    "head": "the subject's own face, sharpened",
    "logits": "the subject's own face, sharpened",
}
MOTIFS: dict[str, dict[str, str]] = {"efficientnet_lite0": _LITE0}


@lru_cache(maxsize=None)
def layer_names(model: str) -> tuple[str, ...]:
    """The model's named layers, shallow to deep (builds the architecture; no weights).
    A model read whole from a downloaded file has no architecture to build before it is
    loaded: its tour layers and defaults stand in (the objective box takes any layer)."""
    spec = get_spec(model)
    if spec.build is None:
        return tuple(dict.fromkeys((*spec.tour_layers, *spec.default_layers)))
    return tuple(spec.build().stage_names)


def layer_choices(model: str) -> list[tuple[str, str]]:
    """(label, layer) pairs for a dropdown: "b10: dog faces, snouts, eyes"."""
    motifs = MOTIFS.get(model, {})
    return [(f"{n}: {motifs[n]}" if n in motifs else n, n) for n in layer_names(model)]


def model_names() -> list[str]:
    """Every registered model, for the model dropdown."""
    return list_models()


def default_layers(model: str) -> list[str]:
    """The layers ``model`` dreams when no objective is given."""
    return list(get_spec(model).default_layers)

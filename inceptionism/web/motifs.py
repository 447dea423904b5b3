"""The models the page offers and what each layer dreams, in a few words, for its layer list.

The words come from looking at each model's layer tour of the chelsea photo
(``inceptionism explore chelsea.png -o sheet.png --model NAME``; EfficientNet-Lite0's sheet is
``docs/layer-tour.png``, described in the README). The page offers only the models whose
weights are on this machine (:func:`~inceptionism.models.installed_models`), so a choice never
fails on a download after Dream; a model offered but not yet toured that way shows its layer
names alone.
"""

from __future__ import annotations

from functools import lru_cache

from ..models import get_spec, installed_models

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
_LITE1 = {
    "stem": "warm tint, fine woven grid",
    "b0": "dense rainbow speckle",
    "b1": "wavy lines",
    "b2": "flowing strokes",
    "b3": "bold curves, loops",
    "b4": "curves, ridges",
    "b5": "ridges, grooves",
    "b6": "grooves, eye-like ovals",
    "b7": "rings, outlined eyes",
    "b8": "eyes and snouts",
    "b9": "eyes and snouts",
    "b10": "eyes, snouts, rings",
    "b11": "eyes and noses, fur",
    "b12": "eyes, noses, small faces",
    "b13": "fur, small eyes",
    "b14": "fur, small eyes",
    "b15": "fine fur",
    "b16": "fine fur",
    "b17": "fur, the subject sharpened",
    "b18": "the subject sharpened",
    "b19": "the subject sharpened",
    "b20": "fur, fine speckle",
    "head": "the subject's own face, sharpened",
    "logits": "the subject's own face, fine speckle",
}
_LITE2 = {
    "stem": "yellow tint, fine woven grid",
    "b0": "dense rainbow speckle",
    "b1": "wavy stripes",
    "b2": "flowing strokes",
    "b3": "bold curves, loops",
    "b4": "curves, ridges",
    "b5": "ridges, grooves",
    "b6": "grooves, ridges",
    "b7": "grooves, eye-like ovals",
    "b8": "rings, eyes",
    "b9": "rings, eyes",
    "b10": "rings, eyes, snouts",
    "b11": "eyes and snouts everywhere",
    "b12": "eyes, snouts, small faces",
    "b13": "eyes, snouts, fur",
    "b14": "eyes, snouts, fur",
    "b15": "fine fur",
    "b16": "fur, small eyes",
    "b17": "fur, the subject sharpened",
    "b18": "the subject sharpened",
    "b19": "the subject sharpened",
    "b20": "fine fur",
    "head": "the subject's own face, sharpened",
    "logits": "the subject's own face, fine speckle",
}
MOTIFS: dict[str, dict[str, str]] = {"efficientnet_lite0": _LITE0, "efficientnet_lite1": _LITE1,
                                     "efficientnet_lite2": _LITE2}


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
    """The models that run here without a download, for the model dropdown."""
    return installed_models()


def default_layers(model: str) -> list[str]:
    """The layers ``model`` dreams when no objective is given."""
    return list(get_spec(model).default_layers)

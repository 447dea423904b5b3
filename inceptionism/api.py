"""The Python API: a :class:`Dreamer` holds a loaded model and dreams on images.

    from inceptionism import Dreamer, DreamConfig
    dreamer = Dreamer()                          # EfficientNet-Lite0, embedded weights, CPU
    out = dreamer.dream(Image.open("cat.jpg"), "b10", DreamConfig(steps=20))

The model is loaded once per Dreamer, so a video can dream every frame with one instance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .dream import DreamConfig, StepCallback, dream
from .errors import InceptionismError
from .io.images import pil_to_rgb, to_pil
from .models import get_spec, load_model
from .models.zoo import DEFAULT_MODEL
from .objectives import Objective, parse


def resolve_device(name: str = "cpu") -> torch.device:
    """'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA if available, else CPU) -> a usable device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InceptionismError(f"Unknown device '{name}'; use cpu, cuda, cuda:N or auto.") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InceptionismError(
                "CUDA was asked for, but PyTorch sees no CUDA device here; use --device cpu."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InceptionismError(
                f"There is no {device}; this machine has {torch.cuda.device_count()} CUDA device(s)."
            )
    elif device.type != "cpu":
        raise InceptionismError(f"Device '{name}' is not supported; use cpu, cuda, cuda:N or auto.")
    return device


class Dreamer:
    """A model, loaded once, ready to dream."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        weights: str | Path | None = None,
        device: str = "cpu",
    ):
        self.spec = get_spec(model)
        self.device = resolve_device(device)
        self.model = load_model(model, weights, self.device)
        # Where the weights came from, as recorded with outputs and in video fingerprints.
        self.weights_source = str(weights) if weights is not None else self.spec.weights.describe()

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.model.layer_names

    def objective(self, objective: str | Objective | None = None) -> Objective:
        """Turn a CLI string, an Objective or None (the model's defaults) into an Objective
        whose layers this model has."""
        if objective is None:
            objective = ",".join(self.spec.default_layers)
        if isinstance(objective, str):
            objective = parse(objective)
        self.model.net.check_layers(objective.layers)
        return objective

    def dream_tensor(
        self,
        image: Tensor,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
    ) -> Tensor:
        """(1, 3, H, W) RGB in [0, 1] -> dreamed tensor of the same shape, on the CPU."""
        objective = self.objective(objective)
        out = dream(self.model, image.to(self.device, torch.float32), objective, config, callback)
        return out.cpu()

    def dream_array(
        self,
        rgb: np.ndarray,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
    ) -> np.ndarray:
        """(H, W, 3) float RGB in [0, 1] -> dreamed array of the same shape."""
        x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
        return self.dream_tensor(x, objective, config, callback)[0].permute(1, 2, 0).numpy()

    def dream(
        self,
        image: Image.Image,
        objective: str | Objective | None = None,
        config: DreamConfig = DreamConfig(),
        callback: StepCallback | None = None,
    ) -> Image.Image:
        """Dream on a Pillow image. An alpha channel is carried through unchanged."""
        rgb, alpha = pil_to_rgb(image)
        return to_pil(self.dream_array(rgb, objective, config, callback), alpha)

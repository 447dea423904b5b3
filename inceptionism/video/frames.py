"""What every video loop shares: the objectives a video cycles through, each frame's seed,
the frame callback's report, and the fingerprint that guards a frames folder.

Resume depends on these: frame i is dreamed with a seed derived from (seed, i) only, and a
frames folder records (in its ``params.json``) everything that decides what its frames look
like, built by :func:`fingerprint` alone, so a render resumes only what the same settings
made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch import Tensor

from ..engine.objectives import Objective
from ..errors import InceptionismError
from ..models import get_spec, list_models
from ..settings import EVERY, DreamConfig
from ..version import __version__

if TYPE_CHECKING:
    from ..api import Dreamer


@dataclass(frozen=True)
class Cycle:
    """The objectives a video cycles through: frame i uses ``objectives[(i // every) % n]``."""

    objectives: tuple[Objective, ...]
    every: int  # frames per objective

    def at(self, index: int) -> Objective:
        return self.objectives[(index // self.every) % len(self.objectives)]

    @classmethod
    def spread(cls, objectives: Sequence[Objective], frames: int, every: int | None = None) -> Cycle:
        """``every`` frames per objective; by default the objectives share the video evenly."""
        if not objectives:
            raise InceptionismError("At least one objective is needed.")
        if every is not None:
            EVERY.check(every)
        if len(objectives) == 1:
            every = 1  # nothing to cycle; a fixed value lets a longer render resume a shorter one
        elif every is None:
            every = max(1, math.ceil(frames / len(objectives)))
        return cls(tuple(objectives), every)

    def describe(self) -> dict:
        return {"objectives": [o.name for o in self.objectives], "every": self.every}


@dataclass(frozen=True)
class FrameInfo:
    """Sent to the frame callback after each frame is safely stored."""

    index: int  # 0-based index of the frame just stored
    frames: int  # frames in the whole render
    first: int  # the frame this run started at; frames before it were done by an earlier run
    image: np.ndarray | None = None  # the frame as stored, (H, W, 3) floats in [0, 1]
    cut: bool = False  # a video frame that starts a new scene (dreamed afresh)
    mask: np.ndarray | None = None  # (H, W) where the previous dream was carried (1) or not


FrameCallback = Callable[[FrameInfo], None]


class Store(Protocol):
    """Where frames go (``video.store.FrameStore``): keyed by index, guarded by a fingerprint."""

    def open(self, params: dict, restart: bool = False) -> int: ...
    def save(self, index: int, rgb: np.ndarray) -> object: ...
    def load(self, index: int) -> np.ndarray: ...
    def mark_cut(self, index: int, change: float) -> None: ...


def frame_seed(seed: int, index: int) -> int:
    """A seed for frame ``index`` that depends only on (seed, index), never on where a run
    started, so a resumed render draws the same jitter as an uninterrupted one."""
    digest = hashlib.sha256(f"inceptionism-frame:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def frame_config(config: DreamConfig, index: int) -> DreamConfig:
    return dataclasses.replace(config, seed=frame_seed(config.seed, index))


def pixels_digest(rgb: np.ndarray) -> str:
    """Identifies an input image in a fingerprint by its pixels (not its file)."""
    a = np.ascontiguousarray(rgb, dtype=np.float32)
    return hashlib.sha256(str(a.shape).encode() + a.tobytes()).hexdigest()


def model_params(dreamer: Dreamer) -> dict:
    """The model's part of a fingerprint: its name, weights and (when not the registered
    model's own) its input convention."""
    params = {"inceptionism": __version__, "model": dreamer.spec.name, "weights": dreamer.weights_source}
    # An input convention other than the registered model's (--preprocess, a model file)
    # changes every frame, so it is part of the fingerprint.
    name, norm = dreamer.spec.name, dreamer.spec.normalization
    if name not in list_models() or norm != get_spec(name).normalization:
        params["normalization"] = [*norm.mean, *norm.std, norm.bgr]
    return params


def fingerprint(kind: str, dreamer: Dreamer, source_id: str, cycle: Cycle, config: DreamConfig,
                mask: np.ndarray | None = None, **settings) -> dict:
    """The parameters a frames folder is made with (its ``params.json``): the kind of render
    ("zoom" or "video"), the model, the input (its digest), the objectives' cycle, the
    per-frame dream settings, the loop's own settings (``motion=ZoomMotion``,
    ``flow=FlowConfig``, dataclasses, or plain values such as ``segments``), and a mask only
    when there is one, so that renders made before masks existed still resume (and, for
    the same reason, ``lapnorm`` only when it is on)."""
    settings_of_config = dataclasses.asdict(config)
    if not config.lapnorm:
        del settings_of_config["lapnorm"]
    params = {"kind": kind, **model_params(dreamer), "input": source_id,
              "cycle": cycle.describe(), "config": settings_of_config}
    for key, value in settings.items():
        if hasattr(value, "describe"):  # FlowConfig: only the settings that are on
            params[key] = value.describe()
        elif dataclasses.is_dataclass(value):
            params[key] = dataclasses.asdict(value)
        else:
            params[key] = value
    if mask is not None:
        params["mask"] = pixels_digest(mask)
    return params


def mask_tensor(mask: np.ndarray | None, device) -> Tensor | None:
    """An (H, W) mask of weights in [0, 1] as a tensor on ``device`` (None stays None)."""
    if mask is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)).to(device)


def mask_array(mask: Tensor | None) -> np.ndarray | None:
    """A (1, 1, H, W) mask as an (H, W) array on the CPU (None stays None)."""
    return None if mask is None else mask[0, 0].detach().cpu().numpy()

"""Channel atlas: one visualization from noise per channel of a layer, in a labelled grid.

:func:`atlas` visualizes each channel of ``recipe.channels`` (every channel of a layer,
or the top or bottom N for a photo: :func:`inceptionism.engine.visualize.top_channels`) with
:func:`inceptionism.engine.visualize.visualize` and the ``mean=LAYER/CHANNEL`` objective, and
lays the cells out with their channel numbers on a contact sheet.

The folder is the atlas's state, so a killed run resumes where it stopped:

* ``atlas.json`` holds the recipe (model name, layer, channels, size, steps,
  parameterization, transforms, seed, learning rate). A rerun on a folder whose recipe
  differs is refused, or (``restart=True``) its cells are deleted and it starts afresh.
* ``channel-NNNNN.png`` is one finished cell, written atomically; a rerun skips it.
* ``sheet.png`` is the contact sheet, made from the cell files once all exist.

Each cell depends only on the recipe and its channel (its seed is ``seed + channel``) and
is computed on one thread (:func:`inceptionism.runtime.one_thread`), so a cell is
bit-identical whether it was made in the first run or after a resume.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import InceptionismError
from ..io.files import atomic_write
from ..io.sheet import contact_sheet
from ..engine.objectives import channel_mean
from ..engine.param import READABLE, ParamConfig
from ..engine.robustness import parse_transforms, standard, transforms_spec
from ..engine.runtime import one_thread
from ..engine.visualize import VisualizeStep, visualize

MANIFEST = "atlas.json"
SHEET = "sheet.png"
FORMAT = 1  # the manifest's layout version


@dataclass(frozen=True)
class AtlasRecipe:
    """Everything a cell's pixels depend on (stored in ``atlas.json``)."""

    model: str  # the model's name, as the caller knows it (compared on resume)
    layer: str
    channels: tuple[int, ...]
    size: int = 128  # each cell's side in pixels
    steps: int = 256
    param: ParamConfig = field(default_factory=lambda: READABLE)
    # Robustness spec; None: lucid's robustness.standard(size), which costs a third of the
    # activation but turns deep layers' cells from blown-out colour into object parts.
    transforms: str | None = None
    seed: int = 0  # cell c starts from seed + c
    # Half visualize()'s default: with the full transform set, 0.05 saturates deep layers'
    # cells (Lite0's b14) into blown-out colour within 256 steps; 0.025 keeps them photo-like.
    lr: float = 0.025

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if not self.channels:
            raise InceptionismError("An atlas needs at least one channel.")
        if len(set(self.channels)) != len(self.channels) or min(self.channels) < 0:
            raise InceptionismError("An atlas's channels must be distinct numbers from 0.")
        if self.transforms is None:
            object.__setattr__(self, "transforms", transforms_spec(standard(self.size)))
        parse_transforms(self.transforms)  # refuse a bad spec now, not at the first cell

    def to_json(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return {"format": FORMAT, "recipe": d}

    @classmethod
    def from_json(cls, data: dict) -> AtlasRecipe:
        d = dict(data["recipe"])
        d["param"] = ParamConfig(**d["param"])
        d["channels"] = tuple(d["channels"])
        return cls(**d)


@dataclass(frozen=True)
class AtlasStep:
    """What the callback receives after each step of each cell."""

    cell: int  # 0-based among the cells this run computes
    cells: int  # cells this run computes (finished ones are skipped)
    channel: int
    step: VisualizeStep


@dataclass(frozen=True)
class AtlasResult:
    sheet: Path
    cells: tuple[Path, ...]  # in recipe order
    made: int  # cells computed by this run
    skipped: int  # cells found finished


def cell_path(folder: Path, channel: int) -> Path:
    return Path(folder) / f"channel-{channel:05d}.png"


def layer_channels(model, layer: str, size: int = 64) -> list[int]:
    """Every channel number of ``layer`` (its width, probed with a grey image)."""
    with torch.no_grad():
        x = torch.full((1, 3, size, size), 0.5)
        return list(range(model.features(x, [layer])[layer].shape[1]))


def _check_folder(folder: Path, recipe: AtlasRecipe, restart: bool) -> None:
    """Make ``folder`` hold ``recipe``'s manifest: new, the same, or (``restart``) reset."""
    manifest = folder / MANIFEST
    if manifest.exists():
        try:
            stored = AtlasRecipe.from_json(json.loads(manifest.read_text()))
        except (ValueError, KeyError, TypeError) as e:
            raise InceptionismError(f"{manifest} is not an atlas manifest ({e}).") from None
        if stored == recipe:
            return
        if not restart:
            raise InceptionismError(
                f"{folder} holds an atlas of another recipe ({_difference(stored, recipe)}); "
                "choose another folder, or restart to delete its cells and start afresh.")
        for old in folder.glob("channel-*.png"):
            old.unlink()
        (folder / SHEET).unlink(missing_ok=True)
    elif folder.exists() and any(folder.iterdir()):
        raise InceptionismError(f"{folder} is not empty and holds no {MANIFEST}; "
                                "an atlas needs a new or empty folder.")
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(recipe.to_json(), indent=1)
    atomic_write(manifest, lambda tmp: tmp.write_text(text))


def _difference(a: AtlasRecipe, b: AtlasRecipe) -> str:
    da, db = asdict(a), asdict(b)
    return ", ".join(f"{k} {da[k]!r} there, {db[k]!r} now" for k in da if da[k] != db[k])[:300]


def _to_png(image: torch.Tensor) -> Image.Image:
    rgb = (image[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(rgb)


def atlas(
    model,
    recipe: AtlasRecipe,
    folder: str | Path,
    restart: bool = False,
    columns: int | None = None,
    callback: Callable[[AtlasStep], None] | None = None,
) -> AtlasResult:
    """Visualize each of ``recipe.channels`` into ``folder`` (skipping finished cells) and
    write the labelled contact sheet ``folder/sheet.png``. See the module docstring."""
    folder = Path(folder)
    if hasattr(model, "layer_names") and recipe.layer not in model.layer_names:
        raise InceptionismError(f"Layer {recipe.layer} is not one of the model's layers: "
                                f"{', '.join(model.layer_names)}.")
    _check_folder(folder, recipe, restart)
    transforms = parse_transforms(recipe.transforms)
    todo = [c for c in recipe.channels if not cell_path(folder, c).exists()]
    for i, c in enumerate(todo):
        def report(step: VisualizeStep, i=i, c=c) -> None:
            if callback is not None:
                callback(AtlasStep(i, len(todo), c, step))

        with one_thread():
            result = visualize(model, channel_mean(recipe.layer, c), recipe.size, recipe.steps,
                               param=recipe.param, transforms=transforms, seed=recipe.seed + c,
                               lr=recipe.lr, callback=report)
        img = _to_png(result.image)
        atomic_write(cell_path(folder, c), lambda tmp: img.save(tmp, format="PNG"))
    sheet = atlas_sheet(folder, recipe, columns)
    atomic_write(folder / SHEET, lambda tmp: sheet.save(tmp, format="PNG"))
    return AtlasResult(folder / SHEET, tuple(cell_path(folder, c) for c in recipe.channels),
                       len(todo), len(recipe.channels) - len(todo))


def atlas_sheet(folder: str | Path, recipe: AtlasRecipe, columns: int | None = None) -> Image.Image:
    """The contact sheet of ``recipe``'s cells in ``folder``, each labelled with its channel."""
    tiles = []
    for c in recipe.channels:
        with Image.open(cell_path(Path(folder), c)) as cell:
            tiles.append((str(c), cell.convert("RGB")))
    return contact_sheet(tiles, columns=columns, title=f"{recipe.model} {recipe.layer}")[0]

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
bit-identical whether it was made in the first run or after a resume, in this process or
in any worker.

Cells are drawn by :class:`CellWorker` objects in one of the pools of
:mod:`inceptionism.parallel` (the ones batch uses): this process, N local processes, or Ray
actors. :func:`run_atlas` is the job the command line and the studio call: it loads the
model, checks the layer and the channels (every one, a list, or the strongest or weakest N
for a photo), and writes the labelled sheet where asked.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..engine.objectives import channel_mean
from ..engine.param import READABLE, ParamConfig
from ..engine.robustness import parse_transforms, standard, transforms_spec
from ..engine.runtime import one_thread, use_threads
from ..engine.tour import shrink
from ..engine.transforms import to_tensor
from ..engine.visualize import VisualizeStep, top_channels, visualize
from ..errors import Cancelled, InceptionismError, Interrupted
from ..io.files import atomic_write
from ..io.images import check_output_path, load_image
from ..io.sheet import contact_sheet
from ..parallel.local import InlinePool, local_pool
from ..settings import (
    ATLAS_CELL,
    ATLAS_LR,
    ATLAS_PICK,
    ATLAS_SEED,
    ATLAS_STEPS,
    COLUMNS,
    DEFAULT_MODEL,
    WORKERS,
)
from .base import Hooks, require_file

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
    step: VisualizeStep | None  # None: the cell is finished and stored ...
    path: Path | None = None  # ... in this file


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


class CellWorker:
    """Draws cells of one atlas recipe: ``run(channel)`` gives the cell as PNG bytes.

    Made with a ``model`` (this process), or loading ``spec``'s model once (a pool worker):
    exactly as loaded, without the dream's batch-norm folding, so that an atlas made in
    Python from ``load_model(name)`` and one made by the command line have the same cells.
    """

    def __init__(self, spec: CellSpec, model=None):
        if model is None:
            import tempfile

            from ..api import Dreamer

            use_threads(1)  # each cell runs on one thread: the workers are the parallelism
            weights = spec.weights
            with tempfile.TemporaryDirectory(prefix="inceptionism-atlas-") as tmp:
                if spec.weights_bytes is not None:  # a Ray worker may not see the file
                    weights = str(Path(tmp) / Path(spec.weights or "weights.pt").name)
                    Path(weights).write_bytes(spec.weights_bytes)
                model = Dreamer(spec.recipe.model, weights=weights, device=spec.device,
                                progress=False, fast=False, preprocess=spec.preprocess).model
        self.model = model
        self.recipe = spec.recipe
        self.transforms = parse_transforms(spec.recipe.transforms)

    def draw(self, channel: int, callback: Callable[[VisualizeStep], None] | None = None):
        r = self.recipe
        with one_thread():
            result = visualize(self.model, channel_mean(r.layer, channel), r.size, r.steps,
                               param=r.param, transforms=self.transforms, seed=r.seed + channel,
                               lr=r.lr, callback=callback)
        return _to_png(result.image)

    def run(self, channel: int) -> bytes:
        buffer = io.BytesIO()
        self.draw(channel).save(buffer, format="PNG")
        return buffer.getvalue()


@dataclass(frozen=True)
class CellSpec:
    """What a worker needs to draw any cell of an atlas; picklable."""

    recipe: AtlasRecipe
    device: str = "cpu"
    weights: str | None = None  # a weights file instead of the model's own
    preprocess: str | None = None  # an input convention instead of the model's own
    weights_bytes: bytes | None = None  # the weights file's bytes, for workers elsewhere


def cell_worker(spec: CellSpec) -> CellWorker:
    """A pool's factory: a :class:`CellWorker` loading ``spec``'s model."""
    return CellWorker(spec)


def atlas(
    model,
    recipe: AtlasRecipe,
    folder: str | Path,
    restart: bool = False,
    columns: int | None = None,
    callback: Callable[[AtlasStep], None] | None = None,
    pool=None,
    sheet: str | Path | None = None,
) -> AtlasResult:
    """Visualize each of ``recipe.channels`` into ``folder`` (skipping finished cells) and
    write the labelled contact sheet (``sheet``, default ``folder/sheet.png``). See the
    module docstring.

    ``pool``: where the cells are drawn, a pool of :mod:`inceptionism.parallel` whose
    workers are :class:`CellWorker` objects (:func:`cell_pool`); default: this process,
    with ``model``, and ``callback`` gets every step of every cell. Either way it gets an
    :class:`AtlasStep` with ``step=None`` as each cell is stored."""
    folder = Path(folder)
    if hasattr(model, "layer_names") and recipe.layer not in model.layer_names:
        raise InceptionismError(f"Layer {recipe.layer} is not one of the model's layers: "
                                f"{', '.join(model.layer_names)}.")
    _check_folder(folder, recipe, restart)
    todo = [c for c in recipe.channels if not cell_path(folder, c).exists()]
    if pool is None:
        pool = InlinePool(partial(_InlineCells, CellWorker(CellSpec(recipe), model), todo,
                                  callback))
    with pool:
        for i, (c, png) in enumerate(pool.results(iter(todo))):
            atomic_write(cell_path(folder, c), lambda tmp, png=png: tmp.write_bytes(png))
            if callback is not None:
                callback(AtlasStep(i, len(todo), c, None, cell_path(folder, c)))
    image = atlas_sheet(folder, recipe, columns)
    sheet = folder / SHEET if sheet is None else Path(sheet)
    atomic_write(folder / SHEET, lambda tmp: image.save(tmp, format="PNG"))
    if sheet != folder / SHEET:
        atomic_write(sheet, lambda tmp: image.save(tmp, format="PNG"))
    return AtlasResult(sheet, tuple(cell_path(folder, c) for c in recipe.channels),
                       len(todo), len(recipe.channels) - len(todo))


class _InlineCells:
    """The in-process worker: the caller's model, and every step reported."""

    def __init__(self, worker: CellWorker, todo: list[int], callback):
        self.worker, self.todo, self.callback = worker, todo, callback

    def run(self, channel: int) -> bytes:
        i = self.todo.index(channel)

        def report(step: VisualizeStep) -> None:
            if self.callback is not None:
                self.callback(AtlasStep(i, len(self.todo), channel, step))

        buffer = io.BytesIO()
        self.worker.draw(channel, report).save(buffer, format="PNG")
        return buffer.getvalue()


def cell_pool(spec: CellSpec, workers: int | None = 1, ray: str | None = None):
    """The pool that draws an atlas's cells: ``workers`` local processes (1: this process),
    or Ray actors (``ray``: "" a local cluster, else its address), each loading the model
    once. The cells are the same whichever is used."""
    if ray is not None:
        from ..parallel.ray import RayPool

        return RayPool(partial(cell_worker, spec), address=ray or None, workers=workers,
                       threads=1, gpu=spec.device.startswith("cuda"))
    return local_pool(partial(cell_worker, spec), workers or 1)


def atlas_sheet(folder: str | Path, recipe: AtlasRecipe, columns: int | None = None) -> Image.Image:
    """The contact sheet of ``recipe``'s cells in ``folder``, each labelled with its channel."""
    tiles = []
    for c in recipe.channels:
        with Image.open(cell_path(Path(folder), c)) as cell:
            tiles.append((str(c), cell.convert("RGB")))
    return contact_sheet(tiles, columns=columns, title=f"{recipe.model} {recipe.layer}")[0]


# --- the job: what the command line and the studio call -----------------------------------

_LIST = re.compile(r"\s*[0-9]{1,6}(\s*-\s*[0-9]{1,6})?(\s*,\s*[0-9]{1,6}(\s*-\s*[0-9]{1,6})?)*\s*",
                   re.ASCII)


def parse_channels(text: str) -> tuple[int, ...] | None:
    """``"all"`` -> None (every channel); ``"0,3,5"`` or ``"0-15,32"`` -> those channels, in
    that order. Anything else is refused in one sentence."""
    text = text.strip()
    if text.lower() == "all":
        return None
    if not _LIST.fullmatch(text):
        raise InceptionismError(f"Channels must be 'all' or numbers and ranges such as "
                                f"'0,3,5' or '0-15' (got '{text[:40]}').")
    channels: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        a, b = int(low), int(high or low)
        if b < a:
            raise InceptionismError(f"The range {part.strip()} runs backwards; write {b}-{a}.")
        channels.extend(range(a, b + 1))
    return tuple(dict.fromkeys(channels))  # each once, in the order given


@dataclass(frozen=True)
class AtlasRequest:
    """A channel atlas of ``layer``: every channel, ``channels`` (a list or "all"), or the
    ``top`` (or ``bottom``) N channels of the layer's mean activation on ``photo``."""

    layer: str
    output: Path  # the labelled sheet (PNG)
    model: str = DEFAULT_MODEL
    channels: str = "all"  # "all", or numbers and ranges: "0,3,5", "0-15"
    top: int | None = None  # the N channels ``photo`` excites most ...
    bottom: int | None = None  # ... or least
    photo: Path | None = None
    size: int = 128  # each cell's side in pixels
    steps: int = 256
    param: ParamConfig = field(default_factory=lambda: READABLE)
    transforms: str | None = None  # None: lucid's standard set for the size
    seed: int = 0
    lr: float = 0.025
    cells: Path | None = None  # the folder of finished cells (None: OUTPUT with .cells)
    columns: int | None = None
    workers: int = 1  # local processes drawing cells (with ray: actors; None: the cluster's)
    ray: str | None = None  # "" a local Ray cluster, else its address
    device: str = "cpu"
    weights: Path | None = None
    preprocess: str | None = None
    restart: bool = False  # delete the cells of another recipe found in the folder
    overwrite: bool = False  # replace an existing OUTPUT
    max_cells: int | None = None  # a server's bound on the channels one atlas draws (None: any)


def default_cells(output: Path) -> Path:
    """Where an atlas keeps its cells by default: OUTPUT with ``.cells`` for its extension."""
    return Path(output).with_suffix(".cells")


def _check_request(request: AtlasRequest) -> None:
    """Every number and combination, before any model is loaded."""
    for number, value in ((ATLAS_CELL, request.size), (ATLAS_STEPS, request.steps),
                          (ATLAS_SEED, request.seed), (ATLAS_LR, request.lr)):
        number.check(value)
    if request.workers is not None:
        WORKERS.check(request.workers)
    if request.columns is not None:
        COLUMNS.check(request.columns)
    if request.top is not None and request.bottom is not None:
        raise InceptionismError("Ask for either the top or the bottom channels, not both.")
    picked = request.top if request.top is not None else request.bottom
    if picked is not None:
        ATLAS_PICK.check(picked)
        if request.photo is None:
            raise InceptionismError("The top or bottom channels are those of a photo; "
                                    "give the photo.")
        if request.channels.strip().lower() != "all":
            raise InceptionismError("Give either a list of channels or top/bottom N, not both.")
    elif request.photo is not None:
        raise InceptionismError("A photo chooses the top or bottom N channels; say how many.")
    require_file(request.photo, "Photo")
    parse_channels(request.channels)


def atlas_channels(request: AtlasRequest, model, width: int) -> tuple[int, ...]:
    """The channels ``request`` asks for, of a layer ``width`` channels wide, checked."""
    listed = parse_channels(request.channels)
    if request.top is not None or request.bottom is not None:
        photo = load_image(request.photo)
        x = shrink(to_tensor(photo.rgb), 512).to(_device_of(model))
        n = request.top if request.top is not None else request.bottom
        return tuple(top_channels(model, request.layer, x, n, strongest=request.top is not None))
    if listed is None:
        return tuple(range(width))
    outside = [c for c in listed if c >= width]
    if outside:
        raise InceptionismError(f"Layer {request.layer} has channels 0 to {width - 1}; "
                                f"{outside[0]} is not one of them.")
    return listed


def _device_of(model):
    return next((b.device for b in model.buffers()), None) or "cpu"


def run_atlas(request: AtlasRequest, hooks: Hooks | None = None) -> AtlasResult:
    """Draw (or resume) the atlas ``request`` asks for and write its sheet to
    ``request.output``; ``hooks.on_step`` gets an :class:`AtlasStep` for every step (one
    worker) or every finished cell (several), ``hooks.cancel`` stops between steps."""
    hooks = hooks or Hooks()
    _check_request(request)
    check_output_path(request.output, request.overwrite, inputs=tuple(
        p for p in (request.photo, request.weights) if p is not None))
    dreamer = hooks.load(request.model, request.weights, request.device, fast=False,
                         preprocess=request.preprocess)
    model = dreamer.model
    model.net.check_layers([request.layer])  # one sentence for an unknown layer
    width = len(layer_channels(model, request.layer, max(64, model.min_input_size)))
    channels = atlas_channels(request, model, width)
    if request.max_cells is not None and len(channels) > request.max_cells:
        raise InceptionismError(f"This atlas would draw {len(channels)} channels; at most "
                                f"{request.max_cells} are drawn here at a time: list fewer.")
    recipe = AtlasRecipe(model=request.model, layer=request.layer, channels=channels,
                         size=request.size, steps=request.steps, param=request.param,
                         transforms=request.transforms, seed=request.seed, lr=request.lr)
    folder = request.cells or default_cells(request.output)
    weights = str(request.weights) if request.weights else None
    spec = CellSpec(recipe, str(dreamer.device), weights, request.preprocess,
                    Path(weights).read_bytes() if weights and request.ray is not None else None)
    several = request.ray is not None or (request.workers or 1) > 1
    on_ray_default = request.ray is not None and (request.workers or 1) <= 1  # one per CPU/GPU
    pool = cell_pool(spec, None if on_ray_default else request.workers, request.ray) \
        if several else None

    def on_step(step: AtlasStep) -> None:
        if hooks.cancel is not None:
            hooks.cancel.check()
        if hooks.on_step is not None:
            hooks.on_step(step)

    try:
        return atlas(model, recipe, folder, restart=request.restart, columns=request.columns,
                     callback=on_step, pool=pool, sheet=request.output)
    except (KeyboardInterrupt, Cancelled) as exc:
        kind = Interrupted if isinstance(exc, KeyboardInterrupt) else Cancelled
        done = sum(cell_path(folder, c).exists() for c in channels)
        raise kind(f"{'interrupted' if kind is Interrupted else 'cancelled'}; {done} of "
                   f"{len(channels)} cells are safe in {folder}, and running the same command "
                   "again draws only the missing ones.") from None

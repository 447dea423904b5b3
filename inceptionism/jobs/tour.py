"""The layer tour job: one photo dreamed at every layer, laid out as a contact sheet, with
optional per-layer tiles that each store a re-runnable recipe. Here, or on Ray with one
task per layer (:func:`tour_on_ray`)."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from functools import partial
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..api import Dreamer, Tour, as_tensor
from ..errors import InceptionismError
from ..io.files import file_sha256
from ..io.images import check_output_path, load_image, save_image, to_pil
from ..io.sheet import contact_sheet
from ..parallel.ray import RayPool
from ..settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    TOUR_CONFIG,
    TOUR_SIZE,
    DreamConfig,
    get_preset,
)
from ..version import __version__
from .base import Hooks
from .recipe import Recipe, output_metadata


@dataclass(frozen=True)
class TourRequest:
    """A layer tour of ``input``: dreamed at each of ``layers`` (default: the model's tour,
    e.g. inception5h's twelve numbered layers, else every layer)."""

    input: Path  # the photo
    output: Path | None = None  # the contact sheet (None: only return it)
    model: str = DEFAULT_MODEL
    weights: Path | None = None  # a state-dict file instead of the model's own weights
    device: str = "cpu"
    layers: Sequence[str] | None = None  # layers to visit, in order (None: all, shallow first)
    size: int = TOUR_SIZE  # the photo is shrunk to this longest side
    columns: int | None = None  # tiles per row (None: a roughly square sheet)
    original: bool = True  # put the shrunken photo first on the sheet
    tiles_dir: Path | None = None  # also save each layer's dream there as LAYER.png
    config: DreamConfig = TOUR_CONFIG  # lighter than a still dream's defaults
    preset: str | None = None  # a named look applied on top of config
    overrides: Mapping[str, Any] = field(default_factory=dict)  # DreamConfig fields that win
    max_pixels: int = DEFAULT_MAX_PIXELS
    overwrite: bool = False  # replace existing sheet and tiles
    preprocess: str | None = None  # input convention instead of the model's own
    # Dream the layers on a Ray cluster, one task per layer: None here; "" a local cluster;
    # else its address ("auto", "HOST:PORT", "ray://HOST:PORT"). Same tiles either way.
    ray: str | None = None


@dataclass(frozen=True)
class TourResult:
    sheet: Image.Image  # the contact sheet, titled, each tile labelled with its layer
    dreams: list[tuple[str, Image.Image]]  # (layer, dream) in tour order
    original: Image.Image  # the shrunken photo every layer dreamed on
    metadata: dict  # what the sheet stores (settings and each tile's box)
    output: Path | None
    tile_paths: dict[str, Path]  # layer -> tile file, when tiles_dir was given
    notes: tuple[str, ...] = ()


def safe_name(layer: str) -> str:
    """A layer name as a file name (GoogLeNet-style names are fine; dots and slashes are not)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in layer)


def _tile_paths(request: TourRequest, names: Sequence[str]) -> dict[str, Path]:
    folder = request.tiles_dir
    if folder is None:
        return {}
    if folder.exists() and not folder.is_dir():
        raise InceptionismError(f"Tiles folder {folder} exists and is not a folder.",
                                remedy="tiles_dir", problem=f"{folder} exists and is not a folder")
    if not folder.parent.is_dir():
        raise InceptionismError(f"Folder {folder.parent} does not exist.")
    folder.mkdir(exist_ok=True)
    paths = {n: folder / f"{safe_name(n)}.png" for n in names}
    for path in paths.values():
        check_output_path(path, request.overwrite, inputs=_sources(request))
    return paths


def _sources(request: TourRequest) -> tuple[Path, ...]:
    """The files the tour reads: never written."""
    return tuple(p for p in (request.input, request.weights) if p is not None)


def run_tour(request: TourRequest, hooks: Hooks | None = None,
              dreamer: Dreamer | None = None) -> TourResult:
    """Dream the tour, draw the sheet, write it (and the tiles) if asked."""
    notes: list[str] = []
    hooks = (hooks or Hooks()).collecting(notes)
    config = request.config
    if request.preset is not None:
        config = get_preset(request.preset).apply(config)
    config = dataclasses.replace(config, **request.overrides)
    config.validate()
    if request.output is not None:
        check_output_path(request.output, request.overwrite, inputs=_sources(request))
    if request.layers is not None and not all(request.layers):
        raise InceptionismError(f"Layer list '{','.join(request.layers)}' has an empty name.")
    image = load_image(request.input, max_pixels=request.max_pixels)
    dreamer = dreamer or hooks.load(request.model, request.weights, request.device,
                                    max_pixels=request.max_pixels, preprocess=request.preprocess)
    names = dreamer.model.net.check_layers(list(request.layers or dreamer.tour_layers))
    tile_paths = _tile_paths(request, names)
    if request.ray is not None:
        if request.preprocess is not None:
            raise InceptionismError("A layer tour on Ray uses the model's own input convention; "
                                    "leave the preprocessing as it is.")
        tour = tour_on_ray(dreamer, image.rgb, names, config, request.size, request.ray or None,
                           request.weights, request.device)
        for name, tile in tour.dreams if hooks.on_tile is not None else ():
            hooks.on_tile(name, tile)
    else:
        tour = dreamer.explore(image.rgb, names, config, request.size, callback=hooks.on_step,
                               cancel=hooks.cancel, on_layer=hooks.on_tile)
    # Each tile is captioned with its layer, numbered where the model's tour is (inception5h).
    tiles = ([("original", tour.original)] if request.original else []) + [
        (dreamer.tour_label(name), image) for name, image in tour.dreams]
    title = f"{request.model}: layer tour, shallow to deep"
    sheet, layout = contact_sheet(tiles, columns=request.columns, title=title)
    weights = request.weights
    weights_text = str(weights) if weights else dreamer.spec.weights.describe()
    metadata = {"inceptionism": __version__, "model": request.model, "weights": weights_text,
                "config": dataclasses.asdict(config), "preset": request.preset,
                "device": str(dreamer.device), "input": request.input.name,
                "input_sha256": file_sha256(request.input), "size": request.size,
                "tour": [{"layer": layer, "label": t.label, "box": list(t.box)} for layer, t in
                         zip((["original"] if request.original else []) + names, layout)]}
    if request.preprocess is not None:
        metadata["preprocess"] = request.preprocess
    for name, tile in tour.dreams if tile_paths else ():
        recipe = Recipe(model=request.model, objective=name, config=config,
                        weights_file=str(weights) if weights else None,
                        device=str(dreamer.device), preset=request.preset,
                        preprocess=request.preprocess)
        meta = {**output_metadata(recipe, dreamer.spec.weights.describe(), request.input),
                "size": request.size}
        save_image(tile_paths[name], tile, meta, force=request.overwrite)
    if request.output is not None:
        for note in save_image(request.output, sheet, metadata, force=request.overwrite):
            hooks.note(note)
    return TourResult(sheet, tour.dreams, tour.original, metadata, request.output, tile_paths,
                      tuple(notes))


# --- the tour on Ray: one task per layer ---------------------------------------------------


class LayerWorker:
    """Dreams one layer of a tour per task (its name), on the image it was made with: what
    each Ray actor of :func:`tour_on_ray` holds, the model loaded once."""

    def __init__(self, model: str, weights: bytes | None, device: str, image: np.ndarray,
                 config: DreamConfig):
        from ..engine.runtime import use_threads

        use_threads(1)
        self.tmp = Path(tempfile.mkdtemp(prefix="inceptionism-tour-"))
        path = None
        if weights is not None:  # this worker may not see the driver's files
            path = self.tmp / "weights.pt"
            path.write_bytes(weights)
        self.dreamer = Dreamer(model, weights=path, device=device, progress=False)
        self.image, self.config = image, config

    def run(self, name: str) -> np.ndarray:
        """The tile of layer ``name``: (1, 3, H, W) float array -> dreamed array."""
        import torch

        from ..engine.loop import dream
        from ..engine.objectives import layer

        x = torch.from_numpy(np.array(self.image)).to(self.dreamer.device)  # writable copy
        return dream(self.dreamer.model, x, layer(name), self.config).cpu().numpy()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def tour_on_ray(dreamer: Dreamer, rgb: np.ndarray, names: list[str], config: DreamConfig,
                size: int, address: str | None, weights: Path | None, device: str) -> Tour:
    """The layer tour job's dreams on Ray, one task per layer: the same tiles
    :meth:`inceptionism.Dreamer.explore` makes here."""
    import torch

    from ..engine.tour import shrink

    x = shrink(as_tensor(rgb), size)
    image = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
    try:
        data = Path(weights).read_bytes() if weights else None
    except OSError as exc:
        raise InceptionismError(f"Cannot read {exc.filename}: {exc.strerror or exc}.") from None
    factory = partial(LayerWorker, dreamer.spec.name, data, device, image, config)
    dreams = {}
    with RayPool(factory, address=address, gpu=device.startswith("cuda")) as pool:
        for name, value in pool.results(iter(names)):
            if isinstance(value, Exception):
                raise InceptionismError(f"The Ray worker dreaming layer {name} kept dying "
                                        f"({type(value).__name__}).")
            dreams[name] = torch.from_numpy(np.array(value))  # the store's copy is read-only

    def pil(t):
        return to_pil(t[0].detach().cpu().permute(1, 2, 0).numpy())

    return Tour(pil(x), [(name, pil(dreams[name])) for name in names])

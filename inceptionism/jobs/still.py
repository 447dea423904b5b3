"""The still dream job: one photo in, one dreamed image out, re-runnable from its metadata.

The output stores its :class:`~inceptionism.jobs.recipe.Recipe` (model, weights, objective,
guide, every setting, seed, device), so ``DreamRequest(params_from=that_output)`` dreams it
again bit for bit (same version, same device), with any field given in the request winning
over the stored one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..api import Dreamer
from ..engine.objectives import check_given
from ..errors import InceptionismError
from ..io.files import file_sha256
from ..io.images import (
    check_output_path,
    check_output_size,
    DEPTHS,
    LoadedImage,
    load_image,
    load_mask,
    read_metadata,
    save_photo,
    to_pil,
)
from ..settings import DEFAULT_MAX_PIXELS, DEFAULT_MODEL, DreamConfig, get_preset
from ..version import __version__
from .base import Hooks, require_file
from .recipe import Recipe, output_metadata


@dataclass(frozen=True)
class DreamRequest:
    """A still dream. Every field but ``input`` is optional.

    With ``params_from`` (an earlier output), the stored recipe is the starting point, and
    ``model``, ``objective``, ``weights``, ``guide`` and ``device`` replace the stored ones
    only where given (not None); ``overrides`` replace stored settings. Without it, the
    settings are ``config`` (default: :class:`~inceptionism.DreamConfig`'s defaults), then
    ``preset`` applied, then ``overrides``.
    """

    input: Path  # the photo to dream on
    output: Path | None = None  # where to write the dream (None: only return it)
    model: str | None = None  # registry name or .onnx/.pb file (None: stored, else the default)
    objective: str | None = None  # objective spec such as "b10" or "class=goldfish"
    weights: Path | None = None  # a state-dict file instead of the model's own weights
    guide: Path | None = None  # guided dream: pull the photo toward this image's features
    device: str | None = None  # cpu, cuda, cuda:N, mps, auto (None: stored, else cpu)
    mask: Path | None = None  # white: dream, black: keep the photo, grey: partly (None: stored)
    depth: int | None = None  # bits per channel written, 8 or 16 (None: the photo's)
    params_from: Path | None = None  # an earlier output whose stored parameters to re-run
    config: DreamConfig | None = None  # every setting (None: DreamConfig())
    preset: str | None = None  # a named look applied on top of config (not with params_from)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # DreamConfig fields that win
    max_pixels: int = DEFAULT_MAX_PIXELS  # refuse larger inputs, guides and working sizes
    overwrite: bool = False  # replace an existing output
    download_progress: bool = True  # show a bar on stderr if weights must be downloaded
    preprocess: str | None = None  # input convention instead of the model's (None: stored/own)


@dataclass(frozen=True)
class DreamResult:
    """What a still dream made."""

    image: Image.Image  # the dream, with the input's alpha channel if it had one
    recipe: Recipe  # everything that decided its pixels
    metadata: dict  # what is (or would be) stored in the output; re-runnable
    output: Path | None  # where it was written, if anywhere
    notes: tuple[str, ...] = ()  # remarks also sent to Hooks.on_note
    # The dream at full precision (sRGB floats) and the photo as loaded (ICC profile, EXIF,
    # depth), so that saving gives the file the photo's colour space, EXIF and depth.
    pixels: Any = field(default=None, repr=False)
    photo: LoadedImage | None = field(default=None, repr=False)
    depth: int | None = None  # bits per channel to write (None: the photo's, where possible)

    def save(self, path: str | Path, overwrite: bool = False) -> list[str]:
        """Write the dream with its metadata (re-runnable), the photo's ICC profile, EXIF
        and depth; returns notes about the format."""
        pixels = self.pixels if self.pixels is not None else np.asarray(
            self.image.convert("RGB"), np.float32) / 255
        return save_photo(Path(path), pixels, self.photo, self.metadata, force=overwrite,
                          depth=self.depth)


def _stored_recipe(request: DreamRequest, hooks: Hooks) -> Recipe:
    """The recipe stored in ``request.params_from``, with the request's explicit choices
    applied and the stored files checked unchanged where they are still used."""
    source = request.params_from
    meta = read_metadata(source)
    stored = Recipe.from_metadata(meta, source)
    w, g, m = request.weights, request.guide, request.mask
    stored = dataclasses.replace(
        stored,
        model=request.model or stored.model,
        objective=request.objective if request.objective is not None else stored.objective,
        device=request.device or stored.device,
        weights_file=str(w) if w is not None else stored.weights_file,
        weights_sha256=None if w is not None else stored.weights_sha256,
        guide=str(g) if g is not None else stored.guide,
        guide_sha256=None if g is not None else stored.guide_sha256,
        mask=str(m) if m is not None else stored.mask,
        mask_sha256=None if m is not None else stored.mask_sha256,
        preprocess=request.preprocess or stored.preprocess,
    )
    stored.verify_files(source)
    if meta.get("inceptionism") != __version__:
        hooks.note(f"{source} was made by inceptionism {meta.get('inceptionism')}, this is "
                   f"{__version__}; the image may differ.")
    photo = request.input
    if meta.get("input_sha256") not in (None, file_sha256(photo) if photo.is_file() else None):
        hooks.note(f"{photo} is not the photo {source} was dreamed from; its parameters are "
                   "applied to it anyway.")
    return stored


def run_dream(request: DreamRequest, hooks: Hooks | None = None,
              dreamer: Dreamer | None = None) -> DreamResult:
    """Dream on ``request.input``; write ``request.output`` if given. ``dreamer``: an already
    loaded :class:`~inceptionism.Dreamer` to reuse (it must match the request's model)."""
    notes: list[str] = []
    hooks = (hooks or Hooks()).collecting(notes)
    check_given(request.objective)  # None: the stored or default one; "" is no objective
    if request.params_from is not None and request.preset is not None:
        raise InceptionismError("Use either a preset or stored parameters, not both.")
    require_file(request.guide, "Guide image")
    require_file(request.params_from, "Earlier output")
    require_file(request.mask, "Mask")
    if request.depth is not None and request.depth not in DEPTHS:
        raise InceptionismError(f"The depth must be 8 or 16 bits per channel (got {request.depth}).")
    # Every file the job reads is protected from being written (compared by resolved path).
    sources = tuple(p for p in (request.input, request.guide, request.params_from,
                                request.weights, request.mask) if p)
    if request.output is not None:
        check_output_path(request.output, request.overwrite, inputs=sources)  # before any work
    if request.params_from is not None:
        recipe = _stored_recipe(request, hooks)
        config, preset = recipe.config, recipe.preset
        stored_files = tuple(Path(p) for p in (recipe.guide, recipe.weights_file, recipe.mask)
                             if p)
        if request.output is not None:  # never overwrite the files the recipe reads
            check_output_path(request.output, request.overwrite, inputs=sources + stored_files)
    else:
        recipe = Recipe(model=request.model or DEFAULT_MODEL, objective=request.objective or "",
                        config=DreamConfig(),
                        weights_file=str(request.weights) if request.weights else None,
                        guide=str(request.guide) if request.guide else None,
                        device=request.device or "cpu",
                        mask=str(request.mask) if request.mask else None,
                        preprocess=request.preprocess)
        config, preset = request.config or DreamConfig(), request.preset
        if preset is not None:
            config = get_preset(preset).apply(config)
    config = dataclasses.replace(config, **request.overrides)
    config.validate()
    image = load_image(request.input, max_pixels=request.max_pixels)
    for note in image.notes:
        hooks.note(note)
    if request.output is not None:
        check_output_size(request.output, *image.size)  # before the work, not after
    guide = Path(recipe.guide) if recipe.guide else None
    guide_image = load_image(guide, max_pixels=request.max_pixels) if guide else None
    mask = load_mask(recipe.mask, image.size, request.max_pixels) if recipe.mask else None
    weights = Path(recipe.weights_file) if recipe.weights_file else None
    if dreamer is None:
        dreamer = hooks.load(recipe.model, weights, recipe.device, request.download_progress,
                             request.max_pixels, preprocess=recipe.preprocess)
    config = dreamer.resolved(config)  # "auto" made concrete: what the recipe stores
    dreamer.check_size(*image.size, config)  # the pixels dreamed, not those in the file
    spec = dreamer.objective(recipe.objective or None).spec
    goal = dreamer.guided(spec, guide_image.rgb) if guide_image is not None else \
        dreamer.objective(spec)
    rgb = dreamer.dream_array(image.rgb, goal, config, callback=hooks.on_step,
                              on_octave=hooks.on_octave, cancel=hooks.cancel, mask=mask)
    recipe = dataclasses.replace(recipe, objective=spec, config=config,
                                 device=str(dreamer.device), preset=preset)
    metadata = output_metadata(recipe, dreamer.spec.weights.describe(), request.input)
    metadata["objective_name"] = goal.name
    result = DreamResult(to_pil(rgb, image.alpha), recipe, metadata, request.output,
                         pixels=rgb, photo=image, depth=request.depth)
    if request.output is not None:
        for note in result.save(request.output, overwrite=request.overwrite):
            hooks.note(note)
    return dataclasses.replace(result, notes=tuple(notes))

"""The Dream tab: a photo, the objective and every setting; live previews after each octave,
a progress bar with ETA, Stop; the result as a PNG with its parameters; re-run from a dropped
earlier output (its stored parameters fill the controls).

:func:`create_ui` builds the components, :func:`create_event_handlers` binds the handlers
below to them. Each handler is a module-level function that takes its inputs by name and
returns a named tuple of updates; the Dream button's is ``/dream`` in the HTTP API.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
from PIL import Image

from ...settings import DEFAULT_MODEL, PRESETS, DreamConfig
from ...errors import InceptionismError
from ...io.images import load_image, read_metadata, to_pil
from ...jobs import DreamRequest, Hooks, OctaveInfo, Recipe, StepInfo, run_dream
from ...progress import Eta
from ...engine.transforms import to_array
from ..motifs import default_layers, layer_choices, layer_names, model_names
from ..studio import (
    Components,
    Studio,
    bind,
    control,
    inputs,
    outputs,
    progress_html,
    run_in_line,
    session_of,
    status_html,
    stop,
    updates,
)
from ..work import Done, Emit, Preview, Progress

D = DreamConfig()
SAMPLES = {"chelsea": "chelsea.png", "coffee": "coffee.png"}
NO_PRESET = "(none)"


@dataclass(frozen=True)
class DreamForm:
    """The Dream button's inputs. Field names and order are those of the HTTP API's
    ``/dream`` parameters (``extra_``, the settings a re-run keeps that have no control, is
    page state and not in the API)."""

    photo_path: str | None = control("photo")
    model_name: str = control("model", DEFAULT_MODEL)
    objective_text: str | None = control("objective")  # None: the default layers; "": refused
    steps_: int = control("steps", D.steps)
    octaves_: int = control("octaves", D.octaves)
    scale_: float = control("octave_scale", D.octave_scale)
    size_: float = control("step_size", D.step_size)
    smooth_: float = control("smoothing", D.smoothing)
    growth_: float = control("growth", D.smoothing_growth)
    cascade_: bool = control("cascade", D.smoothing_cascade)
    pyramid_: str = control("pyramid", D.pyramid)
    blend_: float = control("blend", D.blend)
    jitter_: int = control("jitter", D.jitter)
    seed_: int = control("seed", D.seed)
    guide_path: str | None = control("guide")
    preset_name: str = control("preset", NO_PRESET)  # stored if the settings are still its own
    extra_: dict = control("extra", factory=dict)

    def config(self) -> DreamConfig:
        """The settings as a checked DreamConfig (an error names the first bad one)."""
        config = DreamConfig(
            octaves=int(self.octaves_), octave_scale=float(self.scale_), steps=int(self.steps_),
            step_size=float(self.size_), smoothing=float(self.smooth_),
            smoothing_growth=float(self.growth_), smoothing_cascade=bool(self.cascade_),
            pyramid=str(self.pyramid_), blend=float(self.blend_), jitter=int(self.jitter_),
            seed=int(self.seed_))
        known = {f.name for f in dataclasses.fields(DreamConfig)}
        kept = {k: v for k, v in (self.extra_ or {}).items() if k in known}
        config = dataclasses.replace(config, **kept)
        config.validate()
        return config

    def preset(self, config: DreamConfig) -> str | None:
        """The preset picked, if the settings are still the ones it sets (a slider moved
        since makes it another look, stored without a preset's name)."""
        preset = PRESETS.get(self.preset_name)
        if preset is None or preset.apply(config) != config:
            return None
        return preset.name


class DreamView(NamedTuple):
    """What a dream updates as it goes."""

    status: Any
    result: Any  # the picture: a preview, then the dream
    download: Any  # the PNG with its parameters
    notes: Any


class PhotoView(NamedTuple):
    """What a new upload updates: its picture and size, or the loader's sentence."""

    photo_view: Any
    status: Any
    photo: Any  # None clears a bad upload for another try


class ModelPick(NamedTuple):
    layers: Any
    objective: Any


class Settings(NamedTuple):
    """The setting controls, by name (a preset fills all but the seed)."""

    steps: Any
    octaves: Any
    octave_scale: Any
    step_size: Any
    smoothing: Any
    growth: Any
    cascade: Any
    pyramid: Any
    blend: Any
    jitter: Any
    seed: Any


class Rerun(NamedTuple):
    """Every control, from an earlier output's stored parameters."""

    model: Any
    layers: Any
    objective: Any
    preset: Any
    steps: Any
    octaves: Any
    octave_scale: Any
    step_size: Any
    smoothing: Any
    growth: Any
    cascade: Any
    pyramid: Any
    blend: Any
    jitter: Any
    seed: Any
    extra: Any  # the settings kept that have no control (tile size, ...)
    rerun: Any  # cleared when the file holds nothing to re-run, for another try
    rerun_note: Any  # what was loaded, or why not: right under the Re-run slot


# --- the components --------------------------------------------------------------------------


def create_ui() -> Components:
    """The tab's components by name (inside a ``gr.Tab``)."""
    ui: Components = {"extra": gr.State({})}
    with gr.Row():
        with gr.Column(scale=1):
            ui.update(_photo_controls())
            ui.update(_setting_controls())
        with gr.Column(scale=2):
            ui.update(_result_column())
    return ui


def _photo_controls() -> Components:
    return dict(
        photo=gr.File(label="Photo (drop or click to upload)", file_types=["image"],
                      type="filepath", elem_id="photo", height=120),
        sample=gr.Radio(list(SAMPLES), value=None, label="…or a sample photo",
                        elem_id="sample"),
        photo_view=gr.Image(label="The photo", interactive=False, height=180,
                            elem_id="photo-view", type="pil"),
        rerun=gr.File(label="Re-run: drop an earlier output here (its settings fill the "
                            "controls)", file_types=["image"], type="filepath", elem_id="rerun",
                      height=120),
        rerun_note=gr.Markdown(elem_id="rerun-note"),
        model=gr.Dropdown(model_names(), value=DEFAULT_MODEL, label="Model", elem_id="model",
                          info="The models whose weights are on this machine (`inceptionism "
                               "models` lists them all)."),
        preset=gr.Dropdown([NO_PRESET, *PRESETS], value=NO_PRESET, label="Preset",
                           elem_id="preset"),
        layers=gr.Dropdown(layer_choices(DEFAULT_MODEL), multiselect=True,
                           value=default_layers(DEFAULT_MODEL),
                           label="Layers (what each one dreams)", elem_id="layers"),
        objective=gr.Textbox(",".join(default_layers(DEFAULT_MODEL)), label="Objective",
                             info="Layers, channels or classes with weights, e.g. "
                                  "b10:0.7,class=jellyfish:4", elem_id="objective"),
    )


def _setting_controls() -> Components:
    ui = dict(
        steps=gr.Slider(0, 100, D.steps, step=1, label="Steps per octave", elem_id="steps"),
        octaves=gr.Slider(1, 8, D.octaves, step=1, label="Octaves", elem_id="octaves"),
        octave_scale=gr.Slider(1.05, 2.0, D.octave_scale, step=0.01, label="Octave scale",
                               elem_id="octave-scale"),
        step_size=gr.Slider(0.001, 0.1, D.step_size, step=0.001, label="Step size",
                            elem_id="step-size"),
        smoothing=gr.Slider(0, 4, D.smoothing, step=0.05, label="Smoothing",
                            elem_id="smoothing"),
        seed=gr.Number(D.seed, precision=0, label="Seed", elem_id="seed"),
    )
    with gr.Accordion("More settings", open=False):
        ui.update(
            growth=gr.Slider(0, 4, D.smoothing_growth, step=0.05, label="Smoothing growth",
                             elem_id="growth"),
            cascade=gr.Checkbox(D.smoothing_cascade, label="Smoothing cascade",
                                elem_id="cascade"),
            pyramid=gr.Radio(["octave", "recursive"], value=D.pyramid, label="Pyramid",
                             elem_id="pyramid"),
            blend=gr.Slider(0, 1, D.blend, step=0.05, label="Blend (recursive pyramid)",
                            elem_id="blend"),
            jitter=gr.Slider(0, 64, D.jitter, step=1, label="Jitter", elem_id="jitter"),
            guide=gr.File(label="Guide image (optional)", file_types=["image"],
                          type="filepath", elem_id="guide"),
        )
    return ui


def _result_column() -> Components:
    with gr.Row():
        ui = dict(dream_btn=gr.Button("Dream", variant="primary", elem_id="dream-btn"),
                  stop_btn=gr.Button("Stop", variant="stop", elem_id="stop-btn"))
    ui.update(
        status=gr.HTML(status_html(None, "Upload a photo, then press Dream.", "idle"),
                       elem_id="status"),
        # No download button of its own: a preview has no parameters; the PNG below has.
        result=gr.Image(label="Dream", interactive=False, type="filepath", format="png",
                        elem_id="result", height=420, buttons=["fullscreen"]),
        download=gr.File(label="Download (PNG with its parameters)", interactive=False,
                         elem_id="download"),
        notes=gr.Markdown(elem_id="notes"),
    )
    return ui


def create_event_handlers(studio: Studio, ui: Components) -> None:
    """Bind the handlers below to the tab's components ``ui``."""
    private = dict(api_visibility="private")
    ui["photo"].change(bind(check_photo, studio), ui["photo"], outputs(PhotoView, ui), **private)
    for by_hand in (ui["photo"].upload, ui["photo"].clear):
        by_hand(clear_sample, None, ui["sample"], **private)
    ui["sample"].change(bind(pick_sample, studio), ui["sample"], ui["photo"], **private)
    ui["layers"].input(pick_layers, ui["layers"], ui["objective"], **private)
    for typed in (ui["objective"].input, ui["objective"].blur):  # keys, and a paste left
        # The last text typed wins: keys pressed while one answer is on its way wait for it.
        typed(sync_layers, [ui["model"], ui["objective"]], ui["layers"],
              trigger_mode="always_last", **private)
    ui["model"].input(pick_model, ui["model"], outputs(ModelPick, ui), **private)
    ui["preset"].input(pick_preset, ui["preset"], outputs(Settings, ui), **private)
    ui["rerun"].change(bind(load_rerun, studio), ui["rerun"], outputs(Rerun, ui), **private)
    ui["dream_btn"].click(bind(dream, studio), inputs_kwargs=inputs(DreamForm, ui),
                          outputs=outputs(DreamView, ui), api_name="dream",
                          concurrency_limit=None, show_progress="hidden")
    ui["stop_btn"].click(bind(stop, studio), None, None, queue=False, **private)


# --- the handlers ----------------------------------------------------------------------------


def check_photo(studio: Studio, path: str | None,
                request: gr.Request | None = None) -> PhotoView:
    """A new upload, read with the library's loader: a bad file gets its one sentence (in the
    status line and a notice), and the upload is cleared for another try."""
    if not path:
        return updates(PhotoView, photo_view=None)
    try:
        image = load_image(Path(path), max_pixels=studio.limits(session_of(request)).max_pixels)
    except InceptionismError as exc:
        message = studio.public(str(exc))
        gr.Warning(message, duration=None)
        return PhotoView(None, status_html(None, message, "error"), None)
    w, h = image.size
    return updates(PhotoView, photo_view=to_pil(image.rgb, image.alpha),
                   status=status_html(None, f"{Path(path).name}: {w}x{h}. Press Dream.", "idle"))


def pick_sample(studio: Studio, name: str | None, request: gr.Request | None = None) -> Any:
    """A sample photo, copied into a job folder as if uploaded: its path for the photo."""
    if not name:
        return gr.skip()
    target = studio.new_folder(session_of(request)) / SAMPLES[name]
    with resources.as_file(resources.files("inceptionism.data") / SAMPLES[name]) as src:
        shutil.copyfile(src, target)
    return str(target)


def clear_sample() -> Any:
    """A photo uploaded or cleared by hand: no sample is picked any more."""
    return gr.update(value=None)


def pick_layers(chosen: list[str] | None) -> Any:
    """The layers picked in the list become the objective."""
    return ",".join(chosen) if chosen else gr.skip()


def sync_layers(model: str, objective: str | None) -> Any:
    """The objective typed becomes the layers picked in the list: each of its terms that
    names a layer of ``model`` (``b10:0.7`` is b10; a class or channel term has no chip)."""
    names = set(layer_names(model))
    terms = [t.split(":")[0].strip() for t in (objective or "").split(",")]
    return gr.update(value=list(dict.fromkeys(t for t in terms if t in names)))


def pick_model(name: str) -> ModelPick:
    """A new model: its layer list, and its default layers as the objective."""
    return ModelPick(gr.update(choices=layer_choices(name), value=default_layers(name)),
                     ",".join(default_layers(name)))


def pick_preset(name: str) -> Settings:
    """A preset's settings in the controls (the seed stays)."""
    if name not in PRESETS:
        return updates(Settings)
    c = PRESETS[name].apply(D)
    return updates(Settings, steps=c.steps, octaves=c.octaves, octave_scale=c.octave_scale,
                   step_size=c.step_size, smoothing=c.smoothing, growth=c.smoothing_growth,
                   cascade=c.smoothing_cascade, pyramid=c.pyramid, blend=c.blend,
                   jitter=c.jitter)


def load_rerun(studio: Studio, path: str | None) -> Rerun:
    """Every control from a dropped earlier output's stored parameters. A file without them
    leaves the controls as they are and says why under the slot (and in a notice)."""
    if not path:
        return updates(Rerun)
    name = Path(path).name
    try:
        recipe = _recipe(studio, Path(path))
    except InceptionismError as exc:
        message = studio.public(str(exc))
        gr.Warning(message)
        return updates(Rerun, rerun=None, rerun_note=f"Not loaded: {message}")
    c = recipe.config
    names = set(layer_names(recipe.model))
    text = f"Settings from {name} (seed {c.seed})."
    if recipe.guide:
        text += (f" It was guided by {Path(recipe.guide).name}: upload that image as the "
                 "guide to dream it again.")
    return Rerun(
        model=recipe.model, objective=recipe.objective,
        preset=recipe.preset if recipe.preset in PRESETS else NO_PRESET,
        layers=gr.update(choices=layer_choices(recipe.model),
                         value=[t for t in recipe.objective.split(",") if t in names]),
        steps=c.steps, octaves=c.octaves, octave_scale=c.octave_scale, step_size=c.step_size,
        smoothing=c.smoothing, growth=c.smoothing_growth, cascade=c.smoothing_cascade,
        pyramid=c.pyramid, blend=c.blend, jitter=c.jitter, seed=c.seed,
        extra={"tile_size": c.tile_size, "min_size": c.min_size, "precision": c.precision,
               "lapnorm": c.lapnorm},
        rerun=gr.skip(), rerun_note=text)


def _recipe(studio: Studio, path: Path) -> Recipe:
    """The stored recipe of ``path``, if this studio can dream it again."""
    recipe = Recipe.from_metadata(read_metadata(path), Path(path.name))
    if recipe.weights_file:
        raise InceptionismError(f"{path.name} was dreamed with a weights file of its own; the "
                                "studio uses each model's own weights only.")
    if recipe.model not in model_names():
        raise InceptionismError(f"{path.name} was dreamed with {recipe.model}, whose weights "
                                "are not on this machine.")
    return recipe


def dream(studio: Studio, request: gr.Request | None = None,
          **controls: Any) -> Iterator[DreamView]:
    """The Dream button (``/dream``): dream on the photo with the settings (a
    :class:`DreamForm`, by name), streaming the status and a preview after each octave,
    then the PNG with its parameters. The previous result and its download go at once, so
    a stopped dream never offers another's."""
    form = DreamForm(**controls)
    if not form.photo_path:
        raise studio.error("Upload a photo first.")
    owner = session_of(request)
    limits = studio.limits(owner)
    try:
        config = form.config()
        limits.check_steps(config.steps)
        size = load_image(Path(form.photo_path), max_pixels=limits.max_pixels).size
    except (InceptionismError, ValueError, TypeError) as exc:
        raise studio.error(str(exc)) from None
    token = studio.token(owner)
    photo = Path(form.photo_path)
    output = studio.new_folder(owner) / f"{photo.stem}-dream.png"
    job = DreamRequest(input=photo, output=output, model=form.model_name,
                       objective=form.objective_text,
                       guide=Path(form.guide_path) if form.guide_path else None,
                       device=studio.device, config=config, preset=form.preset(config),
                       max_pixels=limits.max_pixels, download_progress=False)
    yield updates(DreamView, result=None, download=None, notes="")
    yield from run_in_line(studio, token, partial(_dream_work, studio, job), DreamView,
                           _DreamView(studio, output, size))


class _DreamProgress:
    """A dream's steps and octaves as the page's events: progress in pixel-steps (the
    engine's own measure of work), a preview picture after each octave."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.eta = Eta()

    def step(self, info: StepInfo) -> None:
        done, total = info.work
        h, w = info.size
        self.emit(Progress(done, total, f"octave {info.octave + 1}/{info.octaves} ({w}x{h}), "
                                        f"step {info.step + 1}/{info.steps}",
                           self.eta.update(done, total)))

    def octave(self, info: OctaveInfo) -> None:
        self.emit(Preview(to_pil(to_array(info.image)),
                          f"after octave {info.octave + 1} of {info.octaves}"))


def _dream_work(studio: Studio, job: DreamRequest, emit: Emit, token) -> tuple:
    """Run in the job's thread: the dream, and the seconds it took."""
    dreamer = studio.dreamer(job.model)
    report = _DreamProgress(emit)
    t0 = time.perf_counter()
    result = run_dream(job, Hooks(on_step=report.step, on_octave=report.octave, cancel=token),
                       dreamer=dreamer)
    return result, time.perf_counter() - t0


class _DreamView:
    """The dream's events as page updates. Each preview is shown at the photo's size, so the
    picture keeps its place from the first octave to the result."""

    def __init__(self, studio: Studio, output: Path, size: tuple[int, int]):
        self.studio, self.output, self.size = studio, output, size
        self.preview: str | None = None  # the caption of the preview shown

    def __call__(self, event) -> DreamView:
        if isinstance(event, Progress):
            return updates(DreamView, status=progress_html(event))
        if isinstance(event, Preview):
            path = self.output.with_name(f"preview-{uuid.uuid4().hex[:8]}.png")
            event.image.resize(self.size, Image.Resampling.BICUBIC).save(path)
            self.preview = event.caption
            return updates(DreamView, result=str(path), notes=f"Preview {event.caption}.")
        if isinstance(event, Done):
            r, seconds = event.result
            text = " ".join(f"Note: {n}" for n in r.notes)
            return DreamView(status_html(1.0, f"Done in {seconds:.1f} s: {r.image.width}x"
                                              f"{r.image.height}, objective "
                                              f"{r.recipe.objective}.", "done"),
                             str(self.output), str(self.output), self.studio.public(text))
        if event.cancelled:
            shown = f"The picture is the preview {self.preview}" if self.preview else \
                "Nothing was dreamed yet"
            return updates(DreamView, status=status_html(
                None, "Stopped. Press Dream to start again.", "stopped"),
                notes=f"Stopped. {shown}; only a finished dream has a PNG to download.")
        raise self.studio.error(event.message)

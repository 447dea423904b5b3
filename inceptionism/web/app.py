"""The dream studio page: Gradio Blocks over the jobs layer.

Tabs: Dream (a photo, the objective and every setting; live previews after each octave, a
progress bar with ETA, Stop; the result as a PNG with its parameters; re-run from a dropped
earlier output), Layer tour (the photo dreamed at every layer; a click on a tile uses that
layer in the Dream tab) and Video (a zoom loop from the photo, or a dream over a short clip).

Every handler is thin: it builds a jobs-layer request from the controls, runs it through
:mod:`.work` (a worker thread, events back), waits its turn in :class:`.slots.Slots`, and
formats what comes back. Uploads are read only by the library's own loaders, so a bad file
gets the CLI's one-sentence message (with the server's folders taken out of it).

Gradio gives each handler a documented HTTP API (``/dream``, ``/tour``, ``/zoom``,
``/video``), used by ``gradio_client``.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import gradio as gr
from PIL import Image

from ..engine.loop import octave_sizes
from ..errors import InceptionismError
from ..io.images import load_image, read_metadata, to_pil
from ..jobs import (
    CancelToken,
    DreamRequest,
    Hooks,
    Recipe,
    TourRequest,
    VideoRequest,
    ZoomRequest,
    run_dream,
    run_tour,
    run_video,
    run_zoom,
)
from ..models import get_spec, list_models
from ..settings import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    FRAME_CONFIG,
    PRESETS,
    SAMPLES,
    TOUR_CONFIG,
    TOUR_SIZE,
    DreamConfig,
    FlowConfig,
    ZoomMotion,
)
from .motifs import layer_choices, layer_names
from .slots import Busy, Slots
from .work import Done, Eta, Failed, Preview, Progress, format_eta, stream

D = DreamConfig()
MAX_FRAMES = 240  # longest video the page renders
RESULT_TTL = 24 * 3600  # seconds a job's files are kept (the page holds them until then)


@dataclass
class Studio:
    """What the server holds for all visitors: its private folder, the line, loaded models,
    and each visitor's Stop token (by Gradio session). Results are never listed anywhere:
    each lives in its own random folder and reaches only the page that asked for it."""

    root: Path  # the private temporary folder (uploads, results), removed on exit
    slots: Slots
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_file_size: int | None = None  # bytes; enforced by Gradio at upload
    device: str = "cpu"
    _dreamers: dict = field(default_factory=dict)
    _tokens: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def dreamer(self, model: str):
        """A loaded Dreamer for ``model``; the last one is kept (one job runs at a time)."""
        from ..api import Dreamer

        if model not in self._dreamers:
            self._dreamers.clear()
            self._dreamers[model] = Dreamer(model, device=self.device, progress=False)
        return self._dreamers[model]

    def new_folder(self) -> Path:
        """A new, randomly named folder for one job's files. Folders older than
        ``RESULT_TTL`` go on the way, so a server left running does not fill the disk."""
        results = self.root / "results"
        if results.is_dir():
            old = time.time() - RESULT_TTL
            for folder in results.iterdir():
                if folder.stat().st_mtime < old:
                    shutil.rmtree(folder, ignore_errors=True)
        folder = results / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def token(self, session: str) -> CancelToken:
        with self._lock:
            token = self._tokens[session] = CancelToken()
            return token

    def stop(self, session: str) -> bool:
        with self._lock:
            token = self._tokens.get(session)
        if token is not None:
            token.cancel()
        return token is not None

    def public(self, message: str) -> str:
        """``message`` without the server's folders: an upload is named by its file name."""
        return re.sub(re.escape(str(self.root)) + r"/\S*/", "", message)


# --- formatting ------------------------------------------------------------------------------


def status_html(fraction: float | None, text: str, state: str = "running") -> str:
    bar = "" if fraction is None else \
        f'<progress class="inc-bar" value="{fraction:.3f}" max="1"></progress> '
    return (f'<div class="inc-status" data-state="{state}">{bar}'
            f'<span class="inc-text">{html.escape(text)}</span></div>')


def progress_html(p: Progress) -> str:
    return status_html(p.fraction, f"{p.text} · {p.fraction:.0%} · ETA {format_eta(p.eta_s)}")


def _config(steps, octaves, octave_scale, step_size, smoothing, growth, cascade, pyramid, blend,
            jitter, seed, extra: dict | None) -> DreamConfig:
    """The controls (and settings a re-run keeps that have no control) -> DreamConfig."""
    config = DreamConfig(octaves=int(octaves), octave_scale=float(octave_scale), steps=int(steps),
                         step_size=float(step_size), smoothing=float(smoothing),
                         smoothing_growth=float(growth), smoothing_cascade=bool(cascade),
                         pyramid=str(pyramid), blend=float(blend), jitter=int(jitter),
                         seed=int(seed))
    known = {f.name for f in dataclasses.fields(DreamConfig)}
    return dataclasses.replace(config, **{k: v for k, v in (extra or {}).items() if k in known})


def _pil(tensor) -> Image.Image:
    return to_pil(tensor[0].detach().cpu().permute(1, 2, 0).numpy())


def _fail(studio: Studio, message: str) -> gr.Error:
    return gr.Error(studio.public(message), duration=None, print_exception=False)


def _take_turn(studio: Studio, token: CancelToken, outputs: int) -> Iterator[tuple]:
    """Join the line (or fail with "Busy: N ahead"), yielding a waiting status until it is
    this job's turn. The caller leaves the ticket (``_take_turn`` returns it last)."""
    try:
        ticket = studio.slots.enter()
    except Busy as exc:
        raise _fail(studio, str(exc)) from None
    try:
        while not ticket.wait(timeout=0.5):
            if token.cancelled:
                ticket.leave()
                raise _fail(studio, "Left the line before starting.")
            ahead = ticket.ahead()
            yield (status_html(None, f"Waiting: {ahead} ahead of you.", "waiting"),) + \
                (gr.skip(),) * (outputs - 1)
    except BaseException:
        ticket.leave()
        raise
    yield ticket


def _run(studio: Studio, token: CancelToken, work, outputs: int, on_event) -> Iterator[tuple]:
    """Wait for the slot, run ``work`` streaming its events through ``on_event`` (which
    returns a tuple of updates or None), and always give the slot back."""
    ticket = None
    try:
        for item in _take_turn(studio, token, outputs):
            if isinstance(item, tuple):
                yield item
            else:
                ticket = item
        yield (status_html(0, "Starting…"),) + (gr.skip(),) * (outputs - 1)
        last = 0.0
        for event in stream(work, token):
            if isinstance(event, Progress) and time.monotonic() - last < 0.2 and \
                    event.done < event.total:
                continue  # at most five progress updates a second
            last = time.monotonic()
            if isinstance(event, Failed) and not event.cancelled:  # in the status line too
                message = studio.public(event.message)
                yield (status_html(None, message, "error"),) + (gr.skip(),) * (outputs - 1)
                raise _fail(studio, message)
            update = on_event(event)
            if update is not None:
                yield update
    finally:
        if ticket is not None:
            ticket.leave()


# --- the page --------------------------------------------------------------------------------

CSS = """
.inc-status { min-height: 1.6em; }
.inc-status progress { width: 100%; height: 0.8em; }
.inc-status[data-state=error] .inc-text { color: #b00020; }
"""


def build(studio: Studio) -> gr.Blocks:
    """The page, with one handler per button. ``studio`` holds the server's shared state."""
    models = list_models()
    presets = ["(none)"] + list(PRESETS)

    with gr.Blocks(title="inceptionism studio", analytics_enabled=False) as page:
        gr.Markdown("# inceptionism studio\nDeepDream on your photos. One job runs at a time; "
                    "results stay in this page only.")
        extra = gr.State({})  # settings a re-run keeps that have no control (tile size, ...)
        tour_layers = gr.State([])
        with gr.Tabs(selected="dream") as tabs:
            with gr.Tab("Dream", id="dream"):
                with gr.Row():
                    with gr.Column(scale=1):
                        photo = gr.File(label="Photo (drop or click to upload)",
                                        file_types=["image"], type="filepath", elem_id="photo",
                                        height=120)
                        sample = gr.Radio(list(SAMPLES), value=None, label="…or a sample photo",
                                          elem_id="sample")
                        photo_view = gr.Image(label="The photo", interactive=False, height=180,
                                              elem_id="photo-view", type="pil")
                        rerun = gr.File(label="Re-run: drop an earlier output here (its settings "
                                              "fill the controls)", file_types=["image"],
                                        type="filepath", elem_id="rerun", height=120)
                        model = gr.Dropdown(models, value=DEFAULT_MODEL, label="Model",
                                            elem_id="model")
                        preset = gr.Dropdown(presets, value="(none)", label="Preset",
                                             elem_id="preset")
                        layers = gr.Dropdown(layer_choices(DEFAULT_MODEL), multiselect=True,
                                             value=list(get_spec(DEFAULT_MODEL).default_layers),
                                             label="Layers (what each one dreams)",
                                             elem_id="layers")
                        objective = gr.Textbox(
                            ",".join(get_spec(DEFAULT_MODEL).default_layers), label="Objective",
                            info="Layers, channels or classes with weights, e.g. "
                                 "b10:0.7,class=jellyfish:4", elem_id="objective")
                        steps = gr.Slider(0, 100, D.steps, step=1, label="Steps per octave",
                                          elem_id="steps")
                        octaves = gr.Slider(1, 8, D.octaves, step=1, label="Octaves",
                                            elem_id="octaves")
                        octave_scale = gr.Slider(1.05, 2.0, D.octave_scale, step=0.01,
                                                 label="Octave scale", elem_id="octave-scale")
                        step_size = gr.Slider(0.001, 0.1, D.step_size, step=0.001,
                                              label="Step size", elem_id="step-size")
                        smoothing = gr.Slider(0, 4, D.smoothing, step=0.05, label="Smoothing",
                                              elem_id="smoothing")
                        seed = gr.Number(D.seed, precision=0, label="Seed", elem_id="seed")
                        with gr.Accordion("More settings", open=False):
                            growth = gr.Slider(0, 4, D.smoothing_growth, step=0.05,
                                               label="Smoothing growth", elem_id="growth")
                            cascade = gr.Checkbox(D.smoothing_cascade, label="Smoothing cascade",
                                                  elem_id="cascade")
                            pyramid = gr.Radio(["octave", "recursive"], value=D.pyramid,
                                               label="Pyramid", elem_id="pyramid")
                            blend = gr.Slider(0, 1, D.blend, step=0.05,
                                              label="Blend (recursive pyramid)", elem_id="blend")
                            jitter = gr.Slider(0, 64, D.jitter, step=1, label="Jitter",
                                               elem_id="jitter")
                            guide = gr.File(label="Guide image (optional)", file_types=["image"],
                                            type="filepath", elem_id="guide")
                    with gr.Column(scale=2):
                        with gr.Row():
                            dream_btn = gr.Button("Dream", variant="primary", elem_id="dream-btn")
                            stop_btn = gr.Button("Stop", variant="stop", elem_id="stop-btn")
                        status = gr.HTML(status_html(None, "Upload a photo, then press Dream.",
                                                     "idle"), elem_id="status")
                        result = gr.Image(label="Dream", interactive=False, type="filepath",
                                          format="png", elem_id="result", height=420)
                        download = gr.File(label="Download (PNG with its parameters)",
                                           interactive=False, elem_id="download")
                        notes = gr.Markdown(elem_id="notes")

            with gr.Tab("Layer tour", id="tour"):
                gr.Markdown("The photo of the Dream tab, shrunk and dreamed at every layer, "
                            "shallow to deep. Click a tile to dream with that layer.")
                with gr.Row():
                    tour_size = gr.Slider(64, 400, TOUR_SIZE, step=8, label="Size (longest side)",
                                          elem_id="tour-size")
                    tour_pick = gr.Textbox("", label="Layers (comma-separated; empty: all)",
                                           elem_id="tour-layers")
                    tour_steps = gr.Slider(1, 20, TOUR_CONFIG.steps, step=1,
                                           label="Steps per octave", elem_id="tour-steps")
                with gr.Row():
                    tour_btn = gr.Button("Tour the layers", variant="primary", elem_id="tour-btn")
                    tour_stop = gr.Button("Stop", variant="stop", elem_id="tour-stop")
                tour_status = gr.HTML(status_html(None, "", "idle"), elem_id="tour-status")
                gallery = gr.Gallery(label="Layers", columns=5, allow_preview=False,
                                     elem_id="tour-gallery", interactive=False,
                                     object_fit="contain")
                sheet = gr.File(label="Contact sheet", interactive=False, elem_id="tour-sheet")

            with gr.Tab("Video", id="video"):
                gr.Markdown("A zoom loop from the photo of the Dream tab (with its objective), "
                            "or a dream over a short clip.")
                with gr.Row():
                    frames = gr.Slider(2, MAX_FRAMES, 24, step=1, label="Frames",
                                       elem_id="frames")
                    zoom = gr.Slider(0.9, 1.2, ZoomMotion.zoom, step=0.005, label="Zoom per frame",
                                     elem_id="zoom")
                    rotate = gr.Slider(-5, 5, ZoomMotion.rotate, step=0.1,
                                       label="Rotate (degrees per frame)", elem_id="rotate")
                    frame_size = gr.Textbox("", label="Frame size WxH (empty: the photo's)",
                                            elem_id="frame-size")
                    fps = gr.Slider(1, 60, 24, step=1, label="Frames per second", elem_id="fps")
                    frame_steps = gr.Slider(1, 20, FRAME_CONFIG.steps, step=1,
                                            label="Steps per octave", elem_id="frame-steps")
                with gr.Row():
                    zoom_btn = gr.Button("Render zoom loop", variant="primary", elem_id="zoom-btn")
                    video_stop = gr.Button("Stop", variant="stop", elem_id="video-stop")
                clip = gr.File(label="A short clip to dream over", file_types=["video"],
                               type="filepath", elem_id="clip", height=120)
                with gr.Row():
                    carry = gr.Slider(0, 1, FlowConfig.carry, step=0.05,
                                      label="Carry (share of the dream carried to the next frame)",
                                      elem_id="carry")
                    clip_btn = gr.Button("Dream over the clip", variant="primary",
                                         elem_id="clip-btn")
                video_status = gr.HTML(status_html(None, "", "idle"), elem_id="video-status")
                with gr.Row():
                    frame_view = gr.Image(label="Latest frame", interactive=False, type="pil",
                                          elem_id="frame-view", height=240)
                    video_out = gr.Video(label="Video", interactive=False, elem_id="video-out")

        settings = [steps, octaves, octave_scale, step_size, smoothing, growth, cascade, pyramid,
                    blend, jitter, seed]

        # -- photo upload and samples: checked by the library's loader ------------------------

        def check_photo(path):
            """Read the upload with the library's loader: a bad file gets its one sentence
            (in the status line and a notice), and the upload is cleared for another try."""
            if not path:
                return None, gr.skip(), gr.skip()
            try:
                image = load_image(Path(path), max_pixels=studio.max_pixels)
            except InceptionismError as exc:
                message = studio.public(str(exc))
                gr.Warning(message, duration=None)
                return None, status_html(None, message, "error"), None
            w, h = image.size
            return to_pil(image.rgb, image.alpha), status_html(
                None, f"{Path(path).name}: {w}x{h}. Press Dream.", "idle"), gr.skip()

        photo.change(check_photo, photo, [photo_view, status, photo], api_visibility="private")

        def pick_sample(name):
            if not name:
                return gr.skip()
            folder = studio.new_folder()
            target = folder / SAMPLES[name]
            with resources.as_file(resources.files("inceptionism.data") / SAMPLES[name]) as src:
                shutil.copyfile(src, target)
            return str(target)

        sample.change(pick_sample, sample, photo, api_visibility="private")

        def pick_layers(chosen):
            return ",".join(chosen) if chosen else gr.skip()

        layers.input(pick_layers, layers, objective, api_visibility="private")

        def pick_model(name):
            spec = get_spec(name)
            return (gr.update(choices=layer_choices(name), value=list(spec.default_layers)),
                    ",".join(spec.default_layers))

        model.input(pick_model, model, [layers, objective], api_visibility="private")

        def pick_preset(name):
            if name not in PRESETS:
                return (gr.skip(),) * len(settings)
            c = PRESETS[name].apply(D)
            return (c.steps, c.octaves, c.octave_scale, c.step_size, c.smoothing,
                    c.smoothing_growth, c.smoothing_cascade, c.pyramid, c.blend, c.jitter,
                    gr.skip())

        preset.input(pick_preset, preset, settings, api_visibility="private")

        # -- re-run: every control from an earlier output's stored parameters -----------------

        def load_rerun(path):
            if not path:
                return (gr.skip(),) * (len(settings) + 6)
            try:
                meta = read_metadata(Path(path))
                recipe = Recipe.from_metadata(meta, Path(Path(path).name))
                get_spec(recipe.model)
            except InceptionismError as exc:
                raise _fail(studio, str(exc)) from None
            if recipe.weights_file:
                raise _fail(studio, f"{Path(path).name} was dreamed with a weights file of its "
                                    "own; the studio uses each model's own weights only.")
            c = recipe.config
            names = set(layer_names(recipe.model))
            chosen = [t for t in recipe.objective.split(",") if t in names]
            text = f"Settings from {Path(path).name} (seed {c.seed})."
            if recipe.guide:
                text += (f" It was guided by {Path(recipe.guide).name}: upload that image as "
                         "the guide to dream it again.")
            kept = {"tile_size": c.tile_size, "min_size": c.min_size, "precision": c.precision}
            return (recipe.model, gr.update(choices=layer_choices(recipe.model), value=chosen),
                    recipe.objective, "(none)",
                    c.steps, c.octaves, c.octave_scale, c.step_size, c.smoothing,
                    c.smoothing_growth, c.smoothing_cascade, c.pyramid, c.blend, c.jitter, c.seed,
                    kept, text)

        rerun.change(load_rerun, rerun,
                     [model, layers, objective, preset, *settings, extra, notes],
                     api_visibility="private")

        # -- dream ------------------------------------------------------------------------------

        def dream(photo_path, model_name, objective_text, steps_, octaves_, scale_,
                  size_, smooth_, growth_, cascade_, pyramid_, blend_, jitter_, seed_,
                  guide_path, extra_, request: gr.Request):
            if not photo_path:
                raise _fail(studio, "Upload a photo first.")
            try:
                config = _config(steps_, octaves_, scale_, size_, smooth_, growth_, cascade_,
                                 pyramid_, blend_, jitter_, seed_, extra_)
                config.validate()
            except (InceptionismError, ValueError, TypeError) as exc:
                raise _fail(studio, str(exc)) from None
            token = studio.token(request.session_hash if request else "api")
            photo_path = Path(photo_path)
            output = studio.new_folder() / f"{photo_path.stem}-dream.png"
            request_ = DreamRequest(
                input=photo_path, output=output, model=model_name,
                objective=(objective_text or "").strip() or None,
                guide=Path(guide_path) if guide_path else None, device=studio.device,
                config=config, max_pixels=studio.max_pixels, download_progress=False)

            def work(emit, token):
                dreamer = studio.dreamer(model_name)
                image = Image.open(photo_path)
                h, w = image.height, image.width
                image.close()
                small = max(dreamer.model.min_input_size, config.min_size)
                if min(h, w) < small:  # dreamed up-scaled, as the engine does
                    f = small / min(h, w)
                    h, w = round(h * f), round(w * f)
                sizes = octave_sizes(h, w, dataclasses.replace(config, min_size=small))
                eta = Eta([sh * sw for sh, sw in sizes for _ in range(config.steps)])
                done = [0]

                def on_step(info):
                    done[0] += 1
                    oh, ow = info.size
                    emit(Progress(done[0], len(eta.weights),
                                  f"octave {info.octave + 1}/{info.octaves} ({ow}x{oh}), step "
                                  f"{info.step + 1}/{info.steps}", eta.after(done[0])))

                def on_octave(info):
                    emit(Preview(_pil(info.image), f"after octave {info.octave + 1} of "
                                                   f"{info.octaves}"))

                hooks = Hooks(on_step=on_step, on_octave=on_octave, cancel=token)
                t0 = time.perf_counter()
                result = run_dream(request_, hooks, dreamer=dreamer)
                return result, time.perf_counter() - t0

            state = {"preview": None}

            def on_event(event):
                if isinstance(event, Progress):
                    return progress_html(event), gr.skip(), gr.skip(), gr.skip()
                if isinstance(event, Preview):
                    path = output.with_name(f"preview-{uuid.uuid4().hex[:8]}.png")
                    event.image.save(path)
                    state["preview"] = path
                    return gr.skip(), str(path), gr.skip(), f"Preview {event.caption}."
                if isinstance(event, Done):
                    r, seconds = event.result
                    text = " ".join(f"Note: {n}" for n in r.notes)
                    return (status_html(1.0, f"Done in {seconds:.1f} s: {r.image.width}x"
                                             f"{r.image.height}, objective {r.recipe.objective}.",
                                        "done"),
                            str(output), str(output), studio.public(text))
                if event.cancelled:
                    return (status_html(None, "Stopped. Press Dream to start again.", "stopped"),
                            gr.skip(), gr.skip(), "Stopped.")
                raise _fail(studio, event.message)

            yield from _run(studio, token, work, 4, on_event)

        dream_inputs = [photo, model, objective, *settings, guide, extra]
        dream_btn.click(dream, dream_inputs, [status, result, download, notes],
                        api_name="dream", concurrency_limit=None, show_progress="hidden")

        def stop(request: gr.Request):
            studio.stop(request.session_hash if request else "api")

        for button in (stop_btn, tour_stop, video_stop):
            button.click(stop, None, None, api_visibility="private", queue=False)

        # -- layer tour ---------------------------------------------------------------------

        def tour(photo_path, model_name, size, names, tour_steps_, request: gr.Request):
            if not photo_path:
                raise _fail(studio, "Upload a photo in the Dream tab first.")
            token = studio.token(request.session_hash if request else "api")
            folder = studio.new_folder()
            picked = [n.strip() for n in (names or "").split(",") if n.strip()] or None
            config = dataclasses.replace(TOUR_CONFIG, steps=int(tour_steps_))
            req = TourRequest(input=Path(photo_path), output=folder / "layer-tour.png",
                              model=model_name, device=studio.device, layers=picked,
                              size=int(size), config=config, max_pixels=studio.max_pixels)

            def work(emit, token):
                dreamer = studio.dreamer(model_name)
                count = len(picked or dreamer.layer_names)
                total = [0]

                def on_step(info):
                    s = info.step
                    per = s.octaves * s.steps
                    done = info.index * per + s.octave * s.steps + s.step + 1
                    total[0] = total[0] or count * per
                    elapsed = time.monotonic() - t0
                    emit(Progress(done, count * per,
                                  f"layer {info.layer} ({info.index + 1}/{count})",
                                  elapsed * (count * per - done) / done))

                t0 = time.monotonic()
                result = run_tour(req, Hooks(on_step=on_step, cancel=token), dreamer=dreamer)
                tiles = []
                for name, image in result.dreams:
                    path = folder / f"tile-{uuid.uuid4().hex[:8]}.png"
                    image.save(path)
                    tiles.append((str(path), name))
                return tiles

            def on_event(event):
                if isinstance(event, Progress):
                    return progress_html(event), gr.skip(), gr.skip(), gr.skip()
                if isinstance(event, Done):
                    tiles = event.result
                    return (status_html(1.0, f"Done: {len(tiles)} layers. Click a tile to "
                                             "dream with it.", "done"),
                            tiles, str(folder / "layer-tour.png"), [n for _, n in tiles])
                if event.cancelled:
                    return status_html(None, "Stopped.", "stopped"), gr.skip(), gr.skip(), \
                        gr.skip()
                raise _fail(studio, event.message)

            yield from _run(studio, token, work, 4, on_event)

        tour_btn.click(tour, [photo, model, tour_size, tour_pick, tour_steps],
                       [tour_status, gallery, sheet, tour_layers], api_name="tour",
                       concurrency_limit=None, show_progress="hidden")

        def use_tile(names, evt: gr.SelectData):
            name = names[evt.index]
            return gr.Tabs(selected="dream"), [name], name

        gallery.select(use_tile, tour_layers, [tabs, layers, objective],
                       api_visibility="private")

        # -- video ----------------------------------------------------------------------------

        def video_handler(kind):
            def handler(photo_path, clip_path, objective_text, model_name, frames_, zoom_,
                        rotate_, size_text, fps_, steps_, carry_, request: gr.Request):
                source = photo_path if kind == "zoom" else clip_path
                if not source:
                    raise _fail(studio, "Upload a photo in the Dream tab first." if kind == "zoom"
                                else "Upload a clip first.")
                size = None
                if kind == "zoom" and (size_text or "").strip():
                    w, sep, h = size_text.strip().lower().partition("x")
                    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 2 or int(h) < 2:
                        raise _fail(studio, f"'{size_text}' is not a frame size like 640x360.")
                    size = (int(w), int(h))
                    if size[0] * size[1] > studio.max_pixels:
                        raise _fail(studio, f"Frames of {size_text} are more than the limit of "
                                            f"{studio.max_pixels} pixels.")
                token = studio.token(request.session_hash if request else "api")
                folder = studio.new_folder()
                output = folder / f"{Path(source).stem}-{kind}.mp4"
                common = dict(outputs=(output,), model=model_name, device=studio.device,
                              objectives=((objective_text or "").strip() or None,),
                              frames_dir=folder / "frames", max_pixels=studio.max_pixels,
                              config=dataclasses.replace(FRAME_CONFIG, steps=int(steps_)))
                if kind == "zoom":
                    req = ZoomRequest(input=Path(source), frames=int(frames_),
                                      motion=ZoomMotion(zoom=float(zoom_), rotate=float(rotate_)),
                                      fps=float(fps_), size=size, **common)
                    run = run_zoom
                else:
                    req = VideoRequest(input=Path(source), frames=int(frames_),
                                       flow=FlowConfig(carry=float(carry_)), **common)
                    run = run_video

                def work(emit, token):
                    dreamer = studio.dreamer(model_name)
                    t0 = time.monotonic()

                    def on_frame(info):
                        made = info.index + 1 - info.first
                        left = info.frames - info.index - 1
                        emit(Progress(info.index + 1, info.frames,
                                      f"frame {info.index + 1}/{info.frames}",
                                      (time.monotonic() - t0) / made * left))
                        path = req.frames_dir
                        frame = sorted(path.glob("*.png"))
                        if frame:
                            with Image.open(frame[-1]) as img:
                                emit(Preview(img.convert("RGB"), f"frame {info.index + 1}"))

                    def on_encode(path):
                        emit(Progress(1, 1, "encoding the video", None))

                    return run(req, Hooks(on_frame=on_frame, on_encode=on_encode, cancel=token),
                               dreamer=dreamer)

                def on_event(event):
                    if isinstance(event, Progress):
                        text = progress_html(event) if event.text != "encoding the video" else \
                            status_html(1.0, "Encoding the video…")
                        return text, gr.skip(), gr.skip()
                    if isinstance(event, Preview):
                        return gr.skip(), event.image, gr.skip()
                    if isinstance(event, Done):
                        r = event.result
                        return (status_html(1.0, f"Done: {r.frames} frames at {r.fps:g} fps.",
                                            "done"), gr.skip(), str(output))
                    if event.cancelled:
                        return status_html(None, "Stopped.", "stopped"), gr.skip(), gr.skip()
                    raise _fail(studio, event.message)

                yield from _run(studio, token, work, 3, on_event)

            return handler

        video_inputs = [photo, clip, objective, model, frames, zoom, rotate, frame_size, fps,
                        frame_steps, carry]
        zoom_btn.click(video_handler("zoom"), video_inputs, [video_status, frame_view, video_out],
                       api_name="zoom", concurrency_limit=None, show_progress="hidden")
        clip_btn.click(video_handler("video"), video_inputs, [video_status, frame_view, video_out],
                       api_name="video", concurrency_limit=None, show_progress="hidden")
    return page

"""The Layer tour tab: the Dream tab's photo, shrunk and dreamed at every layer, shallow to
deep, as a gallery and a contact sheet; a click on a tile dreams with that layer in the Dream
tab. The tour button's handler is ``/tour`` in the HTTP API.

Each tile joins the gallery as soon as its layer is dreamed; a new tour first clears the last
one's, and a stopped tour keeps the tiles it made.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from ...errors import InceptionismError
from ...settings import DEFAULT_MODEL, TOUR_CONFIG, TOUR_SIZE
from ...jobs import Hooks, TourRequest, run_tour
from ...progress import Eta
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


@dataclass(frozen=True)
class TourForm:
    """The tour button's inputs; field names and order are those of ``/tour``'s parameters."""

    photo_path: str | None = control("photo")  # the Dream tab's photo
    model_name: str = control("model", DEFAULT_MODEL)  # and model
    size: int = control("tour_size", TOUR_SIZE)  # longest side dreamed
    names: str = control("tour_layers", "")  # comma-separated layers; empty: all
    tour_steps_: int = control("tour_steps", TOUR_CONFIG.steps)


class TourView(NamedTuple):
    tour_status: Any
    gallery: Any  # (tile file, layer) pairs
    sheet: Any  # the contact sheet's file
    tiles: Any  # the tiles' layer names, in gallery order (page state)


class TilePick(NamedTuple):
    tabs: Any
    layers: Any  # the Dream tab's layer list
    objective: Any


def create_ui() -> Components:
    """The tab's components by name (inside a ``gr.Tab``)."""
    gr.Markdown("The photo of the Dream tab, shrunk and dreamed at every layer, shallow to "
                "deep. Click a tile to dream with that layer.")
    with gr.Row():
        ui = dict(
            tour_size=gr.Slider(64, 400, TOUR_SIZE, step=8, label="Size (longest side)",
                                elem_id="tour-size"),
            tour_layers=gr.Textbox("", label="Layers (comma-separated; empty: all)",
                                   elem_id="tour-layers"),
            tour_steps=gr.Slider(1, 20, TOUR_CONFIG.steps, step=1, label="Steps per octave",
                                 elem_id="tour-steps"),
        )
    with gr.Row():
        ui.update(tour_btn=gr.Button("Tour the layers", variant="primary", elem_id="tour-btn"),
                  tour_stop=gr.Button("Stop", variant="stop", elem_id="tour-stop"))
    ui.update(
        tour_status=gr.HTML(status_html(None, "", "idle"), elem_id="tour-status"),
        gallery=gr.Gallery(label="Layers", columns=5, allow_preview=False, fit_columns=False,
                           elem_id="tour-gallery", interactive=False, object_fit="contain"),
        sheet=gr.File(label="Contact sheet", interactive=False, elem_id="tour-sheet"),
        tiles=gr.State([]),
    )
    return ui


def create_event_handlers(studio: Studio, ui: Components, dream_ui: Components,
                          tabs: gr.Tabs) -> None:
    """Bind the handlers below; the tour reads the Dream tab's photo and model, and a tile
    click sets its layers and objective and shows it."""
    both = {**dream_ui, **ui, "tabs": tabs}
    ui["tour_btn"].click(bind(tour, studio), inputs_kwargs=inputs(TourForm, both),
                         outputs=outputs(TourView, ui), api_name="tour",
                         concurrency_limit=None, show_progress="hidden")
    ui["tour_stop"].click(bind(stop, studio), None, None, queue=False, api_visibility="private")
    ui["gallery"].select(use_tile, ui["tiles"], outputs(TilePick, both),
                         api_visibility="private")


def tour(studio: Studio, request: gr.Request | None = None,
         **controls: Any) -> Iterator[TourView]:
    """The tour button (``/tour``): every layer (or those named) dreamed on a small copy of
    the photo (a :class:`TourForm`, by name), streaming the status, then the tiles."""
    form = TourForm(**controls)
    if not form.photo_path:
        raise studio.error("Upload a photo in the Dream tab first.")
    owner = session_of(request)
    limits = studio.limits(owner)
    try:
        limits.check_steps(int(form.tour_steps_))
    except InceptionismError as exc:
        raise studio.error(str(exc)) from None
    token = studio.token(owner)
    folder = studio.new_folder(owner)
    picked = [n.strip() for n in (form.names or "").split(",") if n.strip()] or None
    job = TourRequest(input=Path(form.photo_path), output=folder / "layer-tour.png",
                      model=form.model_name, device=studio.device, layers=picked,
                      size=int(form.size), max_pixels=limits.max_pixels,
                      config=dataclasses.replace(TOUR_CONFIG, steps=int(form.tour_steps_)))
    yield TourView(gr.skip(), [], None, [])
    yield from run_in_line(studio, token, partial(_tour_work, studio, job), TourView,
                           _TourView(studio, folder, job.output))


def use_tile(tiles: list[str], evt: gr.SelectData) -> TilePick:
    """A click on a tile: its layer in the Dream tab, which is shown."""
    name = tiles[evt.index]
    return TilePick(gr.Tabs(selected="dream"), [name], name)


class _TourProgress:
    """The tour's steps as progress events: the pixel-steps of every layer so far (each
    layer dreams the same photo with the same settings, so each costs the same)."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.eta = Eta()

    def step(self, info) -> None:
        done, per_layer = info.step.work
        done += info.index * per_layer
        total = info.count * per_layer
        self.emit(Progress(done, total, f"layer {info.layer} ({info.index + 1}/{info.count})",
                           self.eta.update(done, total)))


def _tour_work(studio: Studio, job: TourRequest, emit: Emit, token) -> int:
    """Run in the job's thread: the tour, each tile sent as a :class:`Preview` as soon as it
    is dreamed; the number of layers."""
    def tile(name: str, image) -> None:
        emit(Preview(image, name))

    hooks = Hooks(on_step=_TourProgress(emit).step, on_tile=tile, cancel=token)
    return len(run_tour(job, hooks, dreamer=studio.dreamer(job.model)).dreams)


class _TourView:
    """The tour's events as page updates; the tiles so far, each saved in the job's folder."""

    def __init__(self, studio: Studio, folder: Path, sheet: Path):
        self.studio, self.folder, self.sheet = studio, folder, sheet
        self.tiles: list[tuple[str, str]] = []  # (file, layer)

    def _gallery(self, status: Any, sheet: Any = None) -> TourView:
        sheet = gr.skip() if sheet is None else sheet
        return TourView(status, list(self.tiles), sheet, [n for _, n in self.tiles])

    def __call__(self, event) -> TourView:
        if isinstance(event, Progress):
            return updates(TourView, tour_status=progress_html(event))
        if isinstance(event, Preview):
            path = self.folder / f"tile-{uuid.uuid4().hex[:8]}.png"
            event.image.save(path)
            self.tiles.append((str(path), event.caption))
            return self._gallery(gr.skip())
        if isinstance(event, Done):
            n = len(self.tiles)
            return self._gallery(status_html(1.0, f"Done: {n} {'layer' if n == 1 else 'layers'}"
                                                  ". Click a tile to dream with it.", "done"),
                                 str(self.sheet))
        if event.cancelled:
            n = len(self.tiles)
            text = ("Stopped before the first layer was done." if n == 0 else
                    f"Stopped after {n} {'layer' if n == 1 else 'layers'}; the tiles made "
                    "stay below (no contact sheet).")
            return updates(TourView, tour_status=status_html(None, text, "stopped"))
        raise self.studio.error(event.message)

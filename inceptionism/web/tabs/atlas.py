"""The Channel atlas tab: a few channels of one layer of the Dream tab's model, each
visualized from noise (the atlas job, :mod:`inceptionism.jobs.atlas`), as a gallery and a
labelled sheet. Clicking a cell dreams the Dream tab's photo with that channel: the click
puts ``LAYER/CHANNEL`` in the Dream tab's objective, shows that tab and starts its dream.
The atlas button's handler is ``/atlas`` in the HTTP API.

The defaults are small (8 channels, 64-pixel cells, 48 steps), so an atlas takes seconds on
a CPU; more channels, larger cells and more steps give the readable pictures of
docs/microscope.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from ...errors import InceptionismError
from ...jobs import Hooks
from ...jobs.atlas import AtlasRequest, run_atlas
from ...progress import Eta
from ...settings import DEFAULT_MODEL, Number
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
from ..work import Done, Emit, Progress
from . import dream as dream_tab

PICKS = ("listed", "strongest for the photo", "weakest for the photo")
# What one atlas of the studio may ask (the command line draws any number): the page's
# sliders' bounds, so that a stranger's job stays about as long as a dream.
MAX_CELLS = 64
STEPS = Number("steps per cell", 1, 512, whole=True)
CELL = Number("cell size", 32, 256, whole=True)


@dataclass(frozen=True)
class AtlasForm:
    """The atlas button's inputs; field names and order are those of ``/atlas``'s parameters."""

    photo_path: str | None = control("photo")  # the Dream tab's photo (for strongest/weakest)
    model_name: str = control("model", DEFAULT_MODEL)  # and model
    layer: str = control("atlas_layer", "b8")
    channels: str = control("atlas_channels", "0-7")  # "all", or numbers and ranges
    pick: str = control("atlas_pick", PICKS[0])
    count: int = control("atlas_count", 8)  # how many strongest or weakest channels
    size: int = control("atlas_size", 64)
    atlas_steps_: int = control("atlas_steps", 48)


class AtlasView(NamedTuple):
    atlas_status: Any
    atlas_gallery: Any  # (cell file, "channel N") pairs
    atlas_sheet: Any  # the labelled sheet's file
    atlas_cells: Any  # (layer, channel) of each cell, in gallery order (page state)


class CellPick(NamedTuple):
    tabs: Any
    layers: Any  # the Dream tab's layer list: cleared, a channel is no whole layer
    objective: Any


def create_tab(studio: Studio, dream_ui: Components, tabs: gr.Tabs) -> Components:
    """The tab, its components and its handlers, inside the page's ``gr.Tabs`` (after the
    Dream tab, whose photo, model and objective it uses)."""
    with gr.Tab("Channel atlas", id="atlas"):
        ui = create_ui()
    create_event_handlers(studio, ui, dream_ui, tabs)
    return ui


def create_ui() -> Components:
    """The tab's components by name (inside a ``gr.Tab``)."""
    gr.Markdown("Each cell is a picture made from noise to excite one channel of a layer of "
                "the Dream tab's model. Click a cell to dream the Dream tab's photo with that "
                "channel.")
    with gr.Row():
        ui = dict(
            atlas_layer=gr.Textbox("b8", label="Layer", elem_id="atlas-layer"),
            atlas_pick=gr.Radio(list(PICKS), value=PICKS[0], label="Channels",
                                elem_id="atlas-pick"),
            atlas_channels=gr.Textbox("0-7", label="Listed channels (e.g. 0-7 or 3,12,40; all)",
                                      elem_id="atlas-channels"),
            atlas_count=gr.Slider(1, MAX_CELLS, 8, step=1, label="How many (strongest/weakest)",
                                  elem_id="atlas-count"),
        )
    with gr.Row():
        ui.update(
            atlas_size=gr.Slider(CELL.low, CELL.high, 64, step=16, label="Cell size",
                                 elem_id="atlas-size"),
            atlas_steps=gr.Slider(8, STEPS.high, 48, step=8, label="Steps per cell",
                                  elem_id="atlas-steps"),
        )
    with gr.Row():
        ui.update(atlas_btn=gr.Button("Draw the atlas", variant="primary", elem_id="atlas-btn"),
                  atlas_stop=gr.Button("Stop", variant="stop", elem_id="atlas-stop"))
    ui.update(
        atlas_status=gr.HTML(status_html(None, "", "idle"), elem_id="atlas-status"),
        atlas_gallery=gr.Gallery(label="Channels", columns=8, allow_preview=False, fit_columns=False,
                                 elem_id="atlas-gallery", interactive=False,
                                 object_fit="contain"),
        atlas_sheet=gr.File(label="Sheet", interactive=False, elem_id="atlas-sheet"),
        atlas_cells=gr.State([]),
    )
    return ui


def create_event_handlers(studio: Studio, ui: Components, dream_ui: Components,
                          tabs: gr.Tabs) -> None:
    """Bind the handlers below; the atlas reads the Dream tab's photo and model, and a cell
    click sets the Dream tab's objective, shows it and dreams."""
    both = {**dream_ui, **ui, "tabs": tabs}
    ui["atlas_btn"].click(bind(atlas, studio), inputs_kwargs=inputs(AtlasForm, both),
                          outputs=outputs(AtlasView, ui), api_name="atlas",
                          concurrency_limit=None, show_progress="hidden")
    ui["atlas_stop"].click(bind(stop, studio), None, None, queue=False,
                           api_visibility="private")
    ui["atlas_gallery"].select(use_cell, ui["atlas_cells"], outputs(CellPick, both),
                               api_visibility="private").then(
        bind(dream_tab.dream, studio), inputs_kwargs=inputs(dream_tab.DreamForm, dream_ui),
        outputs=outputs(dream_tab.DreamView, dream_ui), api_name="atlas_cell_dream",
        api_visibility="private",
        concurrency_limit=None, show_progress="hidden")


def atlas_request(form: AtlasForm, folder: Path, device: str) -> AtlasRequest:
    """The atlas job for ``form``; its checks (layer, channels, sizes) are the job's."""
    picked = {PICKS[1]: "top", PICKS[2]: "bottom"}.get(form.pick)
    return AtlasRequest(
        layer=(form.layer or "").strip(), output=folder / "atlas.png", model=form.model_name,
        channels="all" if picked else (form.channels or ""),
        photo=Path(form.photo_path) if picked and form.photo_path else None,
        **({picked: int(form.count)} if picked else {}),
        size=int(form.size), steps=int(form.atlas_steps_), device=device,
        max_cells=MAX_CELLS)


def atlas(studio: Studio, request: gr.Request | None = None,
          **controls: Any) -> Iterator[AtlasView]:
    """The atlas button (``/atlas``): the channels asked for (an :class:`AtlasForm`, by
    name), streaming the status, then the cells and the sheet."""
    form = AtlasForm(**controls)
    if form.pick not in PICKS:
        raise studio.error(f"Channels must be one of: {', '.join(PICKS)}.")
    if form.pick != PICKS[0] and not form.photo_path:
        raise studio.error("Upload a photo in the Dream tab first: its strongest or weakest "
                           "channels are drawn.")
    owner = session_of(request)
    try:  # the page's own bounds, also for callers of the HTTP API
        STEPS.check(int(form.atlas_steps_))
        CELL.check(int(form.size))
    except InceptionismError as exc:
        raise studio.error(str(exc)) from None
    token = studio.token(owner)
    job = atlas_request(form, studio.new_folder(owner), studio.device)
    # A new atlas clears the last one's cells and sheet: a stopped one leaves none of them.
    yield updates(AtlasView, atlas_gallery=[], atlas_sheet=None, atlas_cells=[])
    yield from run_in_line(studio, token, partial(_atlas_work, job), AtlasView,
                           _AtlasView(studio, job))


def use_cell(cells: list, evt: gr.SelectData) -> CellPick:
    """A click on a cell: its channel as the Dream tab's objective, and that tab shown."""
    layer, channel = cells[evt.index]
    return CellPick(gr.Tabs(selected="dream"), [], f"{layer}/{channel}")


@dataclass(frozen=True)
class _Cell:
    """A finished cell, sent to the page as soon as it is stored."""

    path: str
    channel: int


class _AtlasProgress:
    """Every step of every cell as progress (each cell costs the same), and each finished
    cell as a :class:`_Cell`."""

    def __init__(self, emit: Emit):
        self.emit = emit
        self.eta = Eta()

    def step(self, info) -> None:
        if info.step is None:
            self.emit(_Cell(str(info.path), info.channel))
            return
        done = info.cell * info.step.steps + info.step.step
        total = info.cells * info.step.steps
        self.emit(Progress(done, total, f"channel {info.channel} ({info.cell + 1}/{info.cells})",
                           self.eta.update(done, total)))


def _atlas_work(job: AtlasRequest, emit: Emit, token) -> list[tuple[str, str]]:
    """Run in the job's thread: the atlas, each cell sent as it is stored; (cell file,
    caption) pairs of all the cells."""
    result = run_atlas(job, Hooks(on_step=_AtlasProgress(emit).step, cancel=token))
    return [(str(path), f"channel {int(path.stem.split('-')[1])}") for path in result.cells]


class _AtlasView:
    """The atlas's events as page updates: the cells so far, then the sheet."""

    def __init__(self, studio: Studio, job: AtlasRequest):
        self.studio, self.job = studio, job
        self.cells: list[tuple[str, str]] = []  # (file, "channel N")

    def __call__(self, event) -> AtlasView:
        job = self.job
        if isinstance(event, Progress):
            return updates(AtlasView, atlas_status=progress_html(event))
        if isinstance(event, _Cell):
            self.cells.append((event.path, f"channel {event.channel}"))
            return updates(AtlasView, atlas_gallery=list(self.cells),
                           atlas_cells=[[job.layer, c] for c in self._channels()])
        if isinstance(event, Done):
            self.cells = list(event.result)
            return AtlasView(status_html(1.0, f"Done: {len(self.cells)} channels of {job.layer}. "
                                              "Click a cell to dream the photo with it.", "done"),
                             list(self.cells), str(job.output),
                             [[job.layer, c] for c in self._channels()])
        if event.cancelled:
            n = len(self.cells)
            text = ("Stopped before the first channel was done." if n == 0 else
                    f"Stopped after {n} {'channel' if n == 1 else 'channels'}; the cells made "
                    "stay below (no sheet).")
            return updates(AtlasView, atlas_status=status_html(None, text, "stopped"))
        raise self.studio.error(event.message)

    def _channels(self) -> list[int]:
        return [int(caption.split()[1]) for _, caption in self.cells]

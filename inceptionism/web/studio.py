"""What every tab shares: the server's state (:class:`Studio`), the status line, the Stop
handler, and running one job in the line (:class:`.slots.Slots`) with its events streamed
back from its worker thread (:mod:`.work`).

A tab's handlers are module-level functions. Those that need the server's state take the
:class:`Studio` as their first argument, bound with :func:`bind` (a bound method, so Gradio
still sees the handler's own signature: its ``gr.Request`` and its named inputs). Each
handler's outputs are a named tuple whose fields name the tab's components; :func:`updates`
makes one that leaves every field not given unchanged on the page.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from ..settings import DEFAULT_MAX_PIXELS
from ..jobs import CancelToken, Hooks
from ..progress import format_seconds
from .slots import Busy, Slots
from .work import Failed, Progress, stream

RESULT_TTL = 24 * 3600  # seconds a job's files are kept (the page holds them until then)
Components = dict[str, Any]  # a tab's components by name


@dataclass
class Studio:
    """What the server holds for all visitors: its private folder, the line, loaded models,
    and each visitor's Stop token (by Gradio session). Results are never listed anywhere:
    each lives in its own random folder and reaches only the page that asked for it."""

    root: Path  # the private temporary folder (uploads, results), removed on exit
    slots: Slots
    max_pixels: int = DEFAULT_MAX_PIXELS  # the most pixels an upload, or a job's work, may have
    max_file_size: int | None = None  # bytes; enforced by Gradio at upload
    device: str = "cpu"
    _dreamers: dict = field(default_factory=dict)
    _tokens: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def dreamer(self, model: str):
        """A loaded Dreamer for ``model`` that refuses work over ``max_pixels``; the last one
        is kept (one job runs at a time)."""
        if model not in self._dreamers:
            self._dreamers.clear()
            self._dreamers[model] = Hooks().load(model, None, self.device, download_progress=False,
                                                 max_pixels=self.max_pixels)
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
        """A new Stop token for ``session``'s next job."""
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

    def error(self, message: str) -> gr.Error:
        """The error a handler raises: a notice on the page, the sentence in the API's answer."""
        return gr.Error(self.public(message), duration=None, print_exception=False)


# --- binding handlers to the page ------------------------------------------------------------


def bind(handler: Callable, studio: Studio) -> Callable:
    """``handler`` with ``studio`` as its first argument, for Gradio (which reads the rest of
    its signature: a ``gr.Request`` parameter, a generator that streams updates)."""
    return types.MethodType(handler, studio)


def control(name: str, default: Any = None, *, factory: Callable | None = None) -> Any:
    """A form field read from the component ``name`` of the tab (see :func:`inputs`)."""
    if factory is not None:
        return field(default_factory=factory, metadata={"control": name})
    return field(default=default, metadata={"control": name})


def inputs(form: type, components: Components) -> Components:
    """Gradio's named inputs for a form dataclass: field name -> its component. The fields'
    order is the order of the HTTP API's parameters, their names its parameter names."""
    return {f.name: components[f.metadata["control"]] for f in dataclasses.fields(form)}


def outputs(view: type, components: Components) -> list:
    """The components a handler's named-tuple ``view`` updates, in its fields' order."""
    return [components[name] for name in view._fields]


def updates(view: type, **values: Any):
    """A ``view`` (a named tuple of component updates) that leaves the fields not given as
    they are on the page."""
    return view(**{name: values[name] if name in values else gr.skip() for name in view._fields})


def status_update(view: type, html_text: str):
    """A ``view`` that changes only its status line (by convention its first field)."""
    return updates(view, **{view._fields[0]: html_text})


def session_of(request: gr.Request | None) -> str:
    """The visitor's Gradio session (each browser tab and API client has its own)."""
    return getattr(request, "session_hash", None) or "api"


def stop(studio: Studio, request: gr.Request | None = None) -> None:
    """Every tab's Stop button: cancel this visitor's job, if any (others' jobs go on)."""
    studio.stop(session_of(request))


# --- the status line -------------------------------------------------------------------------


def status_html(fraction: float | None, text: str, state: str = "running") -> str:
    bar = "" if fraction is None else \
        f'<progress class="inc-bar" value="{fraction:.3f}" max="1"></progress> '
    return (f'<div class="inc-status" data-state="{state}">{bar}'
            f'<span class="inc-text">{html.escape(text)}</span></div>')


def progress_html(p: Progress) -> str:
    left = "estimating" if p.eta_s is None else format_seconds(p.eta_s)
    return status_html(p.fraction, f"{p.text} · {p.fraction:.0%} · ETA {left}")


# --- running a job in the line ---------------------------------------------------------------


def take_turn(studio: Studio, token: CancelToken, view: type) -> Iterator:
    """Join the line (or fail with "Busy: N ahead"), yielding a waiting status until it is
    this job's turn; the ticket comes last, and the caller leaves it."""
    try:
        ticket = studio.slots.enter()
    except Busy as exc:
        raise studio.error(str(exc)) from None
    try:
        while not ticket.wait(timeout=0.5):
            if token.cancelled:
                ticket.leave()
                raise studio.error("Left the line before starting.")
            ahead = ticket.ahead()
            yield status_update(view, status_html(None, f"Waiting: {ahead} ahead of you.",
                                                  "waiting"))
    except BaseException:
        ticket.leave()
        raise
    yield ticket


def run_in_line(studio: Studio, token: CancelToken, work: Callable, view: type,
                on_event: Callable) -> Iterator:
    """Wait for the slot, run ``work(emit, token)`` streaming its events through
    ``on_event`` (which returns a ``view`` or None), and always give the slot back. The
    waiting, starting and failing are shown in the ``view``'s status line."""
    ticket = None
    try:
        for item in take_turn(studio, token, view):
            if isinstance(item, tuple):
                yield item
            else:
                ticket = item
        yield status_update(view, status_html(0, "Starting…"))
        last = 0.0
        for event in stream(work, token):
            if isinstance(event, Progress):  # at most five a second (pictures never wait)
                if time.monotonic() - last < 0.2 and event.done < event.total:
                    continue
                last = time.monotonic()
            if isinstance(event, Failed) and not event.cancelled:  # in the status line too
                message = studio.public(event.message)
                yield status_update(view, status_html(None, message, "error"))
                raise studio.error(message)
            update = on_event(event)
            if update is not None:
                yield update
    finally:
        if ticket is not None:
            ticket.leave()

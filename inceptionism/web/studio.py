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
from .accounts import Accounts, Limits
from .slots import Busy, Slots
from .work import Failed, Progress, stream

RESULT_TTL = 24 * 3600  # seconds a job's files are kept unless the server says otherwise
Components = dict[str, Any]  # a tab's components by name


@dataclass
class Studio:
    """What the server holds for all visitors: its private folder, the line, loaded models,
    the accounts and limits, and each owner's Stop tokens. An owner is a logged-in user, or a
    browser tab's Gradio session when the studio has no accounts (:func:`session_of`).
    Results are never listed anywhere: each lives in its own random folder (a folder of its
    user's, with accounts) and reaches only the page that asked for it (:mod:`.guard`)."""

    root: Path  # the private temporary folder (uploads, results), removed on exit
    slots: Slots
    max_pixels: int = DEFAULT_MAX_PIXELS  # the most pixels an upload, or a job's work, may have
    max_file_size: int | None = None  # bytes; enforced by Gradio at upload
    device: str = "cpu"
    accounts: Accounts | None = None  # None: no accounts, every visitor alike
    max_steps: int | None = None  # the most steps per octave (per layer, per frame)
    _dreamers: dict = field(default_factory=dict)
    _live: dict = field(default_factory=dict)  # id(token) -> (owner, token, busy paths)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def dreamer(self, model: str):
        """A loaded Dreamer for ``model`` that refuses work over ``max_pixels``; only the last
        model is kept (a model's memory is not multiplied by the visitors)."""
        with self._lock:
            if model not in self._dreamers:
                self._dreamers.clear()
                self._dreamers[model] = Hooks().load(
                    model, None, self.device, download_progress=False,
                    max_pixels=self.max_pixels)
            return self._dreamers[model]

    def limits(self, owner: str) -> Limits:
        """What ``owner``'s jobs may use: their own limits (with accounts), never above the
        server's."""
        server = Limits(self.max_pixels, self.max_steps)
        if self.accounts is None:
            return server
        return self.accounts.limits(owner).within(server)

    def new_folder(self, owner: str | None = None) -> Path:
        """A new, randomly named folder for one job's files: a folder of ``owner``'s when the
        studio has accounts. It lies in Gradio's upload folder, so the page shows its files
        where they are (no copies); the janitor (:mod:`.storage`) removes it when it expires
        or the disk quota needs the room."""
        base = self.root / "uploads"
        base = base / "users" / owner if self.accounts is not None and owner else base / "jobs"
        folder = base / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def token(self, owner: str) -> CancelToken:
        """A new Stop token for ``owner``'s next job (given back by :func:`run_in_line`)."""
        with self._lock:
            token = CancelToken()
            self._live[id(token)] = (owner, token, ())
            return token

    def owner_of(self, token: CancelToken) -> str | None:
        with self._lock:
            entry = self._live.get(id(token))
            return entry[0] if entry else None

    def replaced(self, owner: str, token: CancelToken) -> None:
        """Stop ``owner``'s other jobs: ``token``'s job took their place in the line."""
        with self._lock:
            others = [t for o, t, _ in self._live.values() if o == owner and t is not token]
        for other in others:
            other.cancel()

    def hold(self, token: CancelToken, paths: tuple[Path, ...]) -> None:
        """Keep ``paths`` (a job's inputs and folders) from the janitor while it is in line."""
        with self._lock:
            if id(token) in self._live:
                owner, _, _ = self._live[id(token)]
                self._live[id(token)] = (owner, token, paths)

    def release(self, token: CancelToken) -> None:
        """The job of ``token`` is over: forget it (and what it held)."""
        with self._lock:
            self._live.pop(id(token), None)

    def busy(self) -> list[Path]:
        """The paths the jobs in the line hold."""
        with self._lock:
            return [p for _, _, paths in self._live.values() for p in paths]

    def stop(self, owner: str) -> bool:
        with self._lock:
            tokens = [t for o, t, _ in self._live.values() if o == owner]
        for token in tokens:
            token.cancel()
        return bool(tokens)

    def public(self, message: str) -> str:
        """``message`` without the server's folders: an upload is named by its file name."""
        return re.sub(re.escape(str(self.root)) + r"/\S*/", "", message)

    def error(self, message: str) -> gr.Error:
        """The error a handler raises: a notice on the page, the sentence in the API's answer."""
        return gr.Error(self.public(message), duration=None, print_exception=False)


def job_paths(work: Callable) -> tuple[Path, ...]:
    """The files and folders a job reads and writes: the paths among the fields of the job
    request(s) bound into ``work`` (a ``functools.partial``), and any bound path."""
    found: list[Path] = []

    def add(value: Any) -> None:
        if isinstance(value, Path):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            for item in value:
                add(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                add(getattr(value, f.name))

    for value in (*getattr(work, "args", ()), *getattr(work, "keywords", {}).values()):
        if not isinstance(value, Studio):
            add(value)
    return tuple(found)


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
    """The job's owner: the logged-in user, or without accounts the visitor's Gradio session
    (each browser tab and API client has its own)."""
    user = getattr(request, "username", None)
    if user:
        return str(user)
    return getattr(request, "session_hash", None) or "api"


def stop(studio: Studio, request: gr.Request | None = None) -> None:
    """Every tab's Stop button: cancel this owner's job, if any (others' jobs go on)."""
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
    """Join the line (or fail with "Busy: N ahead"), replacing the owner's job already in it,
    yielding a waiting status (how many are ahead) until it is this job's turn; the
    ticket comes last, and the caller leaves it."""
    owner = studio.owner_of(token)
    try:
        ticket = studio.slots.enter(owner)
    except Busy as exc:
        raise studio.error(str(exc)) from None
    studio.replaced(owner, token)
    try:
        while not ticket.wait(timeout=0.5):
            if ticket.replaced:
                raise studio.error("Replaced by your newer job.")
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
    waiting, starting and failing are shown in the ``view``'s status line. The job's files
    (:func:`job_paths`) are kept from the janitor until it is over."""
    ticket = None
    studio.hold(token, job_paths(work))
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
        studio.release(token)

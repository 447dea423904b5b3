"""The studio's jobs, run in a worker thread and streamed back as events.

A page handler cannot block for a minute and must show progress as it goes, so each job
(a dream, a layer tour, a video) runs in its own thread and reports through ``emit``;
:func:`stream` turns that into an iterator the handler loops over, yielding page updates.
The jobs layer's :class:`~inceptionism.CancelToken`, set by the page's Stop button, is
checked before every dream step, so a job ends within about one step of pressing Stop.

Nothing here knows Gradio; the tabs (``tabs/``) only format what comes out. Time left comes
from :class:`inceptionism.progress.Eta`, the one estimate every front end uses.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ..errors import InceptionismError
from ..jobs import CancelToken, Cancelled


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``done`` of ``total`` units (steps, frames), and an estimate."""

    done: int
    total: int
    text: str  # what is being done, e.g. "octave 2/4 (451x300), step 3/10"
    eta_s: float | None  # seconds left, None until one unit is done

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class Preview:
    """An intermediate picture: the dream after an octave, or the latest video frame."""

    image: Image.Image
    caption: str


@dataclass(frozen=True)
class Done:
    result: Any


@dataclass(frozen=True)
class Failed:
    message: str  # one sentence for the visitor
    cancelled: bool = False


Event = Progress | Preview | Done | Failed
Emit = Callable[[Progress | Preview], None]


def stream(work: Callable[[Emit, CancelToken], Any], token: CancelToken,
           poll: float = 0.1) -> Iterator[Event]:
    """Run ``work(emit, token)`` in a thread; yield what it emits, then :class:`Done` or
    :class:`Failed`. Closing the iterator early (the visitor left) cancels the job and waits
    for its thread, so the next job never shares the CPU with an orphan."""
    events: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            events.put(Done(work(events.put, token)))
        except Cancelled as exc:
            events.put(Failed(str(exc), cancelled=True))
        except InceptionismError as exc:
            events.put(Failed(str(exc)))
        except MemoryError:
            events.put(Failed("Out of memory; try a smaller image."))
        except Exception as exc:  # a bug of ours: one line for the page, not a traceback
            events.put(Failed(f"Unexpected {type(exc).__name__}: {exc}."))

    thread = threading.Thread(target=run, name="inceptionism-job", daemon=True)
    thread.start()
    try:
        while True:
            try:
                event = events.get(timeout=poll)
            except queue.Empty:
                continue
            yield event
            if isinstance(event, (Done, Failed)):
                return
    finally:
        token.cancel()  # a no-op when the job is over; stops it when the visitor has gone
        thread.join()

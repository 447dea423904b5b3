"""A fair line: ``concurrency`` jobs at a time, a bounded line of waiting ones, one per user.

A dream takes the whole CPU, so the studio runs one job at a time by default (``concurrency``
more where the device has room, a GPU) and lets at most ``max_waiting`` more wait for their
turn, first come first served. A visitor who would make the line longer is refused at once
with a sentence saying how many are ahead, never left hanging. While waiting,
:meth:`Ticket.ahead` says how many jobs are ahead, for the page to show.

Each owner (a user, or a browser tab when there are no accounts) has at most one job in the
line. A second job from the same owner **replaces** the first: it takes the first one's
place (at the head when the first was running, since the owner's turn had come), and the
first is told it was replaced (:meth:`Ticket.replaced`; the page stops it). Pressing Dream
again with other settings therefore never costs the owner their place, and never lets one
owner fill the line.

Plain threads and a condition variable: the page's handlers run in worker threads, and this
module knows nothing of Gradio (it is tested on its own).
"""

from __future__ import annotations

import threading
from collections import deque

from ..errors import InceptionismError


class Busy(InceptionismError):
    """The line is full: the message says how many are ahead."""


class Slots:
    """A FIFO line in front of ``concurrency`` worker slots, one place per owner."""

    def __init__(self, max_waiting: int = 4, concurrency: int = 1):
        if max_waiting < 0:
            raise ValueError("max_waiting must be 0 or more")
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        self.max_waiting = max_waiting
        self.concurrency = concurrency
        self._cond = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._running: list[Ticket] = []

    def enter(self, owner: str | None = None) -> Ticket:
        """Join the line, replacing ``owner``'s job already in it (if any), or raise
        :class:`Busy` if the line is full."""
        with self._cond:
            ticket = Ticket(self, owner)
            old = self._find(owner)
            if old is not None:
                old.replaced = True
                if old in self._waiting:
                    self._waiting[self._waiting.index(old)] = ticket
                else:  # running: this one is next, once the old one has stopped
                    self._waiting.appendleft(ticket)
                self._cond.notify_all()
                return ticket
            if len(self._running) + len(self._waiting) >= self.concurrency + self.max_waiting:
                ahead = len(self._running) + len(self._waiting)
                raise Busy(
                    f"Busy: {ahead} {'job is' if ahead == 1 else 'jobs are'} ahead of you and the "
                    f"line is full; try again in a minute."
                )
            self._waiting.append(ticket)
            self._cond.notify_all()
            return ticket

    def _find(self, owner: str | None) -> Ticket | None:
        if owner is None:
            return None
        for ticket in (*self._running, *self._waiting):
            if ticket.owner == owner and not ticket.replaced:
                return ticket
        return None

    @property
    def queued(self) -> int:
        """Jobs running or waiting."""
        with self._cond:
            return len(self._running) + len(self._waiting)

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    def _ahead(self, ticket: Ticket) -> int:
        with self._cond:
            if ticket in self._waiting:
                return len(self._running) + self._waiting.index(ticket)
            return 0

    def _wait(self, ticket: Ticket, timeout: float | None) -> bool:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: ticket.replaced or ticket in self._running or (
                    len(self._running) < self.concurrency and self._waiting
                    and self._waiting[0] is ticket), timeout)
            if ok and not ticket.replaced and ticket not in self._running:
                self._running.append(self._waiting.popleft())
            return bool(ok) and not ticket.replaced

    def _leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            if ticket in self._running:
                self._running.remove(ticket)
            self._cond.notify_all()


class Ticket:
    """A place in the line. Use as a context manager, or call :meth:`leave` when done."""

    def __init__(self, slots: Slots, owner: str | None = None):
        self._slots = slots
        self.owner = owner
        self.replaced = False  # a newer job of the same owner took this one's place

    def ahead(self) -> int:
        """How many jobs (running or waiting) are ahead of this one."""
        return self._slots._ahead(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is this ticket's turn (True), or ``timeout`` seconds pass or the
        ticket is replaced (False; see :attr:`replaced`)."""
        return self._slots._wait(self, timeout)

    def leave(self) -> None:
        """Give up the place, or the slot when running. Safe to call more than once."""
        self._slots._leave(self)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc) -> None:
        self.leave()

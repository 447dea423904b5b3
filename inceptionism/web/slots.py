"""One job at a time, with a bounded line of waiting visitors.

A dream takes the whole CPU, so the studio runs one job at a time and lets at most
``max_waiting`` more wait for their turn, first come first served. A visitor who would make
the line longer is refused at once with a sentence saying how many are ahead, never left
hanging. While waiting, :meth:`Ticket.ahead` says how many jobs are ahead, for the page to
show.

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
    """A FIFO line in front of one worker slot."""

    def __init__(self, max_waiting: int = 4):
        if max_waiting < 0:
            raise ValueError("max_waiting must be 0 or more")
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._line: deque[Ticket] = deque()  # the running job (if any) first, then the waiting
        self._running: Ticket | None = None

    def enter(self) -> Ticket:
        """Join the line, or raise :class:`Busy` if it is full."""
        with self._cond:
            if len(self._line) >= 1 + self.max_waiting:  # the job at the head, and the waiting
                ahead = len(self._line)
                raise Busy(
                    f"Busy: {ahead} {'job is' if ahead == 1 else 'jobs are'} ahead of you and the "
                    f"line is full; try again in a minute."
                )
            ticket = Ticket(self)
            self._line.append(ticket)
            return ticket

    @property
    def queued(self) -> int:
        """Jobs running or waiting."""
        with self._cond:
            return len(self._line)

    def _ahead(self, ticket: Ticket) -> int:
        with self._cond:
            try:
                return self._line.index(ticket)
            except ValueError:
                return 0

    def _wait(self, ticket: Ticket, timeout: float | None) -> bool:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._running is None and self._line and self._line[0] is ticket, timeout)
            if ok:
                self._running = ticket
            return bool(ok)

    def _leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            if self._running is ticket:
                self._running = None
            self._cond.notify_all()


class Ticket:
    """A place in the line. Use as a context manager, or call :meth:`leave` when done."""

    def __init__(self, slots: Slots):
        self._slots = slots

    def ahead(self) -> int:
        """How many jobs (running or waiting) are ahead of this one."""
        return self._slots._ahead(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is this ticket's turn (True), or ``timeout`` seconds pass (False)."""
        return self._slots._wait(self, timeout)

    def leave(self) -> None:
        """Give up the place, or the slot when running. Safe to call more than once."""
        self._slots._leave(self)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc) -> None:
        self.leave()

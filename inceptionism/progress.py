"""Progress on stderr for long work: a bar on a terminal, plain lines in a log.

:class:`Reporter` draws a tqdm bar when its stream is a terminal; anywhere else (a pipe, a log
file, a web server's captured output) it prints one plain line at most every ``interval``
seconds (and when asked, e.g. at each octave's end), never carriage returns that pile up into
one huge line. :class:`Eta` estimates the time left from the work done, where the first unit
of work (which pays for warm-up: memory, kernels, caches) is left out of the rate.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float | None) -> str:
    """A duration as every front end shows it: ``0:42``, ``12:05``, ``1:02:03``; None (no
    estimate yet) as ``estimating``."""
    if seconds is None:
        return "estimating"
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Eta:
    """Time left, from (done, total) work, for every front end (the CLI's bars, the studio,
    a batch). Units may cost differently (a step at a larger octave costs more), so work is
    counted in any unit that follows the cost, e.g. pixel-steps (``StepInfo.work``).

    By default the rate is measured from the first update on, so the warm-up of the first
    unit (memory, kernels, caches) does not count; ``from_start=True`` measures it from when
    the object was made instead (for work whose first unit is typical, e.g. photos)."""

    def __init__(self, clock=time.perf_counter, from_start: bool = False):
        self.clock = clock
        self.start: tuple[float, float] | None = (clock(), 0.0) if from_start else None

    def update(self, done: float, total: float) -> float | None:
        """Seconds left once ``done`` of ``total`` is done; None until there is a rate."""
        now = self.clock()
        if self.start is None:
            self.start = (now, done)
            return None
        t0, w0 = self.start
        if done <= w0:
            return None
        return (now - t0) / (done - w0) * (total - done)

    def elapsed(self) -> float:
        """Seconds since the rate's start (0 before it)."""
        return 0.0 if self.start is None else self.clock() - self.start[0]


class Reporter:
    """A bar on a terminal, plain lines at a modest rate elsewhere."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0,
                 unit: str = "work", clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.unit = unit
        self.bar = None
        self.last_line: float | None = None

    def show(self, fraction: float, text: str, eta: float | None, force: bool = False) -> None:
        left = f"{format_seconds(eta)} left" if eta is not None else "estimating time left"
        if self.terminal:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=1000, file=self.stream, dynamic_ncols=True, leave=False,
                                bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}, {postfix}]")
            self.bar.set_description_str(text, refresh=False)
            self.bar.set_postfix_str(left, refresh=False)
            self.bar.update(round(fraction * 1000) - self.bar.n)
            if force:
                self.bar.refresh()
            return
        now = self.clock()
        if force or self.last_line is None or now - self.last_line >= self.interval:
            self.last_line = now
            print(f"{text}: {fraction:.0%} done, {left}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

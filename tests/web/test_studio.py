"""What the tabs share, called directly: Stop by visitor, the line, the status line."""

from __future__ import annotations

import gradio as gr
import pytest

from inceptionism.errors import InceptionismError
from inceptionism.web.slots import Slots
from inceptionism.web.studio import Studio, progress_html, run_in_line, stop
from inceptionism.web.tabs.dream import DreamView
from inceptionism.web.work import Done, Progress

from .conftest import Visitor


def test_stop_cancels_only_the_visitors_own_job(tmp_path):
    studio = Studio(root=tmp_path, slots=Slots(1))
    a, b, api = studio.token("a"), studio.token("b"), studio.token("api")
    stop(studio, Visitor("a"))
    assert a.cancelled and not b.cancelled and not api.cancelled
    stop(studio, None)  # a call without a session (the API's default)
    assert api.cancelled and not b.cancelled
    stop(studio, Visitor("nobody"))  # no job: nothing happens


def test_the_line_refuses_when_full_and_gives_the_slot_back(tmp_path):
    studio = Studio(root=tmp_path, slots=Slots(0))
    token = studio.token("a")

    def work(emit, token):
        emit(Progress(1, 2, "half", None))
        return "made"

    def view(event):
        return DreamView("done" if isinstance(event, Done) else progress_html(event), *"xyz")

    held = studio.slots.enter()
    with pytest.raises(gr.Error, match="Busy: 1 job is ahead of you"):
        list(run_in_line(studio, token, work, DreamView, view))
    held.leave()
    views = list(run_in_line(studio, token, work, DreamView, view))
    assert "Starting" in views[0].status and views[-1].status == "done"
    assert studio.slots.queued == 0


def test_a_failed_job_shows_its_sentence_without_the_server_folders(tmp_path):
    studio = Studio(root=tmp_path, slots=Slots(0))
    def work(emit, token):
        raise InceptionismError(f"Input {tmp_path}/uploads/f00/cat.png is broken.")

    job = run_in_line(studio, studio.token("a"), work, DreamView, lambda event: None)
    views = []
    with pytest.raises(gr.Error, match=r"^'Input cat.png is broken.'$"):
        for view in job:
            views.append(view)
    assert "Input cat.png is broken." in views[-1].status and 'data-state="error"' in \
        views[-1].status
    assert studio.slots.queued == 0


def test_progress_shows_the_fraction_and_the_time_left():
    assert "step 1 · 25% · ETA estimating" in progress_html(Progress(1, 4, "step 1", None))
    assert "ETA 1:05" in progress_html(Progress(2, 4, "step 2", 65.2))


def test_pictures_coming_often_do_not_starve_the_status_line(tmp_path):
    """Progress is shown at most five times a second, however often a picture arrives (a
    small video's frames come ten times a second)."""
    import time

    from inceptionism.web.work import Preview

    studio = Studio(root=tmp_path, slots=Slots(0))

    def work(emit, token):
        for i in range(12):
            emit(Progress(i, 100, f"frame {i}", None))
            emit(Preview(None, f"frame {i}"))
            time.sleep(0.1)
        return "made"

    def view(event):
        if isinstance(event, Progress):
            return DreamView(progress_html(event), *"xyz")
        if isinstance(event, Preview):
            return DreamView(gr.skip(), "picture", gr.skip(), gr.skip())
        return DreamView("done", *"xyz")

    views = list(run_in_line(studio, studio.token("a"), work, DreamView, view))
    shown = [v.status for v in views if "frame" in str(v.status)]
    assert 4 <= len(shown) <= 8, shown  # about 1.2 s of work: one every 0.2 s
    assert sum(v.result == "picture" for v in views) == 12

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


class User(Visitor):
    """A logged-in visitor: Gradio's request carries the user name, in any browser tab."""

    def __init__(self, username: str, session_hash: str):
        super().__init__(session_hash)
        self.username = username


def test_a_users_second_job_replaces_the_first_in_its_place(tmp_path):
    from inceptionism.web.studio import session_of

    studio = Studio(root=tmp_path, slots=Slots(2))
    assert session_of(User("ann", "tab-1")) == session_of(User("ann", "tab-2")) == "ann"
    held = studio.slots.enter("someone")
    assert held.wait(0)
    view = lambda event: DreamView("done", *"xyz")  # noqa: E731
    first_token = studio.token("ann")
    first = run_in_line(studio, first_token, lambda emit, token: "one", DreamView, view)
    assert "Waiting: 1 ahead of you." in next(first).status
    other = run_in_line(studio, studio.token("bob"), lambda emit, token: "b", DreamView, view)
    assert "Waiting: 2 ahead of you." in next(other).status
    second = run_in_line(studio, studio.token("ann"), lambda emit, token: "two", DreamView, view)
    assert "Waiting: 1 ahead of you." in next(second).status, "the new job lost ann's place"
    assert first_token.cancelled
    with pytest.raises(gr.Error, match="Replaced by your newer job"):
        next(first)
    held.leave()
    assert [v.status for v in second][-1] == "done"
    assert studio.slots.queued == 1 and studio.busy() == []

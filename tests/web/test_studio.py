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


def test_two_jobs_at_once_share_the_model_and_dream_what_each_would_alone(tmp_path):
    """--concurrency 2: two users' dreams run at the same time on the one loaded model, and
    each gives the pixels it gives alone (the model holds no state between calls)."""
    import threading

    import numpy as np
    from PIL import Image

    from inceptionism.web.tabs.dream import dream

    from .conftest import small_photo

    studio = Studio(root=tmp_path, slots=Slots(0, concurrency=2))
    photos = [small_photo(tmp_path / f"{n}.png", size=(96, 64), name=n)
              for n in ("chelsea", "coffee")]

    def run(i: int, results: dict) -> None:
        views = list(dream(studio, User(f"user{i}", f"s{i}"), photo_path=str(photos[i]),
                           steps_=8, octaves_=1, seed_=i))
        results[i] = np.asarray(Image.open(views[-1].download))

    alone: dict = {}
    for i in range(2):
        run(i, alone)
    together: dict = {}
    most = []
    threads = [threading.Thread(target=run, args=(i, together)) for i in range(2)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        most.append(studio.slots.running)
    for t in threads:
        t.join()
    assert max(most) == 2, "the two jobs never ran at the same time"
    for i in range(2):
        assert np.array_equal(alone[i], together[i]), f"job {i} dreamed differently alongside"

"""The jobs layer and thread safety: cancel, octave images, Python re-runs, two threads."""

from __future__ import annotations

import dataclasses

import threading

import numpy as np
import pytest
from PIL import Image

from inceptionism import (
    CancelToken,
    Cancelled,
    DreamConfig,
    DreamRequest,
    Dreamer,
    Hooks,
    InceptionismError,
    run_dream,
)
from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.io.images import load_image

from ..conftest import to_tensor

SMALL = DreamConfig(octaves=2, steps=3, min_size=32, jitter=4)


@pytest.fixture
def photo(chelsea, tmp_path):
    path = tmp_path / "cat.png"
    Image.fromarray((chelsea[:80, :96] * 255).round().astype(np.uint8)).save(path)
    return path


def test_cancel_stops_a_dream_mid_octave(tiny_model, chelsea, one_thread):
    token = CancelToken()
    steps = []

    def on_step(info):
        steps.append((info.octave, info.step))
        if len(steps) == 2:  # a web page's stop button, pressed during the first octave
            token.cancel()

    with pytest.raises(Cancelled):
        dream(tiny_model, to_tensor(chelsea[:64, :64]), layer("c2"), SMALL, on_step, cancel=token)
    assert steps == [(0, 0), (0, 1)]  # stopped before the octave's third step


def test_octave_callback_sees_each_octave_image(tiny_model, chelsea, one_thread):
    seen = []
    out = dream(tiny_model, to_tensor(chelsea[:64, :64]), layer("c2"), SMALL,
                on_octave=lambda info: seen.append(info))
    assert [s.octave for s in seen] == [0, 1]
    assert tuple(seen[0].image.shape[-2:]) == seen[0].size and seen[0].size < seen[1].size
    assert np.array_equal(seen[-1].image.numpy(), out.numpy())  # the last octave is the dream


def test_python_dream_with_stored_params_reruns_bit_identically(photo, tmp_path, one_thread):
    run_dream(DreamRequest(input=photo, output=tmp_path / "a.png", objective="b6", config=SMALL))
    again = run_dream(DreamRequest(input=photo, output=tmp_path / "b.png",
                                   params_from=tmp_path / "a.png"))
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    assert np.array_equal(a, b)
    # What "auto" resolved to is stored (Lite0: float32), so the re-run computes the same.
    assert again.recipe.config == dataclasses.replace(SMALL, precision="float32")
    assert again.recipe.objective == "b6"
    assert not np.array_equal(a, np.asarray(Image.open(photo)))  # it did dream


def test_job_reports_octaves_and_notes_and_can_be_cancelled(photo, tmp_path, one_thread):
    token = CancelToken()
    octaves = []

    def on_octave(info):
        octaves.append(info.image)
        token.cancel()  # stop after the first octave is shown

    with pytest.raises(Cancelled):
        run_dream(DreamRequest(input=photo, output=tmp_path / "x.png", config=SMALL),
                  Hooks(on_octave=on_octave, cancel=token))
    assert len(octaves) == 1 and not (tmp_path / "x.png").exists()  # no partial output


def test_two_dreamers_in_two_threads_match_sequential_results(chelsea, one_thread):
    images = [chelsea[:72, :88], chelsea[100:172, 200:288]]
    jobs = [("b6", 1), ("b8", 2)]
    dreamers = [Dreamer(), Dreamer()]

    def run(i):
        objective, seed = jobs[i]
        return dreamers[i].dream_array(images[i], objective,
                                       DreamConfig(octaves=2, steps=3, min_size=32, seed=seed))

    sequential = [run(0), run(1)]
    threaded = [None, None]
    start = threading.Barrier(2)

    def worker(i):
        start.wait()
        threaded[i] = run(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s, t in zip(sequential, threaded):
        assert np.array_equal(s, t)


def test_pillow_bomb_guard_stays_on_while_another_thread_loads(tmp_path):
    """load_image reads a large image with a per-call limit, never by lifting Pillow's global
    guard: meanwhile, another thread's plain Image.open still refuses a bomb."""
    limit = Image.MAX_IMAGE_PIXELS
    big = tmp_path / "big.png"
    Image.new("RGB", (3000, 2000)).save(big)  # 6 MP, above the small guard set below
    bomb = tmp_path / "bomb.png"
    Image.new("L", (3000, 2000)).save(bomb)
    Image.MAX_IMAGE_PIXELS = 1_000_000  # a strict guard: 2 MP and up is refused as a bomb
    try:
        loading = threading.Event()
        done = threading.Event()
        seen = []

        def loader():
            loading.set()
            for _ in range(5):
                load_image(big, max_pixels=10_000_000)
            done.set()

        def watcher():
            loading.wait()
            while not done.is_set():
                seen.append(Image.MAX_IMAGE_PIXELS)
                try:
                    Image.open(bomb)
                    seen.append("opened a bomb")
                except Image.DecompressionBombError:
                    pass

        threads = [threading.Thread(target=loader), threading.Thread(target=watcher)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen and set(seen) == {1_000_000}  # never lifted, never let a bomb through
        assert load_image(big, max_pixels=10_000_000).size == (3000, 2000)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_a_cancelled_zoom_keeps_its_frames_and_resumes(photo, tmp_path, one_thread):
    from inceptionism import ZoomRequest, run_zoom

    token = CancelToken()
    frames = []

    def on_frame(info):
        frames.append(info.index)
        if info.index == 1:
            token.cancel()  # stops inside frame 2's dream

    request = ZoomRequest(input=photo, outputs=[tmp_path / "z.gif"], frames=4,
                          config=DreamConfig(octaves=1, steps=2, min_size=32))
    with pytest.raises(Cancelled, match="2 of 4 frames are safe"):
        run_zoom(request, Hooks(on_frame=on_frame, cancel=token))
    assert frames == [0, 1] and not (tmp_path / "z.gif").exists()
    assert sorted((tmp_path / "z.frames").glob("frame_*.png"))  # the two frames are kept
    resumed = []
    result = run_zoom(request, Hooks(on_frame=lambda info: resumed.append(info)))
    assert [i.index for i in resumed] == [2, 3] and resumed[0].first == 2
    assert result.frames == 4 and (tmp_path / "z.gif").stat().st_size > 0


def test_every_remedy_the_library_names_is_worded_by_the_cli():
    """A library error with a remedy key the CLI does not know would lose its hint."""
    import re
    from pathlib import Path

    import inceptionism
    from inceptionism.cli import REMEDIES

    root = Path(inceptionism.__file__).parent
    used = {key for path in root.rglob("*.py")
            for key in re.findall(r'remedy="(\w+)"', path.read_text())}
    assert used and used <= set(REMEDIES), used - set(REMEDIES)
    for path in root.rglob("*.py"):  # and no library message names an option itself
        if path.relative_to(root).parts[0] != "cli" and \
                path.relative_to(root).as_posix() != "web/command.py":
            assert not re.search(r'f?"[^"\n]*--(force|restart|max-pixels|weights|device|frames-dir)',
                                 path.read_text()), path


def test_the_cli_reruns_an_output_made_from_python(photo, tmp_path, one_thread):
    from inceptionism.cli import main

    result = run_dream(DreamRequest(input=photo, objective="b8", config=SMALL))
    result.save(tmp_path / "py.png")  # written later, from the result: still re-runnable
    assert main(["dream", "--params-from", str(tmp_path / "py.png"), str(photo),
                 "-o", str(tmp_path / "cli.png"), "-q"]) == 0
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("py.png", "cli.png"))
    assert np.array_equal(a, b)


def test_a_preset_and_stored_parameters_are_refused_together(photo, tmp_path):
    run_dream(DreamRequest(input=photo, output=tmp_path / "a.png",
                           config=DreamConfig(octaves=1, steps=0)))
    with pytest.raises(InceptionismError, match="either a preset or stored parameters"):
        run_dream(DreamRequest(input=photo, params_from=tmp_path / "a.png", preset="subtle"))


def test_frame_callback_carries_the_stored_frame(photo, tmp_path, one_thread):
    from inceptionism import ZoomRequest, run_zoom
    from inceptionism.video.store import FrameStore

    seen = []
    run_zoom(ZoomRequest(input=photo, outputs=[tmp_path / "z.gif"], frames=2,
                         config=DreamConfig(octaves=1, steps=1, min_size=32)),
             Hooks(on_frame=seen.append))
    store = FrameStore(tmp_path / "z.frames")
    for info in seen:
        assert np.array_equal((info.image * 255).round(), (store.load(info.index) * 255).round())

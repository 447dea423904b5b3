"""Long videos split into segments: coverage, the seam metric, joining with the sound, and the
same frames from local worker processes and from a real local Ray cluster."""

from __future__ import annotations

import numpy as np
import pytest

from inceptionism import Dreamer
from inceptionism.cli import main
from inceptionism.video.codec import probe, read_frames
from inceptionism.video.loops import render_video
from inceptionism.video.segments import process_runner, ray_runner, render_segments, seam_metric, split
from inceptionism.settings import FlowConfig
from inceptionism.video.store import FrameStore, file_digest

from ..cli.test_video import make_clip, make_spliced_clip

FRAMES = 12
PLAIN = FlowConfig(carry=0.6, temporal=0.0, cut=1.0, coherent=False)  # the flow carry alone
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def dreamer() -> Dreamer:
    return Dreamer()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    make_clip(path, FRAMES, 96, 64, 12, 3, 1)  # the cat sliding, with a 440 Hz tone
    return path


def frames_of(store: FrameStore, n: int) -> list[np.ndarray]:
    return [store.load(i) for i in range(n)]


def render_sequential(dreamer, clip, folder, flow: FlowConfig) -> list[np.ndarray]:
    store = FrameStore(folder)
    render_video(dreamer, read_frames(clip), store, FRAMES, file_digest(clip), flow=flow)
    return frames_of(store, FRAMES)


@pytest.fixture(scope="module")
def sequential(dreamer, clip, tmp_path_factory) -> list[np.ndarray]:
    return render_sequential(dreamer, clip, tmp_path_factory.mktemp("seq") / "frames", PLAIN)


def segmented(dreamer, clip, folder, segments: int, warmup: int, runner=None,
              flow: FlowConfig = PLAIN) -> list[np.ndarray]:
    store = FrameStore(folder)
    render_segments(dreamer, clip, store, FRAMES, file_digest(clip), segments, warmup,
                    flow=flow, runner=runner)
    return frames_of(store, FRAMES)


def test_split_covers_every_frame_once_in_order():
    for frames in (1, 5, 12, 100):
        for n in (1, 3, 4, 7):
            parts = split(frames, n, 2)
            kept = [i for p in parts for i in range(p.first, p.stop)]
            assert kept == list(range(frames))
            assert all(p.frames > 0 for p in parts) and len(parts) == min(n, frames)
            assert all(p.start == max(0, p.first - 2) for p in parts)


def test_seams_and_warm_up(dreamer, clip, sequential, tmp_path):
    seams = [p.first for p in split(FRAMES, 3, 0)][1:]  # frames 4 and 8
    inputs = list(read_frames(clip))
    # A warm-up that reaches back to frame 0 makes every segment the sequential render.
    full = segmented(dreamer, clip, tmp_path / "k8", 3, 8)
    assert all(np.array_equal(a, b) for a, b in zip(full, sequential))
    metric = {k: seam_metric(segmented(dreamer, clip, tmp_path / f"k{k}", 3, k), inputs, seams,
                             sequential) for k in (0, 3)}
    lines = [f"  K={k}: seam {m['seam']:.4f} within {m['within']:.4f} (sequential at the seams "
             f"{m['sequential_seam']:.4f}); strength seam {m['strength_seam']:.4f} within "
             f"{m['strength_within']:.4f}" for k, m in metric.items()]
    print("\nseam metric (motion-compensated change, 0..1), 3 segments of 12 frames:\n"
          + "\n".join(lines))
    cold, warm = metric[0], metric[3]
    # Without warm-up, a segment starts from the bare frame: the dream jumps at the seam (more
    # change than within segments and than the sequential render there) and is weaker there.
    assert cold["seam"] > 1.2 * cold["within"]
    assert cold["seam"] > 1.2 * cold["sequential_seam"]
    assert cold["strength_seam"] < 0.9 * cold["strength_within"]
    # Three warm-up frames remove the fade: the dream is as strong at the seam as elsewhere.
    assert warm["strength_seam"] > 0.95 * warm["strength_within"]
    assert warm["strength_seam"] > 1.1 * cold["strength_seam"]
    # (What no warm-up shorter than the whole history removes: the seam frame carries another
    # realisation of the dream's patterns than the frame before it; docs/scaling.md.)


def test_the_default_segments_are_the_sequential_render_with_a_full_warm_up(dreamer, clip, tmp_path):
    """With the temporal term (the default) too, a warm-up back to frame 0 gives the
    sequential frames bit for bit, and without one the dream is as strong at the seams."""
    flow = FlowConfig()
    whole = render_sequential(dreamer, clip, tmp_path / "seq", flow)
    assert all(np.array_equal(a, b) for a, b in zip(segmented(dreamer, clip, tmp_path / "k8", 3,
                                                              8, flow=flow), whole))
    seams = [p.first for p in split(FRAMES, 3, 0)][1:]
    cold = seam_metric(segmented(dreamer, clip, tmp_path / "k0", 3, 0, flow=flow),
                       list(read_frames(clip)), seams)
    assert cold["strength_seam"] > 0.9 * cold["strength_within"], cold


def test_local_processes_and_ray_give_the_in_process_frames(dreamer, clip, tmp_path, ray_cluster):
    here = segmented(dreamer, clip, tmp_path / "here", 3, 2)
    runner = process_runner(clip, tmp_path / "procs", "efficientnet_lite0", None, "cpu", 2, 1,
                            10**8)
    procs = segmented(dreamer, clip, tmp_path / "procs", 3, 2, runner)
    assert all(np.array_equal(a, b) for a, b in zip(here, procs))
    runner = ray_runner(clip, None, "efficientnet_lite0", None, "cpu", 2, 1, 10**8)
    on_ray = segmented(dreamer, clip, tmp_path / "ray", 3, 2, runner)
    assert all(np.array_equal(a, b) for a, b in zip(here, on_ray))


def test_cli_joins_the_segments_in_order_with_the_sound(clip, tmp_path, capsys):
    out = tmp_path / "dream.mp4"
    code = main(["video", str(clip), "-o", str(out), "--segments", "3", "--warmup", "2", "-q"])
    assert code == 0, capsys.readouterr().err
    info, source = probe(out), probe(clip)
    assert (info.frames, info.width, info.height) == (FRAMES, 96, 64)
    assert info.has_audio and info.duration == pytest.approx(source.duration, abs=0.1)
    # Every decoded frame is nearest to the stored frame of its own index: each frame once,
    # in order (H.264 is lossy, so the match is by distance, not equality).
    store = FrameStore(tmp_path / "dream.frames")
    stored = frames_of(store, FRAMES)
    for t, frame in enumerate(read_frames(out)):
        distances = [np.abs(frame - s).mean() for s in stored]
        assert int(np.argmin(distances)) == t
    assert store.params()["segments"] == 3 and store.params()["warmup"] == 2
    # Run again: every segment is complete, nothing is redone, the video is the same length.
    assert main(["video", str(clip), "-o", str(out), "--segments", "3", "--warmup", "2",
                 "-q", "--force"]) == 0
    assert probe(out).frames == FRAMES


def test_split_options_need_segments(clip, tmp_path, capsys):
    code = main(["video", str(clip), "-o", str(tmp_path / "d.mp4"), "--warmup", "3", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err == ("error: --warmup, --workers and --ray split a video: give "
                                 "--segments N too.\n")


def test_default_warm_up_lets_the_cold_start_fade_below_15_percent():
    from inceptionism.video.segments import default_warmup

    assert default_warmup(0.0) == 0  # nothing is carried: segments need no warm-up
    for carry in (0.3, 0.6, 0.8, 0.9):
        k = default_warmup(carry)
        assert carry ** k <= 0.15 < carry ** (k - 1)
    assert default_warmup(0.6) == 4
    assert default_warmup(1.0) == 40  # capped
    assert default_warmup(1.0, temporal=200) == 0  # the dream does not build up: no fade


def test_a_split_render_records_and_reports_a_cut_inside_a_segment(dreamer, tmp_path):
    clip = tmp_path / "spliced.mp4"
    make_spliced_clip(clip, 9, cut=5)  # segments 0-2, 3-5, 6-8: the cut is inside the second
    store = FrameStore(tmp_path / "frames")
    heard, flags = [], []
    render_segments(dreamer, clip, store, 9, file_digest(clip), 3, 0,
                    on_cut=lambda i, change: heard.append(i),
                    on_frame=lambda info: flags.append(info.cut))
    assert heard == [5] and list(store.cuts()) == [5] and flags.count(True) == 1
    # as the unsplit render finds it
    whole = FrameStore(tmp_path / "whole")
    render_video(dreamer, read_frames(clip), whole, 9, file_digest(clip))
    assert list(whole.cuts()) == [5]

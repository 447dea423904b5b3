"""The Video tab's handlers, called directly: a zoom loop and a dream over a clip, the frame
size by the command line's rule, its pixel limit by the zoom job's check."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from inceptionism.web.studio import stop
from inceptionism.web.tabs.video import FrameProgress, clip, frame_size, loop_frames, zoom

from .conftest import Visitor, is_skip, small_photo


def test_a_zoom_loop_streams_its_frames_then_the_video(studio, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    views = list(zoom(studio, Visitor("zoomer"), photo_path=str(photo), objective_text="b7",
                      frames_=2, zoom_=1.05, size_text="64x48", fps_=8, steps_=1))
    assert any("frame 2/2" in str(v.video_status) for v in views)
    # Before the first step, the frames' size (a large one takes a while to reach it).
    assert any("preparing the 64x48 frames" in str(v.video_status) for v in views[:3]), views
    frames = [v.frame_view for v in views if not is_skip(v.frame_view)]
    assert frames and frames[-1].size == (64, 48)
    last = views[-1]
    assert "Done: 2 frames at 8 fps." in last.video_status
    assert Path(last.video_out).name == "cat-zoom.mp4"
    assert Path(last.video_out).read_bytes()[4:8] == b"ftyp"
    assert (views[0].frame_view, views[0].video_out) == (None, None)  # the last video goes


def test_a_stopped_zoom_offers_no_video(studio, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    job = zoom(studio, Visitor("halter"), photo_path=str(photo), objective_text="b7",
               frames_=200, zoom_=1.05, size_text="96x64", fps_=8, steps_=20)  # minutes
    assert next(job).video_out is None
    for view in job:
        if "/200" in str(view.video_status):
            break  # under way
    stop(studio, Visitor("halter"))
    rest = list(job)
    assert "Stopped; no video was made" in rest[-1].video_status
    assert all(is_skip(v.video_out) for v in rest)


@pytest.mark.parametrize("frames, loop, closing", [(24, True, 6), (2, True, 1), (3, True, 1),
                                                   (24, False, 0), (1, True, 0)])
def test_a_zoom_loop_closes_over_its_last_quarter(frames, loop, closing):
    assert loop_frames(frames, loop) == closing


def test_a_dream_over_a_clip(studio, tmp_path):
    import imageio_ffmpeg  # the video extra's writer

    rgb = np.asarray(Image.open(small_photo(tmp_path / "f.png", size=(64, 48))).convert("RGB"))
    video = tmp_path / "clip.mp4"
    writer = imageio_ffmpeg.write_frames(str(video), (64, 48), fps=8, codec="libx264",
                                         macro_block_size=1)
    writer.send(None)
    for i in range(3):
        writer.send(np.ascontiguousarray(np.roll(rgb, 2 * i, axis=1)))
    writer.close()
    views = list(clip(studio, Visitor("clipper"), clip_path=str(video), objective_text="b7",
                      frames_=2, steps_=1, carry_=0.6))
    last = views[-1]
    assert "Done: 2 frames at 8 fps." in last.video_status
    assert Path(last.video_out).name == "clip-video.mp4"
    assert Path(last.video_out).read_bytes()[4:8] == b"ftyp"


def test_videos_need_their_source(studio):
    with pytest.raises(gr.Error, match="Upload a photo in the Dream tab first."):
        list(zoom(studio, clip_path="x.mp4"))
    with pytest.raises(gr.Error, match="Upload a clip first."):
        list(clip(studio, photo_path="x.png"))


@pytest.mark.parametrize("text, size", [("", None), ("  ", None), (None, None),
                                        ("640x360", (640, 360)), (" 64X48 ", (64, 48)),
                                        ("192 x 192", (192, 192)), ("64 X 48", (64, 48))])
def test_frame_sizes_read_like_the_command_line(text, size):
    assert frame_size(text) == size


@pytest.mark.parametrize("text, message", [
    ("640", "is not a size like 640x360"),
    ("64x", "is not a size like 640x360"),
    ("²x64", "is not a size like 640x360"),  # str.isdigit() takes it; int() does not
    ("١٢x64", "is not a size like 640x360"),  # digits of another script
    ("-64x64", "is not a size like 640x360"),
    ("1234567890x64", "is not a size like 640x360"),
    ("1x64", "is too small: frames need at least 2 pixels a side"),
])
def test_bad_frame_sizes_are_refused_in_one_sentence(studio, tmp_path, text, message):
    photo = small_photo(tmp_path / "cat.png")
    with pytest.raises(gr.Error, match=message):
        list(zoom(studio, photo_path=str(photo), size_text=text, frames_=2, steps_=1))


def test_frames_over_the_pixel_limit_are_the_zoom_jobs_refusal(studio, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    with pytest.raises(gr.Error, match=r"A 1000x1000 frame is 1 megapixels, more than the "
                                       r"limit of 0.2 megapixels"):
        list(zoom(studio, photo_path=str(photo), size_text="1000x1000", frames_=2, steps_=1))
    assert studio.slots.queued == 0


def test_progress_follows_each_frames_steps():
    """The status reports every dream step within its frame, so a large frame shows progress
    long before it is stored; a clip's length is known once its first frame is."""
    from inceptionism.engine.loop import StepInfo
    from inceptionism.video.frames import FrameInfo

    sent = []
    report = FrameProgress(sent.append, 4)
    sizes = ((30, 40), (60, 80))  # (H, W) of two octaves: the second is 4 times the work
    report.step(StepInfo(0, 2, 0, 1, sizes[0], 0.0, sizes))
    report.frame(FrameInfo(0, 4, 0))
    report.step(StepInfo(1, 2, 0, 1, sizes[1], 0.0, sizes))
    texts = [p.text for p in sent]
    assert texts == ["frame 1/4, octave 1/2, step 1/1", "frame 1/4",
                     "frame 2/4, octave 2/2, step 1/1"]
    assert [round(p.fraction, 3) for p in sent] == [0.05, 0.25, 0.5]
    clip = []
    FrameProgress(clip.append, None).step(StepInfo(0, 2, 0, 1, sizes[0], 0.0, sizes))
    assert clip[0].text == "first frame (80x60), octave 1/2, step 1/1"
def test_a_blank_objective_is_the_zoom_jobs_refusal(studio, tmp_path):
    from inceptionism.engine.objectives import EMPTY

    photo = small_photo(tmp_path / "cat.png")
    with pytest.raises(gr.Error) as info:
        list(zoom(studio, photo_path=str(photo), objective_text=" ", frames_=2, steps_=1))
    assert info.value.message == EMPTY
    assert studio.slots.queued == 0


def test_the_steadiness_slider_sets_the_clips_temporal_term(studio, monkeypatch):
    from inceptionism.errors import InceptionismError
    from inceptionism.web.tabs import video as tab

    seen = []

    def run(job, *args, **kwargs):
        seen.append(job.flow)
        raise InceptionismError("Stopped here.")

    monkeypatch.setattr(tab, "run_video", run)
    with pytest.raises(gr.Error, match="Stopped here."):
        list(clip(studio, Visitor("steady"), clip_path="clip.mp4", carry_=0.6, steady_=0))
    with pytest.raises(gr.Error, match="Stopped here."):
        list(clip(studio, Visitor("steady"), clip_path="clip.mp4"))
    assert (seen[0].carry, seen[0].temporal) == (0.6, 0)
    assert (seen[1].carry, seen[1].temporal) == (0.99, 200)

"""`inceptionism zoom` and `inceptionism video`: outputs read back, refusals, real interruptions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from inceptionism import DreamConfig
from inceptionism.cli import cli, main
from inceptionism.settings import FRAME_CONFIG
from inceptionism.video.codec import ffmpeg_exe, probe, read_frames
from inceptionism.video.store import FrameStore

from ..conftest import sample_path

# Small frames, few steps: a handful of frames in a few seconds on a CPU.
FAST = ["--octaves", "2", "--steps", "2", "-q"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "cat.png"
    with Image.open(sample_path("chelsea")) as img:
        img.convert("RGB").resize((96, 64), Image.BICUBIC).save(path)
    return path


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_zoom_writes_mp4_and_gif_that_read_back_right(photo, tmp_path, capsys):
    mp4, gif = tmp_path / "z.mp4", tmp_path / "z.gif"
    assert main(["zoom", str(photo), "-o", str(mp4), "-o", str(gif), "--frames", "5",
                 "--fps", "10", "--size", "80x48", "--octaves", "2", "--steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "5/5 frames" in err and "frames/min" in err  # the progress line
    for path in (mp4, gif):
        info = probe(path)
        assert (info.frames, info.width, info.height, info.fps) == (5, 80, 48, 10.0), path
    decoded = list(read_frames(mp4))
    store = FrameStore(tmp_path / "z.frames")  # kept beside the output
    assert store.count() == 5
    for got, frame in zip(decoded, (store.load(i) for i in range(5))):
        assert np.abs(got - frame).mean() < 0.03  # the video shows the dreamed frames


def test_zoom_refuses_a_frames_folder_from_other_parameters(photo, tmp_path, capsys):
    out = tmp_path / "z.mp4"
    assert main(["zoom", str(photo), "-o", str(out), "--frames", "2", *FAST]) == 0
    store = FrameStore(tmp_path / "z.frames")
    before = [store.path(i).read_bytes() for i in range(2)]
    out.unlink()
    capsys.readouterr()
    assert main(["zoom", str(photo), "-o", str(out), "--frames", "3", "--zoom", "1.1", *FAST]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "other parameters" in line and "motion.zoom" in line and "--restart" in line
    assert [store.path(i).read_bytes() for i in range(2)] == before and store.count() == 2
    assert not out.exists()
    # --restart starts that folder over with the new parameters.
    assert main(["zoom", str(photo), "-o", str(out), "--frames", "3", "--zoom", "1.1",
                 "--restart", *FAST]) == 0
    assert store.count() == 3 and store.path(1).read_bytes() != before[1]  # zoomed more
    assert probe(out).frames == 3


def test_zoom_refuses_bad_requests_before_any_work(photo, tmp_path, capsys):
    out = tmp_path / "z.mp4"
    out.write_bytes(b"old")
    cases = [
        (["-o", str(out)], "--force"),
        (["-o", str(tmp_path / "z.avi")], ".mp4"),
        (["-o", str(tmp_path / "n.mp4"), "-l", "b10", "--cycle", "b6"], "either --layers or --cycle"),
        (["-o", str(tmp_path / "n.mp4"), "--cycle", "b99"], "Unknown layer 'b99'"),
    ]
    for args, words in cases:
        assert main(["zoom", str(photo), "--frames", "2", *args, *FAST]) != 0
        assert words in one_error_line(capsys.readouterr().err)
    assert out.read_bytes() == b"old"
    assert not (tmp_path / "n.frames").exists() and not (tmp_path / "z.frames").exists()


def command(photo, out) -> list[str]:
    return ["zoom", str(photo), "-o", str(out), "--frames", "8", "--zoom", "1.05", "--octaves", "2",
            "--steps", "4", "--seed", "3"]


def default_sigint() -> None:
    """In the child: Ctrl-C as a user's terminal gives it. A suite started in the background
    by a shell without job control (`pytest &`) ignores SIGINT, and children inherit that
    (Python then keeps it ignored: the render would never see the Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_until(args: list[str], folder, frames: int, sig: int) -> subprocess.CompletedProcess:
    """Start the CLI in a new process, wait until ``frames`` frames are stored, send ``sig``."""
    proc = subprocess.Popen([sys.executable, "-m", "inceptionism", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"},  # as in this process
                            preexec_fn=default_sigint)
    deadline = time.monotonic() + 120
    while FrameStore(folder).count() < frames and proc.poll() is None:
        assert time.monotonic() < deadline, "the render made no frames"
        time.sleep(0.02)
    assert proc.poll() is None, "the render finished before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_and_kill_then_rerun_give_the_uninterrupted_video(photo, tmp_path):
    reference = tmp_path / "ref.mp4"
    assert main([*command(photo, reference), "-q"]) == 0

    out = tmp_path / "run.mp4"
    folder = tmp_path / "run.frames"
    # Ctrl-C: one line saying how many frames are safe and that the same command resumes.
    stopped = run_until(command(photo, out), folder, 2, signal.SIGINT)
    assert stopped.returncode == 130
    safe = FrameStore(folder).count()
    line = stopped.stderr.strip().splitlines()[-1]
    assert line == (f"error: interrupted; {safe} of 8 frames are safe in {folder}, and running "
                    "the same command again resumes from there.")
    # A killed process (no chance to clean up) leaves only complete frames.
    killed = run_until(command(photo, out), folder, safe + 1, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    store = FrameStore(folder)
    for i in range(store.count()):
        store.load(i)  # every counted frame is a whole PNG
    assert main([*command(photo, out), "-q"]) == 0
    ref = FrameStore(tmp_path / "ref.frames")
    for i in range(8):
        assert store.path(i).read_bytes() == ref.path(i).read_bytes(), f"frame {i}"
    for a, b in zip(read_frames(out), read_frames(reference), strict=True):
        np.testing.assert_array_equal(a, b)


def make_clip(path, frames: int, width: int, height: int, fps: int, dx: int, dy: int) -> None:
    """A photo sliding by (dx, dy) pixels per frame, with a 440 Hz tone as its sound."""
    with Image.open(sample_path("chelsea")) as img:
        rgb = np.asarray(img.convert("RGB"))
    raw = b"".join(np.ascontiguousarray(rgb[dy * t:dy * t + height, dx * t:dx * t + width]).tobytes()
                   for t in range(frames))
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={frames / fps}",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12", "-c:a", "aac",
                    str(path)], input=raw, check=True)


def test_video_keeps_frame_count_size_rate_and_sound(tmp_path):
    clip = tmp_path / "clip.mp4"
    make_clip(clip, 6, 96, 64, 12, 3, 1)
    source = probe(clip)
    assert (source.frames, source.has_audio) == (6, True)
    out = tmp_path / "dream.mp4"
    assert main(["video", str(clip), "-o", str(out), *FAST]) == 0
    info = probe(out)
    assert (info.frames, info.width, info.height, info.fps) == (6, 96, 64, 12.0)
    assert info.has_audio and info.duration == pytest.approx(source.duration, abs=0.1)
    dreamed = list(read_frames(out))
    original = list(read_frames(clip))
    assert min(np.abs(a - b).mean() for a, b in zip(dreamed, original)) > 0.01  # it was dreamed


def test_video_refuses_what_is_not_a_video(tmp_path, capsys):
    bad = tmp_path / "clip.mp4"
    bad.write_text("hello")
    assert main(["video", str(bad), "-o", str(tmp_path / "o.mp4"), *FAST]) == 1
    assert "not a video" in one_error_line(capsys.readouterr().err)
    assert main(["video", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o.mp4"), *FAST]) == 1
    assert "does not exist" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.frames").exists()


def test_video_commands_default_to_few_steps_per_frame_and_dream_to_a_full_dream():
    def default(command: str, name: str):
        return next(p.default for p in cli.commands[command].params if p.name == name)

    for name in ("steps", "octaves"):
        assert default("dream", name) == getattr(DreamConfig(), name)
        assert default("zoom", name) == default("video", name) == getattr(FRAME_CONFIG, name)
    assert FRAME_CONFIG.steps < DreamConfig().steps


def make_spliced_clip(path, frames: int, cut: int, width: int = 96, height: int = 64) -> None:
    """The cat sliding 3 pixels a frame, then (from frame ``cut``) the coffee cup sliding."""
    photos = []
    for name in ("chelsea", "coffee"):
        with Image.open(sample_path(name)) as img:
            photos.append(np.asarray(img.convert("RGB")))
    raw = b"".join(np.ascontiguousarray(
        photos[t >= cut][60:60 + height, 100 + 3 * t:100 + 3 * t + width]).tobytes()
        for t in range(frames))
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{width}x{height}", "-r", "12", "-i", "-", "-c:v", "libx264",
                    "-pix_fmt", "yuv444p", "-crf", "12", str(path)], input=raw, check=True)


def test_video_reports_a_cut_writes_masks_stores_its_settings_and_resumes(tmp_path, capsys):
    import json

    clip = tmp_path / "spliced.mp4"
    make_spliced_clip(clip, 6, cut=3)
    masks = tmp_path / "masks"
    out = tmp_path / "dream.mp4"
    command = ["video", str(clip), "-o", str(out), "--octaves", "1", "--steps", "2",
               "--temporal", "150", "--debug-masks", str(masks)]
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "note: frame 3 starts a new scene (a cut), so its dream starts afresh." in err
    assert [p.name for p in sorted(masks.iterdir())] == [
        "mask_000001.png", "mask_000002.png", "mask_000004.png", "mask_000005.png"]
    with Image.open(masks / "mask_000001.png") as img:
        mask = np.asarray(img)
    assert mask.shape == (64, 96) and (mask == 255).mean() > 0.8  # the pan: most have a past
    assert (mask[:, -2:] == 0).all()  # what entered on the right has none
    folder = tmp_path / "dream.frames"
    params = json.loads((folder / "params.json").read_text())
    assert params["flow"] == {"carry": 0.99, "flow": True, "temporal": 150.0, "occlusion": 0.5,
                              "motion_edges": 0.002, "cut": 0.3, "coherent": True}
    assert list(FrameStore(folder).cuts()) == [3] and (folder / "frame_000003.cut").is_file()
    # Frames 3 to 5 lost (as after a kill): the same command makes them again, bit for bit,
    # the cut included.
    whole = {i: (folder / f"frame_{i:06d}.png").read_bytes() for i in range(6)}
    lines = (folder / "frames.sha256").read_text().splitlines()
    (folder / "frames.sha256").write_text("\n".join(lines[:3]) + "\n")
    for i in (3, 4, 5):
        (folder / f"frame_{i:06d}.png").unlink()
    assert main([*command, "--force", "-q"]) == 0
    assert {i: (folder / f"frame_{i:06d}.png").read_bytes() for i in range(6)} == whole
    assert list(FrameStore(folder).cuts()) == [3]


def test_masks_need_an_unsplit_render_and_a_folder(tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    make_clip(clip, 3, 96, 64, 12, 3, 1)
    (tmp_path / "file").write_text("not a folder")
    for extra, message in [(["--segments", "2"], "unsplit render"),
                           ([], "is a file, not a folder")]:
        masks = tmp_path / ("file" if not extra else "masks")
        assert main(["video", str(clip), "-o", str(tmp_path / "d.mp4"), "--debug-masks",
                     str(masks), *extra, *FAST]) == 1
        assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "d.frames").exists() or not any((tmp_path / "d.frames").glob("frame_*"))


def test_a_killed_video_render_resumes_bit_for_bit_with_the_temporal_term(tmp_path):
    """The default (temporal term, coherent jitter, cut detection): killed mid-render, the
    same command finishes the frames an uninterrupted render makes."""
    clip = tmp_path / "clip.mp4"
    make_spliced_clip(clip, 24, cut=12)
    settings = ["--octaves", "2", "--steps", "4", "-q"]
    reference = tmp_path / "ref.mp4"
    assert main(["video", str(clip), "-o", str(reference), *settings]) == 0
    out = tmp_path / "run.mp4"
    folder = tmp_path / "run.frames"
    killed = run_until(["video", str(clip), "-o", str(out), *settings], folder, 3, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL and not out.exists()
    assert main(["video", str(clip), "-o", str(out), *settings]) == 0
    ref = FrameStore(tmp_path / "ref.frames")
    store = FrameStore(folder)
    for i in range(24):
        assert store.path(i).read_bytes() == ref.path(i).read_bytes(), f"frame {i}"
    assert store.cuts() == ref.cuts() and list(ref.cuts()) == [12]

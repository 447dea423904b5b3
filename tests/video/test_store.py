"""Frames folders (fingerprint, atomic frames, resume count) and encoding, read back."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from inceptionism.errors import InceptionismError, VideoError
from inceptionism.video.codec import encode, ffmpeg_exe, fps_fraction, probe, read_frames
from inceptionism.video.store import FrameStore

PARAMS = {"kind": "zoom", "config": {"steps": 4, "octaves": 2}, "cycle": ["b10"]}


def colour_frames(n: int, height: int = 48, width: int = 64) -> list[np.ndarray]:
    """Flat frames of clearly different colours, exact in 8 bits."""
    rng = np.random.default_rng(0)
    return [np.broadcast_to(rng.integers(0, 256, 3) / 255, (height, width, 3)).astype(np.float32)
            for _ in range(n)]


def stored(tmp_path, frames: list[np.ndarray]) -> FrameStore:
    store = FrameStore(tmp_path / "f.frames")
    assert store.open(PARAMS) == 0
    for i, f in enumerate(frames):
        store.save(i, f)
    return store


def test_new_folder_gets_the_fingerprint_first(tmp_path):
    store = FrameStore(tmp_path / "a.frames")
    assert store.open(PARAMS) == 0
    assert json.loads(store.params_path.read_text()) == PARAMS
    assert store.count() == 0


def test_frames_round_trip_exactly_and_count_stops_at_a_gap(tmp_path):
    frames = [np.random.default_rng(i).integers(0, 256, (6, 5, 3)) / np.float32(255)
              for i in range(3)]
    store = stored(tmp_path, frames)
    for i, f in enumerate(frames):
        np.testing.assert_array_equal(store.load(i), f.astype(np.float32))
    store.path(1).unlink()
    assert store.count() == 1  # frame 2 is after a gap: not counted as done


def test_same_parameters_resume_where_the_frames_end(tmp_path):
    store = stored(tmp_path, colour_frames(3))
    (store.folder / ".frame_000003.png.x1y2.part").write_bytes(b"half a frame")  # a killed write
    again = FrameStore(store.folder)
    assert again.open(json.loads(json.dumps(PARAMS))) == 3
    assert not list(store.folder.glob("*.part"))


def test_other_parameters_are_refused_naming_what_differs(tmp_path):
    store = stored(tmp_path, colour_frames(2))
    other = {**PARAMS, "config": {"steps": 5, "octaves": 2}}
    with pytest.raises(VideoError) as e:
        FrameStore(store.folder).open(other)
    message = str(e.value)
    assert "other parameters" in message and "config.steps" in message and "restart" in message
    # The library names no option; the CLI words the remedy as --restart (tests/cli/test_video.py).
    assert "--" not in message and e.value.remedy == "discard_or_other_folder"
    assert "octaves" not in message
    assert store.count() == 2 and json.loads(store.params_path.read_text()) == PARAMS


def test_restart_discards_the_old_frames(tmp_path):
    store = stored(tmp_path, colour_frames(2))
    other = {**PARAMS, "cycle": ["b12"]}
    assert FrameStore(store.folder).open(other, restart=True) == 0
    assert store.count() == 0 and json.loads(store.params_path.read_text()) == other


def test_frames_without_a_fingerprint_are_refused(tmp_path):
    store = stored(tmp_path, colour_frames(1))
    store.params_path.unlink()
    with pytest.raises(VideoError, match="no params.json"):
        FrameStore(store.folder).open(PARAMS)


def test_mp4_reads_back_with_its_frame_count_size_rate_and_pictures(tmp_path):
    frames = colour_frames(5)
    store = stored(tmp_path, frames)
    out = tmp_path / "v.mp4"
    assert encode(store, 5, out, 12) == []
    info = probe(out)
    assert (info.frames, info.width, info.height, info.fps) == (5, 64, 48, 12.0)
    assert not info.has_audio
    decoded = list(read_frames(out))
    assert len(decoded) == 5
    for got, want in zip(decoded, frames):  # H.264 is lossy: colours within a few levels
        assert np.abs(got - want).mean() < 4 / 255


def test_gif_reads_back_with_its_frame_count_size_and_rate(tmp_path):
    store = stored(tmp_path, colour_frames(4, 30, 40))
    out = tmp_path / "v.gif"
    encode(store, 4, out, 10)  # GIF delays are in 1/100 s: 10 fps is exact
    info = probe(out)
    assert (info.frames, info.width, info.height, info.fps) == (4, 40, 30, 10.0)


def test_mp4_of_odd_sized_frames_is_cropped_and_says_so(tmp_path):
    store = stored(tmp_path, colour_frames(2, 31, 45))
    notes = encode(store, 2, tmp_path / "odd.mp4", 10)
    assert len(notes) == 1 and "44x30" in notes[0]
    info = probe(tmp_path / "odd.mp4")
    assert (info.width, info.height, info.frames) == (44, 30, 2)


def test_existing_video_needs_force_and_failed_encode_leaves_nothing(tmp_path):
    store = stored(tmp_path, colour_frames(2))
    out = tmp_path / "v.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(InceptionismError, match="already exists; allow overwriting"):
        encode(store, 2, out, 10)
    assert out.read_bytes() == b"precious"
    with pytest.raises(VideoError, match="does not hold"):
        encode(store, 3, tmp_path / "w.mp4", 10, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.frames", "v.mp4"]


def test_audio_is_carried_into_the_mp4(tmp_path):
    audio = tmp_path / "tone.m4a"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=0.5", "-c:a", "aac", str(audio)], check=True)
    store = stored(tmp_path, colour_frames(5))
    encode(store, 5, tmp_path / "v.mp4", 10, audio=audio)
    info = probe(tmp_path / "v.mp4")
    assert info.has_audio and info.frames == 5


def test_not_a_video_is_one_clear_error(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoError, match="not a video that ffmpeg can read"):
        probe(bad)
    with pytest.raises(VideoError, match="does not exist"):
        next(read_frames(tmp_path / "missing.mp4"))


@pytest.mark.parametrize("fps, expected", [(24, Fraction(24)), (29.97, Fraction(30000, 1001)),
                                           (23.98, Fraction(24000, 1001)), (12.5, Fraction(25, 2)),
                                           (30, Fraction(30))])
def test_frame_rates_become_exact_fractions(fps, expected):
    assert fps_fraction(fps) == expected


def test_cuts_are_kept_with_their_frames_and_go_with_them(tmp_path):
    store = stored(tmp_path, colour_frames(4))
    store.mark_cut(1, 0.5)
    store.mark_cut(3, 0.75)
    assert FrameStore(store.folder).cuts() == {1: 0.5, 3: 0.75}
    store.path(3).write_bytes(b"damaged")  # frame 3 and its cut are made again
    again = FrameStore(store.folder)
    assert again.open(PARAMS) == 3 and again.cuts() == {1: 0.5}
    again.mark_cut(5, 0.9)  # marked, but its frame never stored (a process killed between)
    assert again.cuts() == {1: 0.5}
    again.open(PARAMS, restart=True)
    assert again.cuts() == {} and not list(again.folder.glob("*.cut"))

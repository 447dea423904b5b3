"""Video files: reading any video ffmpeg reads, and encoding a frames folder.

* Encoding joins the frames with the ffmpeg binary that ``imageio-ffmpeg`` ships: H.264 MP4
  (``yuv420p``, playable everywhere, optionally with an audio track taken from another file)
  or GIF (a palette computed over all frames). The video is written to a temporary file and
  renamed, like every output of ours.
* Reading decodes any video ffmpeg reads into RGB frames, one at a time.

ffmpeg and OpenCV come with the optional ``video`` extra; :func:`video_module` is the one
place that imports them, and says how to install them when they are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import VideoError
from ..io.files import atomic_write, run_to_end
from ..io.images import check_destination, check_input_file, refuse_folder
from ..settings import DEFAULT_MAX_PIXELS, FPS
from .store import FrameStore

VIDEO_FORMATS = {".mp4": "mp4", ".gif": "gif"}
H264_CRF = 18  # x264 quality: 18 is visually near-lossless, which dream textures need


VIDEO_EXTRA = "pip install 'inceptionism[video]'"


def video_module(name: str):
    """Import ``name`` (imageio_ffmpeg or cv2), which only videos need, or say in one sentence
    how to install it: they come with the optional ``video`` extra (about 320 MB)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise VideoError(
            f"Videos need OpenCV and ffmpeg, which are not installed; run: {VIDEO_EXTRA}"
        ) from None


def ffmpeg_exe() -> str:
    return video_module("imageio_ffmpeg").get_ffmpeg_exe()


def video_format(path: Path) -> str:
    try:
        return VIDEO_FORMATS[path.suffix.lower()]
    except KeyError:
        raise VideoError(
            f"Cannot tell the video format from '{path.name}'; use .mp4 (H.264) or .gif."
        ) from None


def check_video_output(path: str | Path, force: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    """Refuse, before any work, a video output that cannot or must not be written."""
    refuse_folder(path, "dream.mp4")
    path = Path(path)
    video_format(path)
    return check_destination(path, force, inputs)


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int
    duration: float  # seconds
    has_audio: bool


def _open_reader(path: Path):
    imageio_ffmpeg = video_module("imageio_ffmpeg")

    check_input_file(path, "video", VideoError)
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        reader.close()
        text = str(exc)
        if "Stream #" in text and "Video:" not in text:  # streams, but none of them a picture
            raise VideoError(f"Input {path} holds no video stream (only sound or data), so "
                             "there are no frames to dream.") from None
        last = text.strip().splitlines()[-1] if text.strip() else "no video stream"
        raise VideoError(f"Input {path} is not a video that ffmpeg can read ({last}).") from None
    return reader, meta


def probe(path: str | Path) -> VideoInfo:
    """Size, frame rate, exact frame count (by decoding) and whether there is audio."""
    imageio_ffmpeg = video_module("imageio_ffmpeg")

    path = Path(path)
    reader, meta = _open_reader(path)
    reader.close()
    try:
        frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError) as exc:
        raise VideoError(f"Cannot count the frames of {path} ({exc}).") from None
    width, height = meta["size"]
    return VideoInfo(width=width, height=height, fps=float(meta["fps"]), frames=frames,
                     duration=float(seconds), has_audio=bool(meta.get("audio_codec")))


def read_frames(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[np.ndarray]:
    """Yield the frames of a video as (H, W, 3) RGB floats in [0, 1], decoding one at a time."""
    path = Path(path)
    reader, meta = _open_reader(path)
    width, height = meta["size"]
    if width * height > max_pixels:
        reader.close()
        problem = (f"Input {path} is {width}x{height}, more than the limit of {max_pixels} pixels "
                   "per frame")
        raise VideoError(f"{problem}.", remedy="pixel_limit", problem=problem)
    try:
        for raw in reader:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).astype(np.float32) / 255.0
    finally:
        reader.close()


def fps_fraction(fps: float) -> Fraction:
    """A frame rate as ffmpeg wants it: NTSC rates (29.97 = 30000/1001 ...) exactly, others
    as the nearest fraction with a small denominator."""
    ntsc = round(fps * 1.001)
    if ntsc % 6 == 0 and abs(fps - ntsc / 1.001) < 0.01 and abs(fps - ntsc) > 0.01:
        return Fraction(ntsc * 1000, 1001)
    return Fraction(fps).limit_denominator(1000)


def encode(
    store: FrameStore,
    frames: int,
    output: Path,
    fps: float | Fraction,
    audio: Path | None = None,
    trim_audio: bool = False,
    force: bool = False,
) -> list[str]:
    """Join frames ``0 .. frames-1`` of ``store`` into ``output`` (.mp4 or .gif), atomically.

    ``audio``: a file whose first audio track, if it has one, goes into an MP4, whole, or cut
    to the video's length with ``trim_audio`` (when only part of a video was dreamed). Returns notes
    for the user (e.g. a crop to even sides, which H.264 in yuv420p requires).
    """
    output = check_video_output(output, force)
    fmt = video_format(output)
    if frames < 1 or store.count() < frames:
        raise VideoError(f"Frames folder {store.folder} does not hold the {frames} frames to encode.")
    bad = store.damaged(frames)
    if bad is not None:
        index, why = bad
        raise VideoError(f"Frame {store.path(index)} {why}; run the render again to redo it "
                         "and the frames after it.")
    if not isinstance(fps, Fraction):
        FPS.check(fps)
    rate = fps if isinstance(fps, Fraction) else fps_fraction(fps)
    notes = []
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-framerate", str(rate), "-start_number", "0", "-i", str(store.pattern)]
    if fmt == "mp4":
        width, height = store.frame_size()
        if width % 2 or height % 2:
            notes.append(f"H.264 needs even sides, so {output.name} is cropped from {width}x{height} "
                         f"to {width - width % 2}x{height - height % 2}.")
        if audio is not None:
            cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0?", "-c:a", "aac", "-b:a", "192k"]
            if trim_audio:
                cmd += ["-shortest"]
        cmd += ["-frames:v", str(frames), "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2",
                "-c:v", "libx264", "-preset", "medium", "-crf", str(H264_CRF), "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", "mp4"]
    else:
        if audio is not None:
            notes.append(f"GIF holds no sound, so {output.name} has none.")
        cmd += ["-frames:v", str(frames), "-filter_complex",
                "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
                "-loop", "0", "-f", "gif"]

    def run(tmp: Path) -> None:
        result = run_to_end(cmd + [str(tmp)])
        if result.returncode != 0:
            lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
            raise VideoError(f"ffmpeg could not write {output} ({lines[-1] if lines else 'no message'}).")

    try:
        atomic_write(output, run)
    except OSError as exc:
        raise VideoError(f"Cannot write {output}: {exc.strerror or exc}.") from None
    return notes

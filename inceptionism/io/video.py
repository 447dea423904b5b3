"""The old import path of frames folders and video files, kept for code written against it
(``from inceptionism.io.video import FrameStore, encode``). They live in
:mod:`inceptionism.video.store` and :mod:`inceptionism.video.codec`; import them from there
(or from :mod:`inceptionism.video`). The only module of ``io/`` that imports from above it.
"""

from ..video.codec import (  # noqa: F401
    VideoInfo,
    check_video_output,
    encode,
    ffmpeg_exe,
    fps_fraction,
    probe,
    read_frames,
    video_format,
    video_module,
)
from ..video.store import FrameStore, default_frames_dir, file_digest  # noqa: F401

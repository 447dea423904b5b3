"""Everything about videos, in one folder.

* ``loops``: the zoom loop and the dream over an existing video, frame by frame;
* ``flow``: carrying a frame's dream to the next along the optical flow, the consistency
  mask (which pixels have a past) and cut detection;
* ``frames``: what the loops share (objective cycles, per-frame seeds, the fingerprint);
* ``segments``: a long clip split into segments dreamed independently, and seam metrics;
* ``store``: frames folders (:class:`FrameStore`), the only place frames touch the disk;
* ``codec``: reading videos and encoding frames folders with ffmpeg.

The names below are importable from ``inceptionism.video`` itself (``ZoomMotion`` and
``FlowConfig`` live in :mod:`inceptionism.settings` and are offered here too, where they
were imported from before).
"""

from ..settings import FRAME_CONFIG, FlowConfig, ZoomMotion
from .codec import VideoInfo, check_video_output, encode, ffmpeg_exe, probe, read_frames
from .flow import Carried, carry, carry_over, consistency_mask, histogram_distance, optical_flow
from .frames import Cycle, FrameInfo, fingerprint, frame_config, frame_seed, pixels_digest
from .loops import flow_step, render_video, render_zoom, video_frame, zoom_step
from .segments import DEFAULT_WARMUP, Segment, default_warmup, render_segments, seam_metric, split
from .store import FrameStore, default_frames_dir

__all__ = [
    "DEFAULT_WARMUP", "FRAME_CONFIG", "Carried", "Cycle", "FlowConfig", "FrameInfo",
    "FrameStore", "Segment", "VideoInfo", "ZoomMotion", "carry", "carry_over",
    "check_video_output", "consistency_mask", "default_frames_dir", "default_warmup", "encode",
    "ffmpeg_exe", "fingerprint", "flow_step", "frame_config", "frame_seed",
    "histogram_distance", "optical_flow", "pixels_digest", "probe", "read_frames",
    "render_segments", "render_video", "render_zoom", "seam_metric", "split", "video_frame",
    "zoom_step",
]

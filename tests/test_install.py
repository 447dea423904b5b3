"""What the install promises: videos' packages are optional and named when missing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import inceptionism
from inceptionism.errors import VideoError
from inceptionism.video.codec import video_module

PACKAGE = Path(inceptionism.__file__).parent


@pytest.mark.parametrize("module", ["cv2", "imageio_ffmpeg"])
def test_missing_video_package_names_the_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(VideoError, match=r"pip install 'inceptionism\[video\]'") as info:
        video_module(module)
    assert "\n" not in str(info.value)


def test_video_packages_are_imported_only_through_video_module():
    pattern = re.compile(r"^\s*(import|from)\s+(cv2|imageio_ffmpeg|imageio)\b", re.M)
    offenders = [p.name for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []

"""Property: whatever number is given to whatever numeric option, the command either
succeeds (and writes its output) or refuses with exactly one `error:` line and a non-zero
status, never an internal error and never a partial file.

The default model is swapped for the tiny test network (through the registry's public
``restore_spec``) and the photo is tiny, so that a valid value costs milliseconds of work.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from inceptionism.cli import main
from inceptionism.models import get_spec
from inceptionism.models.base import Normalization
from inceptionism.models.registry import restore_spec
from inceptionism.settings import DEFAULT_MODEL
from inceptionism.video.codec import ffmpeg_exe

from .conftest import TinyNet

pytestmark = pytest.mark.usefixtures("one_thread")


@dataclasses.dataclass(frozen=True)
class LocalWeights:
    """A weights source that is a file already here."""

    path: Path
    size_mb: float = 0.0

    def describe(self) -> str:
        return f"local file {self.path}"

    def status(self) -> str:
        return "local"

    def resolve(self, progress: bool = True) -> Path:
        return self.path


@pytest.fixture(scope="module")
def tiny_default(tmp_path_factory):
    """The default model, for this module only, is TinyNet (three conv stages c1..c3)."""
    folder = tmp_path_factory.mktemp("tiny")
    weights = folder / "tiny.pt"
    torch.save(TinyNet().state_dict(), weights)
    old = get_spec(DEFAULT_MODEL)
    restore_spec(dataclasses.replace(
        old, build=TinyNet, weights=LocalWeights(weights),
        normalization=Normalization((0.5,) * 3, (0.25,) * 3), default_layers=("c2",),
        input_size=16, min_input_size=1, drop_prefixes=()))
    yield
    restore_spec(old)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    photo = folder / "photo.png"
    y, x = np.mgrid[0:16, 0:24]
    Image.fromarray(np.stack([x * 9, y * 13, (x ^ y) * 8], -1).astype(np.uint8)).save(photo)
    clip = folder / "clip.mp4"
    raw = b"".join(np.roll(np.asarray(Image.open(photo)), t, axis=1).tobytes() for t in range(3))
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", "24x16", "-r", "8", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(clip)], input=raw, check=True)
    return {"photo": photo, "clip": clip}


def numbers():
    """Finite, non-finite, huge, negative, plausible, and text Python's float()/int() take."""
    values = [st.integers(min_value=-(10**25), max_value=10**25),
              st.integers(min_value=-3, max_value=70), st.integers(min_value=1, max_value=300),
              st.floats(allow_nan=True, allow_infinity=True),
              st.floats(min_value=-2, max_value=3),
              st.sampled_from(["nan", "inf", "-inf", "1e999", "²", "١٢", "1_0", "0x10", " ", "",
                               "1e308", "9" * 40, "-0", "+3", ".5", "5."])]
    return st.one_of(values).map(str)


# (command, option); each command runs on the tiny inputs with light settings
# that the option under test overrides (click takes the last value given).
OPTIONS = [
    ("dream", "--octaves"), ("dream", "--octave-scale"), ("dream", "--steps"),
    ("dream", "--step-size"), ("dream", "--jitter"), ("dream", "--smoothing"),
    ("dream", "--smoothing-growth"), ("dream", "--blend"),
    ("dream", "--tile-size"), ("dream", "--min-size"), ("dream", "--seed"),
    ("dream", "--max-pixels"),
    ("zoom", "--frames"), ("zoom", "--zoom"), ("zoom", "--rotate"),
    ("zoom", "--shift"), ("zoom", "--fps"), ("zoom", "--cycle-every"),
    ("video", "--carry"), ("video", "--frames"), ("video", "--fps"),
    ("explore", "--size"), ("explore", "--columns"),
]
LIGHT = ["--octaves", "1", "--steps", "1", "--min-size", "8", "-q"]


def command(name: str, inputs: dict, out: Path) -> list[str]:
    if name == "dream":
        return ["dream", str(inputs["photo"]), "-o", str(out / "o.png"), *LIGHT]
    if name == "zoom":
        return ["zoom", str(inputs["photo"]), "-o", str(out / "z.gif"), "--frames", "2",
                "--restart", *LIGHT]
    if name == "video":
        return ["video", str(inputs["clip"]), "-o", str(out / "v.gif"), "--restart", *LIGHT]
    return ["explore", str(inputs["photo"]), "-o", str(out / "s.png"), "-l", "c1,c2", *LIGHT]


def frames_are_few(option: str, value: str) -> bool:
    """zoom --frames takes up to a million valid frames: only a few are rendered here."""
    try:
        return option != "--frames" or int(value) <= 3
    except ValueError:
        return True


@pytest.mark.parametrize("name, option", OPTIONS, ids=[f"{c}{o}" for c, o in OPTIONS])
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(data=st.data())
def test_any_number_gives_a_result_or_one_error_line(tiny_default, inputs, tmp_path, capsys,
                                                     name, option, data):
    value = data.draw(numbers().filter(lambda v: frames_are_few(option, v)), label=option)
    out = tmp_path / "out"
    if out.exists():
        for p in sorted(out.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        out.rmdir()
    out.mkdir()
    values = [value, "0"] if option == "--shift" else [value]
    args = command(name, inputs, out) + ["--force", option, *values]
    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note: ")]
    assert "Traceback" not in err and "unexpected" not in err, (args, err)
    if code == 0:
        assert lines == [], (args, err)
        written = [p for p in out.iterdir() if p.suffix in (".png", ".gif")]
        assert written and all(p.stat().st_size > 0 for p in written), (args, err)
    else:
        assert code in (1, 2), (args, code, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
        assert not [p for p in out.iterdir() if p.suffix in (".png", ".gif")], (args, err)
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")], args


def test_the_property_sees_both_outcomes(tiny_default, inputs, tmp_path, capsys):
    """The swapped-in model really dreams (so valid values are exercised, not all refused)."""
    assert main(command("dream", inputs, tmp_path) + ["--steps", "3"]) == 0
    assert main(command("dream", inputs, tmp_path) + ["--force", "--steps", "nan"]) == 2
    with Image.open(tmp_path / "o.png") as img:
        assert img.size == (24, 16)
    assert math.isfinite(float(np.asarray(Image.open(tmp_path / "o.png")).mean()))

"""Progress: work-weighted time left, plain lines when stderr is not a terminal."""

from __future__ import annotations

import io

import torch

from inceptionism.cli import main
from inceptionism.engine.loop import StepInfo, dream
from inceptionism.engine.objectives import layer
from inceptionism.progress import Eta, Reporter
from inceptionism.settings import DreamConfig


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_step_work_is_weighted_by_each_octaves_pixels(tiny_model):
    infos: list[StepInfo] = []
    x = torch.rand(1, 3, 60, 90)
    dream(tiny_model, x, layer("c3"), DreamConfig(octaves=3, steps=2, min_size=16), infos.append)
    pixels = [h * w for h, w in infos[0].sizes]
    assert len(pixels) == 3 and pixels[-1] == 60 * 90
    done = [info.work[0] for info in infos]
    assert done == [pixels[0], 2 * pixels[0], 2 * pixels[0] + pixels[1],
                    2 * (pixels[0] + pixels[1]), 2 * (pixels[0] + pixels[1]) + pixels[2],
                    2 * sum(pixels)]
    assert {info.work[1] for info in infos} == {2 * sum(pixels)}


def test_eta_leaves_out_the_first_unit_and_scales_by_work_left():
    clock = Clock()
    eta = Eta(clock)
    clock.now = 5.0  # a slow first unit (warm-up)
    assert eta.update(1, 10) is None
    clock.now = 7.0  # then 2 s for 2 units: 1 s per unit, 7 units left
    assert eta.update(3, 10) == 7.0


def test_plain_lines_at_a_modest_rate_when_not_a_terminal():
    stream, clock = io.StringIO(), Clock()
    reporter = Reporter(stream, interval=10, clock=clock)
    for second in range(60):
        clock.now = float(second)
        reporter.show(second / 60, "octave 1/1", 60.0 - second, force=second == 59)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert len(lines) == 7  # 0, 10, ..., 50 s and the forced last one
    assert lines[1] == "octave 1/1: 17% done, 0:50 left"


def test_dream_prints_plain_progress_to_a_log(capsys, tmp_path, chelsea):
    from PIL import Image
    import numpy as np

    photo = tmp_path / "p.png"
    Image.fromarray((chelsea[:100, :150] * 255).astype(np.uint8)).save(photo)
    assert main(["dream", str(photo), "-o", str(tmp_path / "d.png"), "--octaves", "2",
                 "--steps", "2"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("loading efficientnet_lite0")
    assert "octave 2/2 (150x100) step 2/2" in err and "100% done" in err
    assert "\r" not in err

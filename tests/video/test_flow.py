"""Where a video frame has a past: the consistency mask, and cuts found from the frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inceptionism.settings import FlowConfig
from inceptionism.video.flow import carry_over, consistency_mask, histogram_distance, optical_flow
from inceptionism.video.loops import render_video
from inceptionism.video.store import FrameStore

from ..conftest import to_tensor

SIDE, STEP = 32, 8  # the square's side and its motion per frame (pixels, rightwards)


def square_over(background: np.ndarray, patch: np.ndarray, x: int) -> np.ndarray:
    frame = background.copy()
    frame[32:32 + SIDE, x:x + SIDE] = patch
    return frame


@pytest.fixture(scope="module")
def moving_square(chelsea, coffee):
    """Two frames: a square of the coffee photo moves STEP pixels right over the still cat.
    Where it was and is no more (a strip STEP wide), frame 1 shows background frame 0 hid."""
    background = chelsea[100:196, 150:278]  # 96x128
    patch = coffee[120:120 + SIDE, 200:200 + SIDE]
    return to_tensor(square_over(background, patch, 40)), to_tensor(square_over(background, patch, 40 + STEP))


def test_the_mask_marks_what_the_moving_square_uncovers(moving_square):
    before, after = moving_square
    mask = consistency_mask(optical_flow(after, before, "dis"),
                            optical_flow(before, after, "dis"))[0, 0]
    uncovered = mask[34:62, 41:40 + STEP]  # background frame 0 had under the square
    still = torch.cat([mask[8:88, 88:120].flatten(), mask[72:88, 8:120].flatten()])
    inside = mask[36:60, 40 + STEP + 4:40 + STEP + SIDE - 4]  # the square, moved: it has a past
    assert uncovered.mean() < 0.2, uncovered.mean()
    assert still.mean() > 0.95, still.mean()
    assert inside.mean() > 0.9, inside.mean()


def test_pixels_from_outside_the_frame_have_no_past(chelsea):
    before = to_tensor(chelsea[100:164, 100:196])
    after = to_tensor(chelsea[100:164, 106:202])  # the view pans 6 pixels right
    mask = consistency_mask(optical_flow(after, before, "dis"),
                            optical_flow(before, after, "dis"))[0, 0]
    assert mask[:, -4:].mean() < 0.1  # entered on the right
    assert mask[8:-8, 8:-16].mean() > 0.95


def test_a_cut_starts_afresh_and_a_pan_does_not(chelsea, coffee):
    a = [to_tensor(chelsea[80:176, 100 + 3 * t:228 + 3 * t]) for t in range(2)]
    b = to_tensor(coffee[80:176, 100:228])
    flow = FlowConfig()
    assert histogram_distance(a[0], a[1]) < 0.05
    assert histogram_distance(a[1], b) > 1.5 * flow.cut
    dream = (a[0] + 0.05).clamp(0, 1)
    pan = carry_over(dream, a[0], a[1], flow)
    assert not pan.cut and pan.temporal is not None and pan.consistent > 0.9
    cut = carry_over(dream, a[1], b, flow)
    assert cut.cut and cut.temporal is None and torch.equal(cut.start, b)


def test_a_flow_that_fails_is_a_cut_even_with_the_same_colours(chelsea):
    """Two views of the same photo far apart: alike in colour, but nothing moves from one
    to the other, so the flow fails for most pixels."""
    a = to_tensor(chelsea[0:96, 0:128])
    b = to_tensor(np.ascontiguousarray(chelsea[0:96, 0:128][::-1, ::-1]))  # turned half round
    flow = FlowConfig()
    assert histogram_distance(a, b) < flow.cut  # not from the colours
    carried = carry_over((a + 0.05).clamp(0, 1), a, b, flow)
    assert carried.cut and carried.consistent < 1 / 3


def test_a_spliced_clip_records_its_cut_and_the_new_scene_carries_nothing_old(chelsea, coffee, tmp_path):
    from inceptionism import DreamConfig, Dreamer

    clip = [chelsea[80:144, 100 + 3 * t:196 + 3 * t] for t in range(3)] \
        + [coffee[80:144, 100 + 3 * t:196 + 3 * t] for t in range(2)]
    config = DreamConfig(octaves=1, steps=2)
    seen = []
    store = FrameStore(tmp_path / "spliced")
    render_video(Dreamer(), clip, store, 5, "spliced", config=config,
                 on_frame=lambda info: seen.append(info.cut))
    assert seen == [False, False, False, True, False]
    assert list(store.cuts()) == [3]
    # Frame 3 is what dreaming it alone, as a first frame with the same jitter, gives.
    alone = FrameStore(tmp_path / "alone")
    render_video(Dreamer(), clip[3:4], alone, 1, "alone", config=config)
    assert np.array_equal(store.load(3), alone.load(0))


@pytest.mark.parametrize("height, width", [(12, 300), (15, 300), (300, 12), (1, 1), (2, 40)])
def test_small_frames_are_carried_too(height, width):
    """OpenCV's Dense Inverse Search crashes the process on some small frames (12x300);
    they get Farnebäck's flow instead."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(1, 3, height, width, generator=g)
    b = torch.roll(a, 1, -1)
    carried = carry_over((a + 0.05).clamp(0, 1), a, b, FlowConfig())
    assert carried.start.shape == b.shape

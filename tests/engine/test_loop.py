import dataclasses

import pytest
import torch

from inceptionism.engine.loop import StepInfo, dream, octave_sizes, tile_spans, wrapped_pieces
from inceptionism.engine.objectives import layer
from inceptionism.errors import InceptionismError
from inceptionism.settings import DreamConfig

from ..conftest import to_tensor

FAST = DreamConfig(octaves=2, steps=4, jitter=4)


def mean_sq(model, x, name):
    with torch.no_grad():
        return model.features(x, [name])[name].pow(2).mean().item()


def test_objective_at_least_doubles_on_the_sample_photo(lite0, chelsea):
    """Dreaming the sample photo with the default settings at least doubles the mean
    squared activation of the default layer."""
    x = to_tensor(chelsea)
    y = dream(lite0, x, layer("b10"), DreamConfig())
    before, after = mean_sq(lite0, x, "b10"), mean_sq(lite0, y, "b10")
    assert after >= 2 * before, (before, after)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1


def test_same_seed_same_dream_other_seed_other_dream(tiny_model):
    x = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    a = dream(tiny_model, x, layer("c3"), FAST)
    b = dream(tiny_model, x, layer("c3"), FAST)
    c = dream(tiny_model, x, layer("c3"), dataclasses.replace(FAST, seed=1))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, x)


def test_input_tensor_is_not_modified(tiny_model):
    x = torch.rand(1, 3, 40, 40)
    copy = x.clone()
    dream(tiny_model, x, layer("c2"), FAST)
    assert torch.equal(x, copy)


def test_tiles_bound_what_the_network_sees(tiny_model):
    seen = []
    hook = tiny_model.net.c1.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[-2:]))
    try:
        dream(tiny_model, torch.rand(1, 3, 150, 200), layer("c3"),
              DreamConfig(octaves=1, steps=2, tile_size=64))
    finally:
        hook.remove()
    assert max(max(s) for s in seen) <= 64
    assert len(seen) == 2 * 3 * 4  # 2 steps x (3 x 4 tiles)


def test_a_lone_tile_is_halved_for_a_compute_bound_network_only(tiny_model, lite0):
    """An image that fits one tile is dreamed in two halves across its longer side (two
    cores busy instead of one), unless the halves would be under ``min_size`` or the network
    has depthwise convolutions (EfficientNet-Lite, measured slower in halves)."""
    config = DreamConfig(tile_size=512, min_size=64)
    assert tile_spans(315, 420, config, tiny_model) == ([(0, 315)], [(0, 210), (210, 420)])
    assert tile_spans(421, 300, config, tiny_model) == ([(0, 210), (210, 421)], [(0, 300)])
    assert tile_spans(315, 420, config, lite0) == ([(0, 315)], [(0, 420)])
    assert tile_spans(100, 127, config, tiny_model) == ([(0, 100)], [(0, 127)])
    assert tile_spans(600, 420, config, tiny_model) == ([(0, 300), (300, 600)], [(0, 420)])


@pytest.mark.parametrize("start,stop,shift,length", [
    (0, 5, 0, 10), (0, 5, 3, 10), (5, 10, 3, 10), (0, 10, -4, 10), (2, 7, 12, 10), (3, 4, 4, 10),
])
def test_wrapped_pieces_are_the_rolled_positions(start, stop, shift, length):
    """A tile's rows (or columns) in an image rolled by ``shift`` come from at most two
    blocks of the image: together exactly the positions ``(i - shift) % length``."""
    pieces = wrapped_pieces(start, stop, shift, length)
    got = [None] * (stop - start)
    for s0, s1, offset in pieces:
        got[offset:offset + s1 - s0] = range(s0, s1)
    assert got == [(i - shift) % length for i in range(start, stop)]
    assert len(pieces) <= 2


def test_the_halves_of_a_lone_tile_move_from_step_to_step(tiny_model):
    seen = []
    hook = tiny_model.net.c1.register_forward_hook(lambda m, i, o: seen.append(i[0].clone()))
    try:
        # Steps too small to change a pixel, and no jitter: only the grid moves.
        dream(tiny_model, torch.rand(1, 3, 80, 160), layer("c3"),
              DreamConfig(octaves=1, steps=3, tile_size=256, min_size=32, jitter=0,
                          step_size=1e-12))
    finally:
        hook.remove()
    assert [tuple(t.shape[-2:]) for t in seen] == [(80, 80)] * 6  # 3 steps x 2 halves
    assert not torch.equal(seen[0], seen[2]) and not torch.equal(seen[2], seen[4])


def test_tiled_and_untiled_give_the_same_kind_of_dream(lite0, chelsea):
    """On an image that fits in one tile, dreaming in 4+ tiles raises the objective by a
    similar factor and changes the image by a similar amount."""
    x = to_tensor(chelsea[:256, :256])
    config = DreamConfig(octaves=2, steps=8)
    whole = dream(lite0, x, layer("b10"), config)
    tiled = dream(lite0, x, layer("b10"), dataclasses.replace(config, tile_size=128))
    base = mean_sq(lite0, x, "b10")
    gain_whole = mean_sq(lite0, whole, "b10") / base
    gain_tiled = mean_sq(lite0, tiled, "b10") / base
    assert gain_whole > 1.5 and gain_tiled > 1.5
    assert 0.7 < gain_tiled / gain_whole < 1.3, (gain_whole, gain_tiled)
    change_whole = (whole - x).abs().mean().item()
    change_tiled = (tiled - x).abs().mean().item()
    assert 0.7 < change_tiled / change_whole < 1.3


def test_images_smaller_than_the_network_needs_still_dream(tiny_model):
    x = torch.rand(1, 3, 12, 9)
    y = dream(tiny_model, x, layer("c3"), FAST)
    assert y.shape == x.shape
    assert not torch.equal(x, y)
    assert 0 <= y.min() and y.max() <= 1


def test_octave_sizes():
    config = DreamConfig(octaves=3, octave_scale=2.0, min_size=10)
    assert octave_sizes(100, 60, config) == [(25, 15), (50, 30), (100, 60)]
    # an octave that would fall below min_size is not used
    assert octave_sizes(30, 40, config) == [(15, 20), (30, 40)]


def test_callback_reports_every_step(tiny_model):
    infos: list[StepInfo] = []
    dream(tiny_model, torch.rand(1, 3, 100, 100), layer("c3"),
          DreamConfig(octaves=3, steps=2, octave_scale=1.5, min_size=16), callback=infos.append)
    assert [(i.octave, i.step) for i in infos] == [(o, s) for o in range(3) for s in range(2)]
    assert infos[-1].size == (100, 100) and infos[0].size == (44, 44)
    assert all(i.octaves == 3 and i.steps == 2 for i in infos)


def test_zero_steps_returns_the_image(tiny_model):
    x = torch.rand(1, 3, 70, 70)
    y = dream(tiny_model, x, layer("c3"), DreamConfig(steps=0))
    assert torch.allclose(x, y, atol=1e-6)


@pytest.mark.parametrize("field,value", [("steps", -1), ("octave_scale", 0.0), ("octaves", 0),
                                         ("step_size", 0.0), ("tile_size", 8)])
def test_nonsense_config_is_refused(tiny_model, field, value):
    with pytest.raises(InceptionismError):
        dream(tiny_model, torch.rand(1, 3, 32, 32), layer("c1"),
              dataclasses.replace(DreamConfig(), **{field: value}))

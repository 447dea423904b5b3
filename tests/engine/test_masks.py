"""Masks and keep-colours in the engine: measured on real dreams of the sample photo."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.engine.transforms import keep_luminance
from inceptionism.errors import InceptionismError
from inceptionism.settings import DreamConfig

from ..conftest import to_tensor

CONFIG = DreamConfig(octaves=3, steps=5)


@pytest.fixture(scope="module")
def photo(chelsea) -> torch.Tensor:
    return to_tensor(chelsea)


@pytest.fixture(scope="module")
def plain(lite0, photo, one_thread) -> torch.Tensor:
    return dream(lite0, photo, layer("b10"), CONFIG)


def half_mask(h: int, w: int) -> torch.Tensor:
    mask = torch.zeros(h, w)
    mask[:, : w // 2] = 1
    return mask


def change_profile(out: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """Mean absolute change of each column: a step in it is a vertical seam."""
    return (out - photo).abs().mean(dim=(0, 1, 2))


def test_black_is_untouched_bit_for_bit_and_white_dreams(lite0, photo, plain, one_thread):
    h, w = photo.shape[-2:]
    out = dream(lite0, photo, layer("b10"), CONFIG, mask=half_mask(h, w))
    assert torch.equal(out[..., w // 2:], photo[..., w // 2:])
    # The white half dreams with the strength of an unmasked run. Away from the edge (the
    # network sees across it, so pixels near it differ) the mean change is within 35%
    # (measured: 0.034 vs 0.042: the dream around them is weaker).
    inner = (..., slice(0, w // 2 - 64))
    masked_change = (out - photo)[inner].abs().mean().item()
    plain_change = (plain - photo)[inner].abs().mean().item()
    assert 0.65 * plain_change < masked_change < 1.35 * plain_change, (masked_change, plain_change)


def test_all_white_mask_is_the_unmasked_dream(lite0, photo, plain, one_thread):
    out = dream(lite0, photo, layer("b10"), CONFIG, mask=torch.ones(photo.shape[-2:]))
    assert torch.equal(out, plain)


def test_soft_edge_shows_no_seam_where_a_hard_edge_does(lite0, photo, plain, one_thread):
    """Across a 40-pixel ramp from white to black, the column-to-column change of how much
    the dream changed the photo stays within twice the largest such jump of the unmasked
    dream itself (its own texture); a hard edge at the same place jumps well past that."""
    h, w = photo.shape[-2:]
    r0, r1 = w // 2 - 20, w // 2 + 20
    soft = torch.zeros(h, w)
    soft[:, :r0] = 1
    soft[:, r0:r1] = torch.linspace(1, 0, r1 - r0)
    window = slice(r0 - 10, r1 + 10)
    bound = 2 * change_profile(plain, photo).diff().abs().max().item()
    soft_out = dream(lite0, photo, layer("b10"), CONFIG, mask=soft)
    hard_out = dream(lite0, photo, layer("b10"), CONFIG, mask=half_mask(h, w))
    soft_jump = change_profile(soft_out, photo)[window].diff().abs().max().item()
    hard_jump = change_profile(hard_out, photo)[window].diff().abs().max().item()
    assert soft_jump < bound < hard_jump, (soft_jump, bound, hard_jump)


def test_masks_work_on_tiles_and_small_images(tiny_model):
    x = torch.rand(1, 3, 40, 300, generator=torch.Generator().manual_seed(2))
    mask = torch.zeros(40, 300)
    mask[:, 100:200] = 1
    config = DreamConfig(octaves=2, steps=3, tile_size=64, min_size=64)  # tiled, up-scaled
    out = dream(tiny_model, x, layer("c3"), config, mask=mask)
    assert torch.equal(out[..., :100], x[..., :100]) and torch.equal(out[..., 200:], x[..., 200:])
    assert (out[..., 100:200] - x[..., 100:200]).abs().mean() > 0.01


def test_mask_of_the_wrong_size_or_range_is_refused(tiny_model):
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(InceptionismError, match="mask is 16x32 but the image is 32x32"):
        dream(tiny_model, x, layer("c3"), mask=torch.ones(32, 16))
    with pytest.raises(InceptionismError, match="between 0 and 1"):
        dream(tiny_model, x, layer("c3"), mask=torch.full((32, 32), 2.0))


def ycbcr(x: torch.Tensor) -> np.ndarray:
    """Pillow's own RGB -> YCbCr (not our formula), on the 8-bit image."""
    rgb = (x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).convert("YCbCr"), dtype=np.float32)


def test_keep_colors_keeps_the_photos_chroma_and_changes_its_luma(lite0, photo, plain, one_thread):
    kept = dream(lite0, photo, layer("b10"), dataclasses.replace(CONFIG, keep_colors=True))
    p, d, k = ycbcr(photo), ycbcr(plain), ycbcr(kept)
    chroma_plain = np.abs(d[..., 1:] - p[..., 1:]).mean()
    chroma_kept = np.abs(k[..., 1:] - p[..., 1:]).mean()
    luma_plain = np.abs(d[..., 0] - p[..., 0]).mean()
    luma_kept = np.abs(k[..., 0] - p[..., 0]).mean()
    # measured: chroma moves 6.6 levels of 255 in the plain dream, 0.05 with keep_colors
    # (8-bit rounding and the rare clipped pixel); the luma changes as much as without it
    assert chroma_kept < 0.05 * chroma_plain, (chroma_kept, chroma_plain)
    assert luma_kept > 0.9 * luma_plain, (luma_kept, luma_plain)


def test_keep_luminance_moves_luma_only():
    photo = torch.tensor([0.2, 0.5, 0.3]).view(1, 3, 1, 1)
    dream_ = torch.tensor([0.9, 0.1, 0.4]).view(1, 3, 1, 1)
    out = keep_luminance(dream_, photo)
    y = lambda t: 0.299 * t[0, 0] + 0.587 * t[0, 1] + 0.114 * t[0, 2]  # noqa: E731
    assert torch.allclose(y(out), y(dream_), atol=1e-6)
    assert torch.allclose(out[0, 2] - y(out), photo[0, 2] - y(photo), atol=1e-6)  # Cb
    assert torch.allclose(out[0, 0] - y(out), photo[0, 0] - y(photo), atol=1e-6)  # Cr


def test_cli_mask_and_keep_colors_are_stored_and_re_run(tmp_path, chelsea, capsys, one_thread):
    """Through the CLI and the still-dream job: the mask's black area is the photo's, and
    --params-from repeats mask and keep-colors bit for bit; a changed mask is refused."""
    from inceptionism.cli import main

    photo, mask = tmp_path / "cat.png", tmp_path / "mask.png"
    Image.fromarray((chelsea[:100, :150] * 255).round().astype(np.uint8)).save(photo)
    grey = np.zeros((50, 75), np.uint8)  # half the photo's size: resized to it
    grey[:, :30] = 255
    Image.fromarray(grey).save(mask)
    fast = ["--octaves", "2", "--steps", "2", "-q"]
    assert main(["dream", str(photo), "-o", str(tmp_path / "a.png"), "--mask", str(mask),
                 "--keep-colors", *fast]) == 0
    a = np.asarray(Image.open(tmp_path / "a.png"))
    assert np.array_equal(a[:, 80:], np.asarray(Image.open(photo))[:, 80:])
    assert main(["dream", str(photo), "-o", str(tmp_path / "b.png"), "--params-from",
                 str(tmp_path / "a.png"), "-q"]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    grey[:, :40] = 255
    Image.fromarray(grey).save(mask)
    capsys.readouterr()
    assert main(["dream", str(photo), "-o", str(tmp_path / "c.png"), "--params-from",
                 str(tmp_path / "a.png"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "The mask" in err and "has changed" in err

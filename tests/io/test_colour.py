"""Colour profiles, 16-bit depth and EXIF survive a dream (io/images.py)."""

from __future__ import annotations

import io

import numpy as np
import png
import pytest
import tifffile
import torch
from PIL import Image, ImageOps

from inceptionism.engine.loop import dream
from inceptionism.engine.objectives import layer
from inceptionism.errors import ImageError
from inceptionism.io.images import _oriented, load_image, load_mask, save_photo
from inceptionism.settings import DreamConfig

from ..conftest import to_tensor
from ..p3_profile import display_p3

CONFIG = DreamConfig(octaves=2, steps=4, min_size=32)


def p3_pixels(h: int = 64, w: int = 96, depth: int = 8) -> np.ndarray:
    """Smooth colours across the whole P3 gamut, with saturated P3 red and green (which sRGB
    cannot hold) in the right half, where the mask below is black."""
    y, x = np.mgrid[0:h, 0:w] / np.array([h - 1, w - 1])[:, None, None]
    rgb = np.stack([x, y, 1 - x * y], -1)
    rgb[h // 4: h // 2, w - 20:] = (1, 0, 0)
    rgb[h // 2: 3 * h // 4, w - 20:] = (0, 1, 0)
    top = 255 if depth == 8 else 65535
    return (rgb * top).round().astype(np.uint8 if depth == 8 else np.uint16)


def left_half_mask(h: int, w: int) -> torch.Tensor:
    mask = torch.zeros(h, w)
    mask[:, : w // 2] = 1
    return mask


def dream_half(tiny_model, loaded) -> np.ndarray:
    h, w = loaded.rgb.shape[:2]
    out = dream(tiny_model, to_tensor(loaded.rgb), layer("c3"), CONFIG, mask=left_half_mask(h, w))
    return out[0].permute(1, 2, 0).numpy()


def test_p3_photo_round_trips_with_its_profile_and_no_shift_where_undreamed(tiny_model, tmp_path):
    icc = display_p3()
    src = p3_pixels()
    Image.fromarray(src).save(tmp_path / "p3.png", icc_profile=icc)
    loaded = load_image(tmp_path / "p3.png")
    # converted to sRGB for the network: a grey stays grey, colours move (P3 is wider)
    assert np.abs(loaded.rgb - src / 255).max() > 0.05
    out = dream_half(tiny_model, loaded)
    save_photo(tmp_path / "out.png", out, loaded)
    with Image.open(tmp_path / "out.png") as img:
        assert img.info["icc_profile"] == icc
        result = np.asarray(img.convert("RGB"))
    w = src.shape[1]
    assert np.array_equal(result[:, w // 2:], src[:, w // 2:])  # saturated P3 red included
    assert np.abs(result[:, : w // 2].astype(int) - src[:, : w // 2]).mean() > 2  # dreamed


def test_16bit_p3_tiff_round_trips_at_16_bits(tiny_model, tmp_path):
    icc = display_p3()
    src = p3_pixels(depth=16)
    tifffile.imwrite(tmp_path / "p3.tif", src, photometric="rgb", iccprofile=icc)
    loaded = load_image(tmp_path / "p3.tif")
    assert loaded.depth == 16
    out = dream_half(tiny_model, loaded)
    save_photo(tmp_path / "out.tif", out, loaded)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        result = tif.asarray()
        assert tif.pages[0].tags["InterColorProfile"].value == icc
    assert result.dtype == np.uint16
    w = src.shape[1]
    assert np.array_equal(result[:, w // 2:], src[:, w // 2:])
    dreamed = result[:, : w // 2]
    assert np.abs(dreamed.astype(int) - src[:, : w // 2]).mean() > 500
    assert (dreamed % 257 != 0).mean() > 0.9  # real 16-bit values, not 8-bit ones scaled


def read_png16(path) -> tuple[np.ndarray, dict]:
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    return np.vstack([np.asarray(r, np.uint16) for r in rows]).reshape(height, width, -1), info


def test_16bit_png_stays_16bit(tmp_path):
    src = np.random.default_rng(0).integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    with open(tmp_path / "in.png", "wb") as fh:
        png.Writer(30, 20, greyscale=False, bitdepth=16).write(fh, src.reshape(20, -1))
    loaded = load_image(tmp_path / "in.png")
    assert loaded.depth == 16
    save_photo(tmp_path / "out.png", loaded.rgb, loaded, metadata={"k": 1})
    result, info = read_png16(tmp_path / "out.png")
    assert info["bitdepth"] == 16 and np.array_equal(result, src)
    with Image.open(tmp_path / "out.png") as img:  # our parameters travel inside it
        assert '"k": 1' in img.info["inceptionism"]
    save_photo(tmp_path / "out8.png", loaded.rgb, loaded, depth=8)
    with Image.open(tmp_path / "out8.png") as img:
        assert img.mode == "RGB"
        assert np.abs(np.asarray(img).astype(int) - src / 257).max() <= 0.5 + 1e-9
    notes = save_photo(tmp_path / "out.jpg", loaded.rgb, loaded)
    assert notes and "8 bits per channel" in notes[0]
    with pytest.raises(ImageError, match="JPEG holds 8 bits per channel"):
        save_photo(tmp_path / "out16.jpg", loaded.rgb, loaded, depth=16)


def test_8bit_photo_can_be_written_at_16_bits(tmp_path, chelsea):
    Image.fromarray((chelsea * 255).round().astype(np.uint8)).save(tmp_path / "c.png")
    loaded = load_image(tmp_path / "c.png")
    save_photo(tmp_path / "c16.png", loaded.rgb, loaded, depth=16)
    result, info = read_png16(tmp_path / "c16.png")
    assert info["bitdepth"] == 16 and result.shape == chelsea.shape


def camera_jpeg(path, orientation: int = 6) -> None:
    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 40, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R5"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"
    img.save(path, exif=exif.tobytes(), quality=95)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_exif_survives_with_orientation_reset(tmp_path, suffix):
    camera_jpeg(tmp_path / "cam.jpg")
    loaded = load_image(tmp_path / "cam.jpg")
    assert loaded.size == (20, 40)  # rotated by the orientation tag
    save_photo(tmp_path / f"out{suffix}", loaded.rgb, loaded)
    with Image.open(tmp_path / f"out{suffix}") as img:
        exif = img.getexif()
        assert img.size == (20, 40)
        assert exif[0x010F] == "Canon" and exif[0x0110] == "EOS R5"
        assert exif.get(0x0112, 1) == 1  # applied once, never twice
        assert exif.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16bit_orientation_matches_pillows(orientation):
    a = np.random.default_rng(orientation).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    img = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif.tobytes())
    with Image.open(buf) as opened:
        expected = np.asarray(ImageOps.exif_transpose(opened))
    assert np.array_equal(_oriented(a, orientation), expected)


def test_mask_is_read_grey_resized_and_alpha_as_black(tmp_path):
    grey = np.zeros((10, 20), np.uint8)
    grey[:, 10:] = 255
    Image.fromarray(grey).save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png", (40, 20))
    assert mask.shape == (20, 40) and mask[:, :15].max() == 0 and mask[:, 25:].min() == 1
    rgba = np.full((10, 20, 4), 255, np.uint8)
    rgba[:, :10, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    mask = load_mask(tmp_path / "a.png", (20, 10))
    assert mask[:, :10].max() == 0 and mask[:, 10:].min() == 1

"""Image input and output: formats, modes, orientation, alpha, metadata, atomic writes."""

import json

import numpy as np
import pytest
from PIL import Image

from inceptionism.errors import ImageError
from inceptionism.io.images import load_image, read_metadata, save_image, to_pil


def gradient_rgb(w=40, h=30) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], -1)
    return Image.fromarray(a.astype(np.uint8), "RGB")


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".tif", ".bmp", ".gif"])
def test_reads_common_formats(tmp_path, ext):
    src = gradient_rgb()
    path = tmp_path / f"in{ext}"
    src.save(path)
    img = load_image(path)
    assert img.rgb.shape == (30, 40, 3) and img.rgb.dtype == np.float32
    assert 0 <= img.rgb.min() and img.rgb.max() <= 1
    tolerance = 0.25 if ext == ".gif" else 0.05  # GIF is palettized, JPEG lossy
    assert np.abs(img.rgb - np.asarray(src) / 255).mean() < tolerance


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in [(255, 0, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    rgb = load_image(path).rgb
    assert rgb[..., 0].mean() > 0.9 and rgb[..., 2].mean() < 0.1  # red, the first frame


def test_exif_orientation_is_applied(tmp_path):
    # Stored landscape 40x30 with a white left column, tagged "rotate 90 CW to display".
    a = np.zeros((30, 40, 3), np.uint8)
    a[:, :4] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(a).save(path, exif=exif, quality=95)
    rgb = load_image(path).rgb
    assert rgb.shape == (40, 30, 3)  # displayed portrait
    assert rgb[:4].mean() > 0.8 and rgb[8:].mean() < 0.1  # the white column is now the top rows


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_other_modes_become_rgb(tmp_path, mode):
    path = tmp_path / ("in.tif" if mode == "CMYK" else "in.png")
    gradient_rgb().convert(mode).save(path)
    rgb = load_image(path).rgb
    assert rgb.shape == (30, 40, 3)
    assert rgb.std() > 0.05  # the picture survived


def test_16_bit_grayscale_keeps_its_range(tmp_path):
    a = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(a).save(path)
    rgb = load_image(path).rgb
    assert rgb.shape == (64, 64, 3)
    assert rgb.min() == 0 and abs(rgb.max() - 1) < 1e-6
    # finer than 8 bits: neighbouring values differ by less than 1/255
    assert 0 < np.diff(rgb[0, :, 0]).max() < 1 / 255


def test_alpha_is_carried_through_untouched(tmp_path):
    rgba = gradient_rgb().convert("RGBA")
    alpha = Image.fromarray((np.arange(40 * 30) % 256).reshape(30, 40).astype(np.uint8))
    rgba.putalpha(alpha)
    path = tmp_path / "a.png"
    rgba.save(path)
    img = load_image(path)
    assert img.alpha is not None
    out = tmp_path / "out.png"
    save_image(out, to_pil(1 - img.rgb, img.alpha), {"k": 1})
    with Image.open(out) as back:
        assert back.mode == "RGBA"
        assert np.array_equal(np.asarray(back.getchannel("A")), np.asarray(alpha))


def test_jpeg_output_drops_alpha_with_a_note(tmp_path):
    img = gradient_rgb().convert("RGBA")
    notes = save_image(tmp_path / "o.jpg", img, {"k": 1})
    assert notes and "alpha" in notes[0]
    with Image.open(tmp_path / "o.jpg") as back:
        assert back.mode == "RGB"


def test_format_follows_extension_and_metadata_travels(tmp_path):
    meta = {"model": "m", "config": {"steps": 3}}
    save_image(tmp_path / "o.png", gradient_rgb(), meta)
    save_image(tmp_path / "o.webp", gradient_rgb(), meta)
    with Image.open(tmp_path / "o.png") as png, Image.open(tmp_path / "o.webp") as webp:
        assert png.format == "PNG" and webp.format == "WEBP"
    assert read_metadata(tmp_path / "o.png") == meta  # text chunk inside the PNG
    assert json.loads((tmp_path / "o.webp.json").read_text()) == meta  # sidecar
    assert read_metadata(tmp_path / "o.webp") == meta
    assert not (tmp_path / "o.png.json").exists()


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ImageError, match=r"\.png"):
        save_image(tmp_path / "o.xyz", gradient_rgb())


def test_existing_output_needs_force_and_no_temp_files_remain(tmp_path):
    out = tmp_path / "o.png"
    out.write_bytes(b"precious")
    with pytest.raises(ImageError, match="already exists; allow overwriting"):
        save_image(out, gradient_rgb())
    assert out.read_bytes() == b"precious"
    save_image(out, gradient_rgb(), force=True)
    assert out.read_bytes() != b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.png"]


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as fh:
            fh.write(b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageError, match="No space left"):
        save_image(tmp_path / "o.png", gradient_rgb())
    assert list(tmp_path.iterdir()) == []

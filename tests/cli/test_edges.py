"""Edge cases found in review: a re-run never overwrites the files it was made from,
damaged stored parameters, format size limits, stale sidecars, the bare command."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from inceptionism.cli import main
from inceptionism.errors import ImageError
from inceptionism.io.images import read_metadata, save_image

FAST = ["--octaves", "1", "--steps", "1", "-q"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    y, x = np.mgrid[0:64, 0:80]
    Image.fromarray(np.stack([x * 3, y * 4, (x ^ y) & 255], -1).astype(np.uint8)).save(path)
    return path


def test_rerun_never_overwrites_the_stored_guide(capsys, tmp_path, photo):
    guide = tmp_path / "guide.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(guide)
    before = hashlib.sha256(guide.read_bytes()).hexdigest()
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "guided.png", "--guide", guide,
                    "-l", "b3", *FAST)
    assert code == 0, out.err
    code, out = run(capsys, "dream", photo, "-o", guide, "--params-from",
                    tmp_path / "guided.png", "--force", *FAST)
    assert code == 1 and out.err.startswith("error: ") and len(out.err.splitlines()) == 1
    assert hashlib.sha256(guide.read_bytes()).hexdigest() == before


def damaged_png(path, text):
    info = PngImagePlugin.PngInfo()
    info.add_text("inceptionism", text)
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("text", [
    "{not json",
    "[1, 2]",
    json.dumps({"model": "efficientnet_lite0", "objective": "b3", "config": None}),
    json.dumps({"model": "efficientnet_lite0", "objective": "b3", "config": {"steps": "3"}}),
])
def test_damaged_stored_parameters_get_one_sentence(capsys, tmp_path, photo, text):
    source = damaged_png(tmp_path / "damaged.png", text)
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "again.png", "--params-from", source)
    assert code == 1 and len(out.err.splitlines()) == 1, out.err
    assert out.err.startswith("error: ") and "unexpected" not in out.err
    assert not (tmp_path / "again.png").exists()


def test_format_size_limits_are_refused_before_writing(tmp_path):
    with pytest.raises(ImageError, match="at most 16383"):
        save_image(tmp_path / "wide.webp", Image.new("RGB", (17000, 2)))
    assert list(tmp_path.iterdir()) == []


def test_overwriting_drops_a_stale_sidecar(tmp_path):
    out = tmp_path / "o.jpg"
    save_image(out, Image.new("RGB", (8, 8)), {"model": "old"})
    assert read_metadata(out) == {"model": "old"}
    save_image(out, Image.new("RGB", (8, 8)), None, force=True)
    assert not (tmp_path / "o.jpg.json").exists()


def test_bare_command_prints_help(capsys):
    code, out = run(capsys)
    assert code == 0 and "Commands:" in out.out and out.err == ""


def test_zoom_refuses_the_same_output_twice_and_tiny_frames(capsys, tmp_path, photo):
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.gif", "-o", tmp_path / "z.gif",
                    "--frames", "1", *FAST)
    assert code == 1 and "twice" in out.err
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.mp4", "--size", "1x1",
                    "--frames", "1", *FAST)
    assert code == 2 and "too small" in out.err
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.mp4", "--size", "64 by 48",
                    "--frames", "1", *FAST)
    assert code == 2 and "'64 by 48' is not a size like 640x360" in out.err
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.mp4", "--loop", "2",
                    "--frames", "2", *FAST)
    assert code == 1 and "A loop closed over 2 frames needs more than 2 frames" in out.err
    assert not any(tmp_path.glob("z*"))

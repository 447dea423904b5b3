"""Re-running from stored parameters (--params-from) and presets, through the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from ..conftest import sample_path
from PIL import Image

from inceptionism.cli import main
from inceptionism.io.images import read_metadata

FAST = ["--octaves", "2", "--steps", "3", "--min-size", "32", "-q"]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "cat.png"
    Image.open(sample_path("chelsea")).resize((72, 48)).save(path)
    return path


@pytest.fixture
def guide_photo(tmp_path):
    path = tmp_path / "coffee.png"
    Image.open(sample_path("coffee")).resize((60, 40)).save(path)
    return path


def run(*args: str) -> int:
    return main([str(a) for a in args])


def pixels(path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


def test_rerun_from_stored_parameters_is_bit_identical(tmp_path, photo, capsys):
    first, again, plain = tmp_path / "first.png", tmp_path / "again.png", tmp_path / "plain.png"
    settings = ["-l", "b4:0.7,b6/3+5:0.3,class=goldfish:0.01", "--seed", "7", "--pyramid", "recursive",
                "--blend", "0.7", "--smoothing-growth", "1.5", "--smoothing-cascade", "--step-size", "0.03"]
    assert run("dream", photo, "-o", first, *settings, *FAST) == 0
    assert run("dream", "--params-from", first, photo, "-o", again, "-q") == 0
    assert np.array_equal(pixels(first), pixels(again))
    assert read_metadata(again)["config"] == read_metadata(first)["config"]
    # The stored settings mattered: the same command without them gives another image.
    assert run("dream", photo, "-o", plain, *FAST) == 0
    assert not np.array_equal(pixels(first), pixels(plain))
    assert capsys.readouterr().err == ""


def test_rerun_of_a_guided_dream_is_bit_identical(tmp_path, photo, guide_photo):
    first, again, unguided = tmp_path / "first.png", tmp_path / "again.png", tmp_path / "unguided.png"
    assert run("dream", photo, "-o", first, "-l", "b6", "--guide", guide_photo, *FAST) == 0
    assert read_metadata(first)["guide"]["file"] == str(guide_photo.resolve())
    assert run("dream", "--params-from", first, photo, "-o", again, "-q") == 0
    assert np.array_equal(pixels(first), pixels(again))
    assert run("dream", photo, "-o", unguided, "-l", "b6", *FAST) == 0
    assert not np.array_equal(pixels(first), pixels(unguided))


def test_options_given_with_params_from_override_the_stored_ones(tmp_path, photo):
    first, reseeded = tmp_path / "first.png", tmp_path / "reseeded.png"
    assert run("dream", photo, "-o", first, "--seed", "1", "-l", "b4", *FAST) == 0
    assert run("dream", "--params-from", first, photo, "-o", reseeded, "--seed", "2", "-q") == 0
    meta = read_metadata(reseeded)
    assert meta["config"] == {**read_metadata(first)["config"], "seed": 2}
    assert meta["objective"] == "b4"
    assert not np.array_equal(pixels(first), pixels(reseeded))


def test_rerun_refuses_a_changed_guide(tmp_path, photo, guide_photo, capsys):
    first = tmp_path / "first.png"
    assert run("dream", photo, "-o", first, "-l", "b6", "--guide", guide_photo, *FAST) == 0
    Image.open(sample_path("chelsea")).resize((60, 40)).save(guide_photo)
    assert run("dream", "--params-from", first, photo, "-o", tmp_path / "x.png", "-q") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has changed" in err
    assert not (tmp_path / "x.png").exists()


def test_rerun_notes_a_different_input(tmp_path, photo, capsys):
    first = tmp_path / "first.png"
    assert run("dream", photo, "-o", first, "-l", "b2", *FAST) == 0
    other = tmp_path / "other.png"
    Image.open(sample_path("coffee")).resize((72, 48)).save(other)
    assert run("dream", "--params-from", first, other, "-o", tmp_path / "x.png", "-q") == 0
    assert "is not the photo" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp, photo: shutil.copy(photo, tmp / "prev.png"), "holds no inceptionism parameters"),
        (lambda tmp, photo: Image.new("RGB", (8, 8)).save(
            tmp / "prev.png", pnginfo=_info({"model": "efficientnet_lite0", "tour": []})),
         "holds no dream parameters"),
        (lambda tmp, photo: Image.new("RGB", (8, 8)).save(tmp / "prev.png", pnginfo=_info(
            {"model": "efficientnet_lite0", "objective": "b3", "config": {"warp": 9}})),
         "does not know (warp)"),
    ],
)
def test_params_from_refuses_what_it_cannot_rerun(tmp_path, photo, capsys, make, message):
    make(tmp_path, photo)
    assert run("dream", "--params-from", tmp_path / "prev.png", photo, "-o", tmp_path / "x.png") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def _info(meta: dict):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("inceptionism", json.dumps(meta))
    return info


def test_preset_and_params_from_do_not_mix(tmp_path, photo, capsys):
    first = tmp_path / "first.png"
    assert run("dream", photo, "-o", first, "-l", "b2", *FAST) == 0
    assert run("dream", "--params-from", first, photo, "-o", tmp_path / "x.png", "--preset", "subtle") == 1
    assert "not both" in capsys.readouterr().err


def test_explicit_options_override_a_preset(tmp_path, photo):
    out = tmp_path / "subtle.png"
    assert run("dream", photo, "-o", out, "-l", "b2", "--preset", "subtle", "--steps", "2",
               "--octaves", "1", "-q") == 0
    meta = read_metadata(out)
    assert meta["preset"] == "subtle"
    # From the preset (subtle's own values, not the defaults), except what was given.
    assert (meta["config"]["step_size"], meta["config"]["smoothing"]) == (0.006, 1.0)
    assert (meta["config"]["steps"], meta["config"]["octaves"]) == (2, 1)


def test_unknown_class_is_one_sentence_with_suggestions(tmp_path, photo, capsys):
    assert run("dream", photo, "-o", tmp_path / "x.png", "-l", "class=jelly fish", "-q") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jellyfish (107)" in err


def test_the_default_precision_is_auto_and_the_output_stores_what_it_chose(tmp_path, photo):
    """A re-run must compute in the arithmetic the first run used, so "auto" is never what
    an output stores: EfficientNet-Lite0 (depthwise, memory-bound) resolves it to float32
    on every device."""
    from inceptionism import DreamConfig

    assert DreamConfig().precision == "auto"
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    assert run("dream", photo, "-o", first, *FAST) == 0
    assert read_metadata(first)["config"]["precision"] == "float32"
    assert run("dream", "--params-from", first, photo, "-o", again, "-q") == 0
    assert np.array_equal(pixels(first), pixels(again))


def test_lapnorm_is_stored_and_re_run(tmp_path, photo):
    first, again, plain = tmp_path / "first.png", tmp_path / "again.png", tmp_path / "plain.png"
    assert run("dream", photo, "-o", first, "--lapnorm", *FAST) == 0  # bare: the default levels
    assert read_metadata(first)["config"]["lapnorm"] == 4
    assert run("dream", "--params-from", first, photo, "-o", again, "-q") == 0
    assert np.array_equal(pixels(first), pixels(again))
    assert run("dream", photo, "-o", plain, *FAST) == 0
    assert read_metadata(plain)["config"]["lapnorm"] == 0
    assert not np.array_equal(pixels(first), pixels(plain))

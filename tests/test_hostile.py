"""Hostile input, class by class: each defect through the library API and the CLI.

Every refusal is one sentence: an InceptionismError from the library, one `error:` line and
a non-zero status from the CLI, and no file written.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from inceptionism import DreamConfig, Dreamer, __version__
from inceptionism.classes import class_index
from inceptionism.cli import main
from inceptionism.engine.loop import check_working_size, dream, working_size
from inceptionism.engine.objectives import MAX_TERMS, WeightedSum, layer, parse
from inceptionism.errors import InceptionismError, VideoError, WeightsError
from inceptionism.io.images import load_image
from inceptionism.jobs import DreamRequest, Recipe, ZoomRequest, run_dream, run_zoom
from inceptionism.models.weights import load_state_dict
from inceptionism.settings import LIMITS, FlowConfig, ZoomMotion
from inceptionism.video.codec import encode
from inceptionism.video.loops import render_zoom
from inceptionism.video.store import FrameStore

from .conftest import TinyNet

FAST = ["--octaves", "1", "--steps", "1", "-q"]
pytestmark = pytest.mark.usefixtures("one_thread")


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "unexpected" not in lines[0], err
    return lines[0]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    y, x = np.mgrid[0:48, 0:64]
    Image.fromarray(np.stack([x * 3, y * 4, (x ^ y) & 255], -1).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A 100000x1 PNG: a 300 KB file that up-scales to 409.6 megapixels."""
    path = tmp_path_factory.mktemp("wide") / "wide.png"
    rgb = np.random.default_rng(0).integers(0, 256, (1, 100_000, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="module")
def dreamer():
    return Dreamer()


# --- 1. work is bounded by the pixels dreamed, not by the file ----------------------------------


def test_working_size_counts_the_up_scaling():
    config = DreamConfig()
    assert working_size(1, 100_000, config) == (64, 6_400_000)
    assert working_size(300, 451, config) == (300, 451)
    with pytest.raises(InceptionismError, match=r"6400000x64 .*409\.6 megapixels.*100 megapixels"):
        check_working_size(1, 100_000, config)
    with pytest.raises(InceptionismError, match="^An image needs at least 1 pixel a side"):
        check_working_size(0, 10, config)
    with pytest.raises(InceptionismError, match="^A frame needs at least 1 pixel a side"):
        check_working_size(10, 0, config, what="frame")


def test_dream_refuses_before_any_work(tiny_model):
    calls = []  # the step callback: no step may be taken
    image = torch.rand(1, 3, 1, 100_000)
    with pytest.raises(InceptionismError, match="6400000x64"):
        dream(tiny_model, image, layer("c2"), DreamConfig(steps=1),
              callback=lambda info: calls.append(info))
    assert calls == []
    # The limit is the caller's: a small one refuses a small image, and names it.
    with pytest.raises(InceptionismError, match="limit of 0.001 megapixels"):
        dream(tiny_model, torch.rand(1, 3, 40, 40), layer("c2"), DreamConfig(steps=1),
              max_pixels=1000)


def test_dreamer_bounds_guides_tours_and_frames(dreamer, tmp_path):
    small = Dreamer(max_pixels=10_000)
    with pytest.raises(InceptionismError, match=r"guide image is seen by the network at 22400000x224"):
        dreamer.guided("b10", np.zeros((1, 100_000, 3), np.float32))
    with pytest.raises(InceptionismError, match="megapixels"):
        small.explore(np.zeros((120, 120, 3), np.float32), ["b1"])
    store = FrameStore(tmp_path / "z.frames")
    with pytest.raises(InceptionismError, match="frame is 0.014 megapixels"):
        render_zoom(small, np.zeros((120, 120, 3), np.float32), store, 2)
    assert not store.folder.exists()  # refused before the frames folder was made
    with pytest.raises(InceptionismError, match="Pixel limit"):
        Dreamer(max_pixels=math.inf)


@pytest.mark.parametrize("args, expect", [
    (["{wide}"], "dreamed at 6400000x64"),
    (["{photo}", "--min-size", "100000"], "dreamed at 133333x100000"),
    (["{photo}", "--guide", "{wide}"], "seen by the network at 22400000x224"),
])
def test_cli_refuses_oversized_work(capsys, tmp_path, photo, wide, args, expect):
    args = [a.format(wide=wide, photo=photo) for a in args]
    code, out = run(capsys, "dream", *args, "-o", tmp_path / "out.png", *FAST)
    assert code == 1 and expect in one_error_line(out.err)
    assert not (tmp_path / "out.png").exists()


def test_cli_zoom_size_is_refused_before_the_frame_is_made(capsys, tmp_path, photo):
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.mp4", "--size", "40000x40000",
                    "--frames", "2", *FAST)
    assert code == 1 and "40000x40000 frame is 1600 megapixels" in one_error_line(out.err)
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.mp4", "--size", "128x96",
                    "--max-pixels", "5000", "--frames", "2", *FAST)  # the photo is 3072 pixels
    assert code == 1 and "128x96 frame is 0.012 megapixels" in one_error_line(out.err)
    assert not list(tmp_path.glob("z*"))


PEAK = """
import sys
from inceptionism.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(code, peak)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc")
def test_refusing_oversized_examples_stays_under_2_gib(tmp_path, photo, wide):
    """Oversized examples that would each need about 10 GB: refused, they stay small."""
    examples = [
        ["dream", wide, "-o", tmp_path / "a.png"],
        ["zoom", photo, "-o", tmp_path / "z.mp4", "--size", "40000x40000"],
        ["dream", photo, "-o", tmp_path / "b.png", "--min-size", "100000"],
        ["dream", photo, "-o", tmp_path / "c.png", "--guide", wide],
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for args in examples:
        result = subprocess.run([sys.executable, "-c", PEAK, *map(str, args)], env=env,
                                capture_output=True, text=True, timeout=300)
        code, peak_kib = map(int, result.stdout.split())
        assert code == 1 and "megapixels" in result.stderr, result.stderr
        assert peak_kib < 2 * 1024 * 1024, (args, peak_kib)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("photo.png",)]


# --- 2. non-finite and absurd numbers -----------------------------------------------------------


@pytest.mark.parametrize("field", sorted(LIMITS))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**21, -(10**21), "3", None])
def test_every_config_number_is_checked_naming_it(field, value):
    config = DreamConfig(**{field: value})
    with pytest.raises(InceptionismError) as e:
        config.validate()
    message = str(e.value)
    assert message.startswith(LIMITS[field].label.capitalize()) and message.count(".") >= 1
    assert "\n" not in message


@pytest.mark.parametrize("field, value", [("octaves", 2.5), ("jitter", 2.5), ("tile_size", 512.0),
                                          ("smoothing_cascade", 1), ("pyramid", 3),
                                          ("steps", True)])
def test_wrong_kinds_are_refused(field, value):
    with pytest.raises(InceptionismError):
        DreamConfig(**{field: value}).validate()


def test_motion_flow_and_frame_rate_numbers_are_checked(tmp_path):
    for motion in (ZoomMotion(rotate=math.nan), ZoomMotion(shift=(math.inf, 0)),
                   ZoomMotion(zoom=math.nan), ZoomMotion(shift=(1e9, 0)), ZoomMotion(shift=(1,))):
        with pytest.raises(InceptionismError):
            motion.validate()
    with pytest.raises(InceptionismError, match="Carry"):
        FlowConfig(carry=math.nan).validate()
    store = FrameStore(tmp_path / "f.frames")
    store.open({"p": 1})
    store.save(0, np.zeros((4, 4, 3), np.float32))
    for fps in (math.nan, math.inf, 0, 1e9):
        with pytest.raises(InceptionismError, match="Frame rate"):
            encode(store, 1, tmp_path / "v.gif", fps)
    assert not (tmp_path / "v.gif").exists()


@pytest.mark.parametrize("args", [
    ["dream", "{photo}", "--step-size", "inf"],
    ["dream", "{photo}", "--smoothing", "inf"],
    ["dream", "{photo}", "--smoothing", "1e5"],
    ["dream", "{photo}", "--jitter", "123456789012345678901"],
    ["dream", "{photo}", "--octave-scale", "nan"],
    ["dream", "{photo}", "-l", "b10:nan"],
    ["dream", "{photo}", "-l", "b10:inf"],
    ["dream", "{photo}", "-l", "b10:1e999"],
    ["zoom", "{photo}", "--rotate", "nan"],
    ["zoom", "{photo}", "--shift", "inf", "0"],
    ["zoom", "{photo}", "--fps", "nan"],
    ["zoom", "{photo}", "--fps", "inf"],
])
def test_cli_refuses_out_of_range_numbers(capsys, tmp_path, photo, args):
    out_name = "out.png" if args[0] == "dream" else "out.gif"
    args = [a.format(photo=photo) for a in args]
    code, out = run(capsys, *args, "-o", tmp_path / out_name, "--frames", "1", *FAST) \
        if args[0] == "zoom" else run(capsys, *args, "-o", tmp_path / out_name, *FAST)
    assert code in (1, 2)
    one_error_line(out.err)
    assert [p.name for p in tmp_path.iterdir()] == ["photo.png"]


def test_weights_with_nan_are_refused(tmp_path, capsys, photo):
    net = TinyNet()
    state = net.state_dict()
    state["c2.0.weight"][0, 0, 0, 0] = math.nan
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"not finite numbers .* 'c2.0.weight'"):
        load_state_dict(path)
    lite = tmp_path / "lite.pt"
    from inceptionism.models import get_spec

    lite_state = load_state_dict(get_spec("efficientnet_lite0").weights.resolve())
    key = next(iter(lite_state))
    lite_state[key] = lite_state[key].clone().fill_(math.inf)
    torch.save(lite_state, lite)
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "o.png", "--weights", lite, *FAST)
    assert code == 1 and "not finite numbers" in one_error_line(out.err)
    assert not (tmp_path / "o.png").exists()


# --- 3. unicode digits ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["b10/²", "b10/١٢", "b10:١", "b10:1_0", "b10/1+²"])
def test_objective_numbers_are_ascii_only(spec):
    with pytest.raises(InceptionismError):
        parse(spec)


def test_class_index_digits_are_ascii_only():
    assert class_index("107") == 107
    with pytest.raises(InceptionismError, match="Unknown ImageNet class"):
        class_index("１０７")


@pytest.mark.parametrize("args", [["-l", "b10/²"], ["--steps", "²"], ["--octaves", "３"],
                                  ["--seed", "1_0"]])
def test_cli_refuses_unicode_digits(capsys, tmp_path, photo, args):
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "o.png", *FAST, *args)
    assert code in (1, 2)
    one_error_line(out.err)
    code, out = run(capsys, "zoom", photo, "-o", tmp_path / "z.gif", "--size", "６4x48", *FAST)
    assert code == 2 and "not a size" in one_error_line(out.err)


# --- 4. stored parameters are checked against their schema ---------------------------------------

STORED = {"model": "efficientnet_lite0", "objective": "b3", "config": {"steps": 1, "octaves": 1},
          "inceptionism": __version__}


@pytest.mark.parametrize("change, field", [
    ({"config": {"octaves": 2.5}}, "config.octaves"),
    ({"config": {"jitter": 2.5}}, "config.jitter"),
    ({"config": {"step_size": "0.1"}}, "config.step_size"),
    ({"config": "steps=3"}, "config"),
    ({"objective": ["b3"]}, "objective"),
    ({"model": 3}, "model"),
    ({"weights_file": "w.pt"}, "weights_file"),
    ({"guide": {"file": 7, "sha256": None}}, "guide.file"),
    ({"guide": {"file": "g.png", "sha256": "not-hex"}}, "guide.sha256"),
    ({"objective": "b3:nan"}, "objective"),
    ({"objective": ",".join(["b3"] * 20_000)}, "objective"),
])
def test_a_damaged_recipe_names_the_field(tmp_path, change, field):
    with pytest.raises(InceptionismError) as e:
        Recipe.from_metadata({**STORED, **change}, tmp_path / "old.png")
    message = str(e.value)
    assert message.startswith("The parameters stored in") and f"damaged ({field}:" in message
    assert "\n" not in message


def stored_png(path, meta):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("inceptionism", json.dumps(meta))
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("change", [{"config": {"octaves": 2.5}}, {"config": {"jitter": 2.5}},
                                    {"config": ["steps"]}, {"objective": ["b3", "b4"]},
                                    {"objective": ",".join(["b3"] * 20_000)}])
def test_cli_rerun_of_damaged_parameters_is_one_line(capsys, tmp_path, photo, change):
    old = stored_png(tmp_path / "old.png", {**STORED, **change})
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "again.png", "--params-from", old)
    line = one_error_line(out.err)
    assert code == 1 and ("damaged" in line or "at most 1000 terms" in line), line
    assert not (tmp_path / "again.png").exists()


# --- 5. objective parsing: linear, with a clear limit -------------------------------------------


def test_parsing_builds_one_flat_sum(monkeypatch):
    """Adding terms one by one rebuilt the whole sum each time (quadratic): count the sums."""
    built = []
    init = WeightedSum.__init__

    def counting(self, terms):
        built.append(len(terms))
        init(self, terms)

    monkeypatch.setattr(WeightedSum, "__init__", counting)
    spec = ",".join(f"b{i % 12 + 1}:0.5" for i in range(MAX_TERMS))
    objective = parse(spec)
    assert len(objective.terms) == MAX_TERMS
    assert sum(built) <= 2 * MAX_TERMS, len(built)  # each term copied a bounded number of times
    assert parse(objective.spec).spec == objective.spec


def test_too_many_terms_are_refused(capsys, tmp_path, photo):
    with pytest.raises(InceptionismError, match=f"at most {MAX_TERMS} terms"):
        parse(",".join(["b10"] * (MAX_TERMS + 1)))
    with pytest.raises(InceptionismError, match="at most"):
        sum([layer("b1")] * (MAX_TERMS + 1))
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "o.png",
                    "-l", ",".join(["b10"] * 20_000), *FAST)
    assert code == 1 and f"at most {MAX_TERMS} terms (got 20000)" in one_error_line(out.err)


def test_weights_in_python_are_checked_too():
    for k in (math.nan, math.inf, 1e9):
        with pytest.raises(InceptionismError, match="weight"):
            k * layer("b1")


# --- 6, 7. weights files that hold code, or are not files -----------------------------------------


class Payload:
    def __reduce__(self):
        return (print, ("this ran",))


def test_code_in_weights_is_refused_in_one_sentence(tmp_path, capsys, photo):
    evil = tmp_path / "evil.pt"
    torch.save({"c1.0.weight": torch.zeros(1), "x": Payload()}, evil)
    with pytest.raises(WeightsError) as e:
        load_state_dict(evil)
    assert "holds objects other than tensors" in str(e.value) and "\n" not in str(e.value)
    assert "weights_only" not in str(e.value)
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "o.png", "--weights", evil, *FAST)
    assert code == 1 and "objects other than tensors" in one_error_line(out.err)
    assert "this ran" not in out.out


def test_a_non_weights_file_gets_one_sentence(tmp_path, capsys, photo):
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "o.png", "--weights", photo, *FAST)
    assert code == 1 and "not a PyTorch weights file" in one_error_line(out.err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_opening_it(tmp_path, photo):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError, match="pipe"):
        load_state_dict(fifo)  # opening it would block forever
    for args in (["dream", photo, "-o", tmp_path / "o.png", "--weights", fifo],
                 ["dream", fifo, "-o", tmp_path / "o.png"]):
        result = subprocess.run([sys.executable, "-m", "inceptionism", *map(str, args), *FAST],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 1 and "pipe" in one_error_line(result.stderr)
        assert "empty" not in result.stderr


# --- 9. damaged frames ---------------------------------------------------------------------------


def frames(n):
    return [np.random.default_rng(i).integers(0, 256, (8, 10, 3)) / np.float32(255) for i in range(n)]


def test_a_damaged_middle_frame_is_redone_on_resume_and_refused_on_encode(tmp_path):
    store = FrameStore(tmp_path / "f.frames")
    store.open({"p": 1})
    for i, f in enumerate(frames(4)):
        store.save(i, f)
    data = store.path(1).read_bytes()
    store.path(1).write_bytes(data[: len(data) // 2])  # truncated in place
    with pytest.raises(VideoError, match=r"frame_000001.png does not match the digest"):
        encode(store, 4, tmp_path / "v.gif", 10)
    assert not (tmp_path / "v.gif").exists()
    again = FrameStore(store.folder)
    assert again.open({"p": 1}) == 1  # frames 1.. were made from the damaged one: redone
    assert "frame_000001.png" in again.notes[0]
    assert again.count() == 1


def test_frames_replaced_or_without_digests_are_not_trusted(tmp_path):
    store = FrameStore(tmp_path / "f.frames")
    store.open({"p": 1})
    for i, f in enumerate(frames(3)):
        store.save(i, f)
    Image.fromarray(np.zeros((8, 10, 3), np.uint8)).save(store.path(2))  # a valid PNG, swapped in
    assert FrameStore(store.folder).open({"p": 1}) == 2
    store.digests_path.unlink()
    assert FrameStore(store.folder).open({"p": 1}) == 0


def test_cli_resume_redoes_a_damaged_frame_bit_for_bit(capsys, tmp_path, photo):
    out = tmp_path / "z.gif"
    args = ["zoom", photo, "-o", out, "--frames", "3", "--octaves", "1", "--steps", "1", "-q"]
    code, _ = run(capsys, *args)
    assert code == 0
    store = FrameStore(tmp_path / "z.frames")
    good = [store.path(i).read_bytes() for i in range(3)]
    store.path(1).write_bytes(good[1][:100])
    code, got = run(capsys, *args, "--force")
    assert code == 0, got.err
    assert "frame_000001.png" in got.err and got.err.startswith("note: ")
    assert [store.path(i).read_bytes() for i in range(3)] == good


# --- 10. the files a command reads are never written ---------------------------------------------


def test_output_equal_to_the_weights_file_is_refused(capsys, tmp_path, photo):
    from inceptionism.models import get_spec

    weights = tmp_path / "weights.png"  # a state dict under an image's name
    weights.write_bytes(get_spec("efficientnet_lite0").weights.resolve().read_bytes())
    before = weights.read_bytes()
    code, out = run(capsys, "dream", photo, "-o", weights, "--weights", weights, "--force", *FAST)
    assert code == 1 and "input" in one_error_line(out.err)
    link = tmp_path / "link.png"
    link.symlink_to(weights)
    code, out = run(capsys, "dream", photo, "-o", link, "--weights", weights, "--force", *FAST)
    assert code == 1
    assert weights.read_bytes() == before


def test_zoom_input_inside_its_own_frames_folder_survives_restart(capsys, tmp_path, photo):
    folder = tmp_path / "z.frames"
    folder.mkdir()
    inside = folder / "frame_000000.png"
    inside.write_bytes(photo.read_bytes())
    code, out = run(capsys, "zoom", inside, "-o", tmp_path / "z.gif", "--restart", "--force",
                    "--frames", "1", *FAST)
    assert code == 1 and "inside the frames folder" in one_error_line(out.err)
    assert inside.read_bytes() == photo.read_bytes()
    # The same photo under another name in that folder is never touched: it may stay there.
    other = folder / "photo.png"
    other.write_bytes(photo.read_bytes())
    code, out = run(capsys, "zoom", other, "-o", tmp_path / "z.gif", "--frames-dir", folder,
                    "--restart", "--force", "--frames", "1", *FAST)
    assert code == 0, out.err
    assert other.read_bytes() == photo.read_bytes()


def test_jobs_protect_every_file_they_read(tmp_path, photo):
    """The same protection through the Python API (the jobs), not only the CLI."""
    from inceptionism.models import get_spec

    weights = tmp_path / "weights.png"
    weights.write_bytes(get_spec("efficientnet_lite0").weights.resolve().read_bytes())
    before = weights.read_bytes()
    with pytest.raises(InceptionismError, match="input"):
        run_dream(DreamRequest(input=photo, output=weights, weights=weights, overwrite=True,
                               overrides={"steps": 1, "octaves": 1}))
    folder = tmp_path / "z.frames"
    folder.mkdir()
    inside = folder / "frame_000000.png"
    inside.write_bytes(photo.read_bytes())
    with pytest.raises(VideoError, match="inside the frames folder"):
        run_zoom(ZoomRequest(input=inside, outputs=[tmp_path / "z.gif"], frames=1, restart=True,
                             overwrite=True))
    assert weights.read_bytes() == before and inside.read_bytes() == photo.read_bytes()


def test_jobs_check_numbers_before_any_work(tmp_path, photo):
    with pytest.raises(InceptionismError, match="Frame rate"):
        run_zoom(ZoomRequest(input=photo, outputs=[tmp_path / "z.gif"], frames=2,
                             fps=math.nan))
    with pytest.raises(InceptionismError, match="40000x40000 frame"):
        run_zoom(ZoomRequest(input=photo, outputs=[tmp_path / "z.gif"], frames=2,
                             size=(40000, 40000)))
    with pytest.raises(InceptionismError, match="Step size"):
        run_dream(DreamRequest(input=photo, overrides={"step_size": math.inf}))
    assert not list(tmp_path.glob("z*"))


# --- minor ---------------------------------------------------------------------------------------


def test_non_finite_pixels_are_refused(tiny_model):
    image = torch.rand(1, 3, 16, 16)
    image[0, 0, 3, 3] = math.nan
    with pytest.raises(InceptionismError, match="not finite"):
        dream(tiny_model, image, layer("c2"), DreamConfig(steps=1, min_size=8))


def test_audio_only_video_is_named_as_such(tmp_path, capsys):
    from inceptionism.video.codec import ffmpeg_exe

    audio = tmp_path / "audio.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=0.5", "-c:a", "aac", str(audio)], check=True)
    code, out = run(capsys, "video", audio, "-o", tmp_path / "v.gif", "-q")
    assert code == 1 and "holds no video stream" in one_error_line(out.err)


def test_library_warnings_are_one_note_and_silent_under_quiet(capsys, tmp_path, photo,
                                                               monkeypatch):
    import warnings

    import inceptionism.jobs.still as still

    load = still.load_image

    def noisy(*args, **kwargs):
        warnings.warn("Palette images with Transparency should be converted\nsecond line")
        return load(*args, **kwargs)

    monkeypatch.setattr(still, "load_image", noisy)
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "q.png", *FAST)
    assert code == 0 and out.err == ""
    code, out = run(capsys, "dream", photo, "-o", tmp_path / "l.png", "--octaves", "1",
                    "--steps", "1")
    notes = [line for line in out.err.splitlines() if line.startswith("note: ")]
    assert code == 0 and notes == ["note: Palette images with Transparency should be converted"]


def test_load_image_error_is_still_one_sentence(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(InceptionismError):
        load_image(bad)


# --- damaged metadata blocks: dropped with one note, the photo dreamed -------------------------


def _exif_block() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    exif[0x0112] = 1
    exif[0x8769] = {0x9003: "2020:01:01 00:00:00"}
    return exif.tobytes()


def _damaged(kind: str, rgb: np.ndarray, path) -> None:
    """Write ``rgb`` to ``path`` with one damaged metadata block of ``kind``."""
    import io
    import struct
    import zlib

    from PIL import ImageCms

    img = Image.fromarray(rgb)
    if kind == "exif-garbage.jpg":  # the block's TIFF header overwritten
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", exif=_exif_block(), quality=95)
        data = bytearray(buffer.getvalue())
        start = data.index(b"Exif\x00\x00") + 6
        data[start:start + 30] = b"\xab" * 30
        path.write_bytes(bytes(data))
    elif kind == "exif-offset.jpg":  # IFD0 said to start far past the block's end
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", exif=_exif_block(), quality=95)
        data = bytearray(buffer.getvalue())
        start = data.index(b"Exif\x00\x00") + 6
        order = "<" if data[start:start + 2] == b"II" else ">"
        data[start + 4:start + 8] = struct.pack(order + "I", 0x7FFFFFF0)
        path.write_bytes(bytes(data))
    elif kind == "exif-entry.png":  # an eXIf chunk whose entry points past the end
        buffer = io.BytesIO()
        img.save(buffer, "PNG", exif=_exif_block())
        data = buffer.getvalue()
        at = data.index(b"eXIf")
        length = struct.unpack(">I", data[at - 4:at])[0]
        body = bytearray(data[at + 4:at + 4 + length])
        order = "<" if body[:2] == b"II" else ">"
        ifd = struct.unpack(order + "I", body[4:8])[0]
        entry = ifd + 2  # the first entry of IFD0 (Make, ASCII, 7 bytes: stored elsewhere)
        body[entry + 8:entry + 12] = struct.pack(order + "I", 0x7FFFFFF0)
        chunk = b"eXIf" + bytes(body)
        path.write_bytes(data[:at] + chunk + struct.pack(">I", zlib.crc32(chunk))
                         + data[at + 8 + length:])
    elif kind == "icc-truncated.png":  # a real profile cut in half: LittleCMS refuses it
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        img.save(path, "PNG", icc_profile=srgb[: len(srgb) // 2])
    elif kind == "icc-garbage.jpg":
        img.save(path, "JPEG", icc_profile=b"not a profile " * 40, quality=95)
    elif kind == "xmp-broken.jpg":  # never read nor written by inceptionism
        img.save(path, "JPEG", xmp=b"<x:xmpmeta><rdf:RDF <<< broken", quality=95)


DAMAGED = ["exif-garbage.jpg", "exif-offset.jpg", "exif-entry.png", "icc-truncated.png",
           "icc-garbage.jpg"]


@pytest.mark.parametrize("kind", DAMAGED + ["xmp-broken.jpg"])
def test_a_damaged_metadata_block_is_dropped_and_the_pixels_kept(tmp_path, kind):
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([x * 3, y * 4, (x ^ y) & 255], -1).astype(np.uint8)
    damaged, clean = tmp_path / kind, tmp_path / ("clean" + os.path.splitext(kind)[1])
    _damaged(kind, rgb, damaged)
    Image.fromarray(rgb).save(clean, quality=95)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's own warning would be a second note
        loaded = load_image(damaged)
    assert np.array_equal(loaded.rgb, load_image(clean).rgb)  # the same pixels
    if kind.startswith("xmp"):
        assert loaded.notes == []
        return
    block = "EXIF block" if kind.startswith("exif") else "ICC profile"
    assert len(loaded.notes) == 1 and f"the {block} of {kind} is damaged" in loaded.notes[0]
    assert "dropped" in loaded.notes[0] and "\n" not in loaded.notes[0]
    assert loaded.exif is None and loaded.icc_profile is None


@pytest.mark.parametrize("kind", ["exif-garbage.jpg", "icc-truncated.png"])
def test_cli_dreams_a_photo_with_damaged_metadata_with_one_note(capsys, tmp_path, kind):
    y, x = np.mgrid[0:48, 0:64]
    _damaged(kind, np.stack([x * 3, y * 4, (x ^ y) & 255], -1).astype(np.uint8),
             tmp_path / kind)
    out_path = tmp_path / "dream.png"
    code, out = run(capsys, "dream", tmp_path / kind, "-o", out_path, "--octaves", "1",
                    "--steps", "1")
    notes = [line for line in out.err.splitlines() if line.startswith("note: ")]
    assert code == 0 and out_path.is_file(), out.err
    assert len(notes) == 1 and "damaged" in notes[0] and "dropped" in notes[0], out.err
    assert "error" not in out.err


# --- an empty or blank objective is refused at every door ---------------------------------------

BLANKS = ["", "   ", "\t"]


@pytest.mark.parametrize("spec", BLANKS)
def test_the_library_refuses_a_blank_objective(dreamer, tmp_path, photo, spec):
    from inceptionism.engine.objectives import EMPTY, check_given

    check_given(None)  # None is "the model's default layers", not an empty objective
    for attempt in (lambda: parse(spec), lambda: dreamer.objective(spec),
                    lambda: run_dream(DreamRequest(input=photo, output=tmp_path / "o.png",
                                                   objective=spec)),
                    lambda: run_zoom(ZoomRequest(input=photo, outputs=(tmp_path / "z.gif",),
                                                 objectives=(spec,), frames=2))):
        with pytest.raises(InceptionismError) as e:
            attempt()
        assert str(e.value) == EMPTY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


@pytest.mark.parametrize("args", [
    ["dream", "{photo}", "-o", "{tmp}/o.png", "-l", ""],
    ["dream", "{photo}", "-o", "{tmp}/o.png", "--layers", "  "],
    ["dream", "{photo}", "-o", "{tmp}/o.png", "--params-from", "{tmp}/old.png", "-l", " "],
    ["dream", "{photo}", "-o", "{tmp}/o.png", "--params-from", "{tmp}/empty.png"],
    ["zoom", "{photo}", "-o", "{tmp}/o.gif", "--frames", "2", "-l", ""],
    ["zoom", "{photo}", "-o", "{tmp}/o.gif", "--frames", "2", "--cycle", "b3", "--cycle", " "],
    ["batch", "{photo}", "-o", "{tmp}/out", "-l", ""],
    ["batch", "{photo}", "-o", "{tmp}/out", "--params-from", "{tmp}/empty.png"],
])
def test_cli_refuses_a_blank_objective_in_one_sentence(capsys, tmp_path, photo, args):
    stored_png(tmp_path / "old.png", STORED)
    stored_png(tmp_path / "empty.png", {**STORED, "objective": "  "})
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out = run(capsys, *[a.format(photo=photo, tmp=tmp_path) for a in args])
    line = one_error_line(out.err)
    assert code == 1 and "objective is empty" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_mask_with_a_damaged_exif_block_is_read_by_its_pixels(tmp_path):
    import warnings

    from inceptionism.io.images import load_mask

    grey = np.full((48, 64, 3), 128, np.uint8)
    for kind in ("exif-offset.jpg", "exif-garbage.jpg"):
        _damaged(kind, grey, tmp_path / kind)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's "Corrupt EXIF data" would be a note
            mask = load_mask(tmp_path / kind, (64, 48))
        assert mask.shape == (48, 64) and abs(float(mask.mean()) - 128 / 255) < 0.02

"""The command line: a real dream end to end, and every kind of bad input."""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.cli import main
from inceptionism.io.images import read_metadata

FAST = ["--octaves", "2", "--steps", "2"]


@pytest.fixture
def photo(tmp_path, chelsea) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray((chelsea[:120, 100:280] * 255).astype(np.uint8)).save(path, quality=95)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err):
    assert code != 0
    # the line announcing the model's loading may come first; the error is one line
    lines = [line for line in err.strip().splitlines() if not line.startswith("loading ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err


def test_dream_writes_a_dream_with_its_parameters(capsys, photo, tmp_path):
    before = digest(photo)
    out = tmp_path / "dream.png"
    code, _, err = run(capsys, "dream", photo, "-o", out, *FAST, "--seed", "5", "-l", "b7")
    assert code == 0, err
    assert digest(photo) == before  # input untouched
    meta = read_metadata(out)
    assert meta["model"] == "efficientnet_lite0" and meta["objective"] == "b7"
    assert meta["config"]["octaves"] == 2 and meta["config"]["steps"] == 2
    assert meta["config"]["seed"] == 5 and "inceptionism" in meta
    with Image.open(out) as img, Image.open(photo) as src:
        assert img.size == src.size
        assert np.abs(np.asarray(img, float) - np.asarray(src, float)).mean() > 2  # it dreamed
    assert "octave 2/2" in err  # the progress bar
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dream.png", "photo.jpg"]


def test_quiet_and_jpeg_sidecar(capsys, photo, tmp_path):
    out = tmp_path / "dream.jpg"
    code, stdout, err = run(capsys, "dream", photo, "-o", out, *FAST, "--quiet")
    assert code == 0 and err == "" and stdout == ""
    assert read_metadata(out)["objective"] == "b10"  # the model's default layer
    assert (tmp_path / "dream.jpg.json").exists()


def test_existing_output_is_kept_without_force(capsys, photo, tmp_path):
    out = tmp_path / "dream.png"
    out.write_bytes(b"earlier work")
    code, _, err = run(capsys, "dream", photo, "-o", out, *FAST)
    assert_one_line_error(code, err)
    assert "--force" in err and out.read_bytes() == b"earlier work"
    code, _, err = run(capsys, "dream", photo, "-o", out, *FAST, "--force", "-q")
    assert code == 0 and out.read_bytes() != b"earlier work"


def test_input_is_never_the_output(capsys, tmp_path, chelsea):
    photo = tmp_path / "photo.png"
    Image.fromarray((chelsea[:64, :64] * 255).astype(np.uint8)).save(photo)
    before = digest(photo)
    code, _, err = run(capsys, "dream", photo, "-o", photo, "--force", *FAST)
    assert_one_line_error(code, err)
    assert "input" in err and digest(photo) == before


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width x height pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b""))


def make_bad_input(kind: str, tmp_path: Path, photo: Path) -> Path:
    path = tmp_path / f"bad-{kind}.png"
    if kind == "missing":
        return tmp_path / "nope.jpg"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not-an-image":
        path.write_text("hello, I am a text file\n")
    elif kind == "truncated":
        data = photo.read_bytes()
        path = tmp_path / "bad-truncated.jpg"
        path.write_bytes(data[: len(data) // 2])
    elif kind == "bomb":
        path.write_bytes(png_claiming(100_000, 100_000))
    elif kind == "large":
        path.write_bytes(png_claiming(12_000, 10_000))  # 120 MP: over our 100 MP default
    return path


@pytest.mark.parametrize("kind,words", [
    ("missing", "does not exist"), ("directory", "directory"), ("empty", "empty"),
    ("not-an-image", "not an image"), ("truncated", "truncated"), ("bomb", "pixels"),
    ("large", "megapixels"),
])
def test_bad_inputs_get_one_sentence(capsys, tmp_path, photo, kind, words):
    bad = make_bad_input(kind, tmp_path, photo)
    out = tmp_path / "out" / "dream.png"
    out.parent.mkdir()
    code, _, err = run(capsys, "dream", bad, "-o", out, *FAST)
    assert_one_line_error(code, err)
    assert words in err and str(bad.name) in err
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("args,words", [
    (["--steps", "-1"], "--steps"),
    (["--octave-scale", "0"], "--octave-scale"),
    (["--octaves", "0"], "--octaves"),
    (["--step-size", "-0.1"], "--step-size"),
    (["--tile-size", "abc"], "--tile-size"),
    (["-l", "b99"], "b10"),  # unknown layer: the valid ones are listed
    (["-l", "b12/9999"], "channels 0 to"),
    (["-m", "resnet9000"], "efficientnet_lite0"),
    (["--device", "quantum"], "device"),
    (["--weights", "/nonexistent/w.pth"], "does not exist"),
])
def test_nonsense_options_get_one_sentence(capsys, tmp_path, photo, args, words):
    out = tmp_path / "dream.png"
    code, _, err = run(capsys, "dream", photo, "-o", out, *FAST, *args)
    assert_one_line_error(code, err)
    assert words in err
    assert not out.exists()


def test_output_folder_missing_or_not_a_folder(capsys, tmp_path, photo):
    code, _, err = run(capsys, "dream", photo, "-o", tmp_path / "no" / "dream.png", *FAST)
    assert_one_line_error(code, err)
    assert "does not exist" in err
    (tmp_path / "file").write_text("x")
    code, _, err = run(capsys, "dream", photo, "-o", tmp_path / "file" / "dream.png", *FAST)
    assert_one_line_error(code, err)
    code, _, err = run(capsys, "dream", photo, "-o", tmp_path / "dream.xyz", *FAST)
    assert_one_line_error(code, err)
    assert ".png" in err


@pytest.fixture
def open_dir():
    """A temporary folder any user may enter (pytest's tmp_path is private to its owner)."""
    base = Path(tempfile.mkdtemp())
    os.chmod(base, 0o755)
    yield base
    for p in base.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    shutil.rmtree(base)


def run_unprivileged(argv: list[str], err_file: Path) -> int:
    """Run the CLI in a forked child that, when we are root, drops to user 'nobody' first
    (root may write anywhere, so permission errors only show for an ordinary user)."""
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 99
        try:
            fd = os.open(err_file, os.O_WRONLY | os.O_CREAT, 0o666)
            os.dup2(fd, 2)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            code = main(argv)
            sys.stderr.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_output_folder_not_writable_or_not_reachable(open_dir, photo):
    photo = Path(shutil.copy(photo, open_dir / "photo.jpg"))
    os.chmod(photo, 0o644)
    readonly = open_dir / "readonly"
    readonly.mkdir()
    os.chmod(readonly, 0o555)
    err_file = open_dir / "stderr.txt"
    code = run_unprivileged(["dream", str(photo), "-o", str(readonly / "d.png"), *FAST], err_file)
    assert code == 1, err_file.read_text()
    assert err_file.read_text() == f"error: Output folder {readonly} is not writable.\n"
    assert list(readonly.iterdir()) == []

    private = open_dir / "private"
    (private / "inner").mkdir(parents=True)
    os.chmod(private, 0o700)
    err_file.unlink()
    code = run_unprivileged(["dream", str(photo), "-o", str(private / "inner" / "d.png"), *FAST],
                            err_file)
    assert code == 1, err_file.read_text()
    assert err_file.read_text().startswith("error: Output ") and "permission denied" in err_file.read_text()


def test_interrupt_leaves_nothing(capsys, monkeypatch, tmp_path, photo):
    from inceptionism.api import Dreamer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Dreamer, "dream_array", interrupted)
    code, _, err = run(capsys, "dream", photo, "-o", tmp_path / "dream.png", *FAST)
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "dream.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg"]


def test_unexpected_errors_are_one_line_too(capsys, monkeypatch, tmp_path, photo):
    from inceptionism.api import Dreamer

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(Dreamer, "dream_array", broken)
    code, _, err = run(capsys, "dream", photo, "-o", tmp_path / "dream.png", *FAST)
    assert_one_line_error(code, err)
    assert "something inside broke" in err and "INCEPTIONISM_DEBUG" in err


def test_console_script_help_and_error():
    exe = Path(sys.executable).with_name("inceptionism")
    assert exe.exists(), "the console script is installed beside the interpreter"
    proc = subprocess.run([exe, "dream", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for option in ["--layers", "--octaves", "--octave-scale", "--steps", "--step-size", "--jitter",
                   "--smoothing", "--tile-size", "--seed", "--device", "--force", "--quiet"]:
        assert option in proc.stdout
    proc = subprocess.run([exe, "dream", "missing.jpg", "-o", "x.png"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == "error: Input file missing.jpg does not exist.\n"


def test_sample_writes_the_sample_photo(capsys, tmp_path):
    code, _, err = run(capsys, "sample", tmp_path / "cat.png")
    assert code == 0, err
    with Image.open(tmp_path / "cat.png") as img:
        assert img.size == (451, 300)
    code, _, err = run(capsys, "sample", tmp_path / "cat.png")
    assert_one_line_error(code, err)


def test_models_lists_the_registry(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "efficientnet_lite0" in out and "embedded" in out

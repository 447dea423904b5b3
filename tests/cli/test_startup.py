"""Light commands answer without PyTorch; the small messages are one clear sentence; the
command's quick exit still runs the exit handlers and waits for a working thread."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from inceptionism.cli import main

PROBE = """
import sys
from inceptionism.cli import main
main(sys.argv[1:])
print("torch" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["dream", "--help"], ["zoom", "--help"],
                                  ["classes", "goldfish"]])
def test_light_commands_do_not_import_torch(args):
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         timeout=120)
    assert out.stderr.strip().splitlines()[-1] == "False", out.stderr


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_unknown_model_names_the_models_not_the_parameter(capsys):
    code, err = run(capsys, "layers", "foo")
    assert code == 2 and err.count("\n") == 1
    assert "unknown model 'foo'; the models are efficientnet_lite0" in err
    assert "{" not in err and "efficientnet_lite0|" not in err


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "cat.png"
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(path)
    return path


def test_output_folder_gets_a_file_name_suggested(capsys, tmp_path, photo):
    (tmp_path / "out").mkdir()
    code, err = run(capsys, "dream", photo, "-o", f"{tmp_path / 'out'}/")
    assert code == 1 and err.count("\n") == 1
    assert f"is a folder; name a file in it, such as {tmp_path / 'out' / 'dream.png'}" in err
    code, err = run(capsys, "zoom", photo, "-o", tmp_path / "out")
    assert code == 1 and "such as" in err and "dream.mp4" in err


def test_video_of_a_still_image_is_refused(capsys, tmp_path, photo):
    code, err = run(capsys, "video", photo, "-o", tmp_path / "v.mp4")
    assert code == 1 and err.count("\n") == 1
    assert "is a still image, not a video; `inceptionism zoom` makes a video from a photo" in err
    assert not (tmp_path / "v.mp4").exists() and not (tmp_path / "v.frames").exists()


def test_restart_help_says_frames_start_at_0(capsys):
    from click.testing import CliRunner

    from inceptionism.cli import cli

    text = " ".join(CliRunner().invoke(cli, ["zoom", "--help"]).output.split())
    assert "render from the first frame (frame 0)" in text


def test_package_exports_load_on_demand_and_dream_stays_the_function():
    out = subprocess.run([sys.executable, "-c", (
        "import sys, types, inceptionism\n"
        "assert 'torch' not in sys.modules\n"
        "assert type(inceptionism) is types.ModuleType\n"  # a plain module, no class swap
        "import inceptionism.engine.loop\n"  # binds the submodule on the package
        "from inceptionism import dream, Dreamer, DreamConfig\n"
        "assert callable(dream) and dream.__module__ == 'inceptionism.engine.loop'\n"
        "assert inceptionism.dream is dream and Dreamer.__name__ == 'Dreamer'\n"
        "print('ok')")], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


QUICK_EXIT = """
import atexit, sys, threading, time
from inceptionism.cli.main import quick_exit
atexit.register(lambda: print("handler ran", end=""))
if sys.argv[1] == "thread":  # a working thread: the exit waits for it to write its line
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread done ", end=""))).start()
print("output ", end="")  # unflushed: the quick exit flushes it
quick_exit(3)
"""


@pytest.mark.parametrize("case", ["alone", "thread"])
def test_quick_exit_keeps_the_status_the_output_and_the_exit_handlers(case):
    out = subprocess.run([sys.executable, "-c", QUICK_EXIT, case], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    expected = "output handler ran" if case == "alone" else "output thread done handler ran"
    assert out.stdout == expected, out.stdout

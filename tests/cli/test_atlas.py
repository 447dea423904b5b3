"""`inceptionism atlas` through the command line: a labelled sheet, resumed runs that keep
their cells, and bad input refused in one line with a non-zero status."""

from __future__ import annotations

import pytest
from PIL import Image

from inceptionism.cli import main

FAST = ["--size", "20", "--steps", "3", "-q"]


def run(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def test_atlas_writes_a_sheet_and_resumes(capsys, tmp_path):
    out = tmp_path / "atlas.png"
    code, _ = run(capsys, "atlas", "b1", "-o", out, "-c", "0,5,2", "--columns", "3", *FAST)
    assert code == 0 and out.is_file()
    cells = tmp_path / "atlas.cells"
    names = sorted(p.name for p in cells.glob("channel-*.png"))
    assert names == ["channel-00000.png", "channel-00002.png", "channel-00005.png"]
    kept = {p.name: p.read_bytes() for p in cells.glob("channel-*.png")}
    with Image.open(out) as sheet:
        assert sheet.width >= 3 * 20 and sheet.height > 20  # three cells in a row, and labels
    (cells / "channel-00005.png").unlink()  # as if killed before the last cell was stored
    code, captured = run(capsys, "atlas", "b1", "-o", out, "-c", "0,5,2", "--columns", "3",
                         "--size", "20", "--steps", "3", "-f")
    assert code == 0 and "1 cells drawn, 2 kept" in captured.err
    assert {p.name: p.read_bytes() for p in cells.glob("channel-*.png")} == kept
    # Another recipe in the same folder is refused, or restarted on request.
    code, captured = run(capsys, "atlas", "b1", "-o", out, "-c", "0", "-f", *FAST)
    assert code == 1 and "another recipe" in captured.err
    code, _ = run(capsys, "atlas", "b1", "-o", out, "-c", "0", "-f", "--restart", *FAST)
    assert code == 0 and sorted(p.name for p in cells.glob("channel-*.png")) == \
        ["channel-00000.png"]


@pytest.mark.parametrize("args, words", [
    (["b99"], "Unknown layer 'b99'. Did you mean b9?"),
    (["b1", "-c", "3,24"], "Layer b1 has channels 0 to 23; 24 is not one of them."),
    (["b1", "-c", "three"], "Channels must be 'all' or numbers"),
    (["b1", "--top", "4"], "give the photo"),
    (["b1", "--size", "4"], "Cell size must be a whole number from 16"),
    (["b1", "--transforms", "blur=2"], "blur"),
    (["b1", "--lr", "nan"], "Learning rate must be"),
])
def test_bad_input_gets_one_line_and_status_1_or_2(capsys, tmp_path, args, words):
    code, captured = run(capsys, "atlas", *args, "-o", tmp_path / "a.png", "-q")
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code in (1, 2) and len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert words in lines[0] and "unexpected" not in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_says_which_cells_are_kept(capsys, tmp_path, monkeypatch):
    import inceptionism.jobs.atlas as job

    draw = job.CellWorker.draw
    calls = []

    def interrupted_at_the_second_cell(self, channel, callback=None):
        calls.append(channel)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return draw(self, channel, callback)

    monkeypatch.setattr(job.CellWorker, "draw", interrupted_at_the_second_cell)
    code, captured = run(capsys, "atlas", "b1", "-o", tmp_path / "a.png", "-c", "0-2", *FAST)
    assert code == 130
    assert captured.err.strip() == (f"error: interrupted; 1 of 3 cells are safe in "
                                    f"{tmp_path / 'a.cells'}, and running the same command "
                                    "again draws only the missing ones.")
    assert not (tmp_path / "a.png").exists()


def test_an_atlas_killed_mid_cell_resumes_with_identical_cells(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["atlas", "b1", "-c", "0-3", "--size", "24", "--steps", "40", "-q"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    exe = [sys.executable, "-m", "inceptionism"]
    subprocess.run([*exe, *args, "-o", str(tmp_path / "fresh.png")], check=True, env=env)
    killed = subprocess.Popen([*exe, *args, "-o", str(tmp_path / "killed.png")], env=env)
    cells = tmp_path / "killed.cells"
    deadline = time.monotonic() + 120
    while not list(cells.glob("channel-*.png")) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)  # no clean-up at all, mid-way through a cell
    killed.wait()
    kept = sorted(p.name for p in cells.glob("channel-*.png"))
    assert 1 <= len(kept) < 4, kept
    done = subprocess.run([*exe, *args[:-1], "-o", str(tmp_path / "killed.png")], env=env,
                          capture_output=True, text=True, check=True)
    assert f"{4 - len(kept)} cells drawn, {len(kept)} kept" in done.stderr
    for fresh in sorted((tmp_path / "fresh.cells").glob("channel-*.png")):
        assert (cells / fresh.name).read_bytes() == fresh.read_bytes(), fresh.name
    assert (tmp_path / "killed.png").read_bytes() != b""

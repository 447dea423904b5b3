"""Every command with the originals: inception5h from its graph file (the synthetic parity
graph stands in for the real one: same structure, same code path) and an ONNX file given by
path (a synthetic bvlc_googlenet)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.cli import main
from inceptionism.io.images import read_metadata
from inceptionism.video.codec import probe

from .test_video import make_clip, photo  # noqa: F401  (photo: a fixture)

GRAPH = Path(__file__).parent.parent / "fixtures" / "inception5h_synthetic.pb.gz"
LIGHT = ["--octaves", "1", "--steps", "2", "-q"]

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory):
    onnx = pytest.importorskip("onnx")
    from ..onnx_googlenet import build

    path = tmp_path_factory.mktemp("onnx") / "bvlc_googlenet.onnx"
    onnx.save(build(), path)
    return path


def model_args(kind: str, onnx_file: Path | None) -> list[str]:
    if kind == "inception5h":
        return ["--model", "inception5h", "--weights", str(GRAPH)]
    return ["--model", str(onnx_file), "--preprocess", "caffe"]


def changed(a: Path, b: Path) -> float:
    with Image.open(a) as x, Image.open(b) as y:
        return float(np.abs(np.asarray(x.convert("RGB"), float) - np.asarray(y.convert("RGB"), float)).mean())


@pytest.mark.parametrize("kind", ["inception5h", "onnx"])
def test_dream_and_rerun(kind, photo, tmp_path, onnx_file, capsys):
    out = tmp_path / "d.png"
    args = model_args(kind, onnx_file)
    assert main(["dream", str(photo), "-o", str(out), *args, *LIGHT]) == 0, capsys.readouterr().err
    assert changed(photo, out) > 0.5
    meta = read_metadata(out)
    assert meta["objective"] == ("mixed4c" if kind == "inception5h" else "inception_4c/output_1")
    if kind == "onnx":
        assert meta["preprocess"] == "caffe" and meta["model"] == str(onnx_file)
    again = tmp_path / "again.png"
    extra = ["--weights", str(GRAPH)] if kind == "inception5h" else []
    assert main(["dream", "--params-from", str(out), str(photo), "-o", str(again), *extra, "-q"]) == 0
    with Image.open(out) as a, Image.open(again) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))  # the stored recipe re-runs exactly


def test_channels_and_classes_of_graph_layers(photo, tmp_path, onnx_file, capsys):
    out = tmp_path / "c.png"
    assert main(["dream", str(photo), "-o", str(out), *model_args("onnx", onnx_file),
                 "-l", "inception_4c/output_1/7+9,class=3:0.5", *LIGHT]) == 0, capsys.readouterr().err
    assert read_metadata(out)["objective"] == "inception_4c/output_1/7+9,class=3:0.5"
    assert main(["dream", str(photo), "-o", str(tmp_path / "x.png"), *model_args("inception5h", None),
                 "-l", "mixed4c/97,class=kit fox", *LIGHT]) == 1
    assert "without class names" in capsys.readouterr().err


def test_explore_tours_the_seed_layers_numbered(photo, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    assert main(["explore", str(photo), "-o", str(sheet), *model_args("inception5h", None),
                 "--size", "64", "--octaves", "1", "--steps", "1", "-q"]) == 0, capsys.readouterr().err
    tour = read_metadata(sheet)["tour"]
    names = ["conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b", "mixed4a", "mixed4b",
             "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b"]
    assert [t["layer"] for t in tour] == ["original", *names]
    assert [t["label"] for t in tour[1:]] == [f"{i} {name}" for i, name in enumerate(names)]


def test_explore_an_onnx_file(photo, tmp_path, onnx_file, capsys):
    sheet = tmp_path / "sheet.png"
    assert main(["explore", str(photo), "-o", str(sheet), *model_args("onnx", onnx_file), "--size", "64",
                 "-l", "inception_3a/output_1,inception_4c/output_1", "--octaves", "1", "--steps", "1",
                 "-q"]) == 0, capsys.readouterr().err
    assert [t["layer"] for t in read_metadata(sheet)["tour"]] == [
        "original", "inception_3a/output_1", "inception_4c/output_1"]


@pytest.mark.parametrize("kind", ["inception5h", "onnx"])
def test_zoom_and_video(kind, photo, tmp_path, onnx_file, capsys):
    args = model_args(kind, onnx_file)
    mp4 = tmp_path / "z.mp4"
    assert main(["zoom", str(photo), "-o", str(mp4), "--frames", "2", "--size", "64x48",
                 *args, *LIGHT]) == 0, capsys.readouterr().err
    assert probe(mp4).frames == 2
    clip, out = tmp_path / "clip.mp4", tmp_path / "v.mp4"
    make_clip(clip, frames=2, width=64, height=48, fps=10, dx=1, dy=0)
    assert main(["video", str(clip), "-o", str(out), *args, *LIGHT]) == 0, capsys.readouterr().err
    assert probe(out).frames == 2


def test_layers_and_classes(tmp_path, onnx_file, capsys):
    assert main(["layers", "inception5h", "--weights", str(GRAPH)]) == 0
    out = capsys.readouterr().out
    assert "* mixed4c" in out and "mixed4d_3x3_bottleneck_pre_relu" in out
    assert main(["layers", str(onnx_file)]) == 0
    assert "* inception_4c/output_1" in capsys.readouterr().out
    # inception5h's own 1008 class names come from its zip.
    import gzip
    import zipfile

    archive = tmp_path / "inception5h.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("tensorflow_inception_graph.pb", gzip.decompress(GRAPH.read_bytes()))
        z.writestr("imagenet_comp_graph_label_strings.txt", "dummy\nkit fox\nEnglish setter\n")
    assert main(["classes", "fox", "--model", "inception5h", "--weights", str(archive)]) == 0
    assert capsys.readouterr().out.split() == ["1", "kit", "fox"]


def test_refusals_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx at all")
    assert main(["layers", str(bad)]) == 1
    assert main(["layers", str(tmp_path / "missing.onnx")]) == 1
    assert main(["dream", "x.png", "-o", "y.png", "--model", "nonsense"]) != 0
    assert main(["layers", "inception5h", "--weights", str(tmp_path / "none.zip")]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 4 and "Traceback" not in err, err
    assert "not an ONNX model" in lines[0] and "does not exist" in lines[1]
    assert "unknown model" in lines[2] and "does not exist" in lines[3]
    json.dumps(lines)

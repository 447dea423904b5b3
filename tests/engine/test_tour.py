"""Layer listing (channels, stride), the layer tour and its contact sheet."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ..conftest import TinyNet, sample_path
from PIL import Image
from torch import nn

from inceptionism import DreamConfig
from inceptionism.cli import main
from inceptionism.engine.tour import shrink, tour
from inceptionism.io.sheet import contact_sheet
from inceptionism.models import DreamNet, LayeredNet, get_spec, layer_table, list_models


class Unpadded(LayeredNet):
    """Valid (unpadded) convolutions: the output is not input / stride, but the stride is."""

    stage_names = ("a", "b", "pool")

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 5, 3, stride=2)
        self.b = nn.Conv2d(5, 7, 5, stride=2)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())


def test_layer_table_measures_channels_and_stride():
    table = layer_table(TinyNet(), input_size=64)
    assert [(i.name, i.channels, i.stride) for i in table] == [("c1", 8, 1), ("c2", 16, 2), ("c3", 16, 4)]
    table = layer_table(Unpadded(), input_size=75)
    assert [(i.name, i.channels, i.stride) for i in table] == [("a", 5, 2), ("b", 7, 4), ("pool", 7, None)]
    assert table[2].stride_text == "global"


def test_lite0_layers_match_the_efficientnet_paper():
    table = {i.name: i for i in layer_table(get_spec("efficientnet_lite0").build(), 224)}
    # Tan & Le 2019, table 1: stages at strides 2, 2, 4, 8, 16, 16, 32, 32 (1, 1, 2, 2, 3, 3, 4, 1 blocks).
    assert {n: table[n].stride for n in ("stem", "b0", "b1", "b3", "b5", "b8", "b11", "b15")} == {
        "stem": 2, "b0": 2, "b1": 4, "b3": 8, "b5": 16, "b8": 16, "b11": 32, "b15": 32}
    assert [table[n].channels for n in ("stem", "b0", "b2", "b4", "b7", "b10", "b14", "b15", "head")] == [
        32, 16, 24, 40, 80, 112, 192, 320, 1280]
    assert (table["logits"].channels, table["logits"].stride) == (1000, None)


@pytest.mark.parametrize("name", [n for n in list_models() if get_spec(n).build is not None])
def test_every_registered_model_lists_its_layers_and_tours(name):
    # Models read from a graph file (inception5h, bvlc_googlenet) have no architecture
    # without their file; tests/models/test_any_model.py tours them on synthetic files.
    spec = get_spec(name)
    net = spec.build()  # random weights: shapes and the tour's mechanics do not need real ones
    table = layer_table(net, spec.input_size)
    assert [i.name for i in table] == list(net.stage_names)
    strides = [i.stride for i in table if i.stride is not None]
    assert strides == sorted(strides) and strides[0] >= 1
    logits = next(i for i in table if i.name == spec.logits_layer)
    assert logits.channels == 1000
    model = DreamNet(net, spec.normalization).eval().requires_grad_(False)
    # 80 pixels: above the smallest input of every ImageNet architecture (Inception v3: 75).
    photo = torch.rand(1, 3, 80, 96, generator=torch.Generator().manual_seed(0))
    dreams = tour(model, photo, net.stage_names, DreamConfig(octaves=1, steps=1))
    assert list(dreams) == list(net.stage_names)
    # (Random weights barely respond deep down, so whether each tile changed is checked with
    # the real weights, in the CLI test below.)
    assert all(d.shape == photo.shape and torch.isfinite(d).all() for d in dreams.values())


def test_contact_sheet_places_each_tile_with_its_label():
    rng = np.random.default_rng(0)
    tiles = [(f"t{i}", Image.fromarray(rng.integers(0, 255, (30 + i, 40, 3), dtype=np.uint8)))
             for i in range(5)]
    sheet, layout = contact_sheet(tiles, columns=3, title="title")
    assert [t.label for t in layout] == ["t0", "t1", "t2", "t3", "t4"]
    a = np.asarray(sheet)
    for (label, img), tile in zip(tiles, layout):
        left, top, right, bottom = tile.box
        np.testing.assert_array_equal(a[top:bottom, left:right], np.asarray(img))
        strip = a[bottom + 1:bottom + 16, left:right]  # the label is drawn under the tile
        assert (strip.max(axis=2) < 100).sum() > 10, f"no label ink under {label}"
    rows = sorted({t.box[1] for t in layout})
    assert len(rows) == 2 and rows[0] > 15  # 3 + 2 tiles, below the title


def test_explore_cli_makes_one_labelled_tile_per_layer(tmp_path, capsys, chelsea):
    photo = tmp_path / "cat.png"
    Image.open(sample_path("chelsea")).resize((90, 60)).save(photo)
    sheet, tiles = tmp_path / "sheet.png", tmp_path / "tiles"
    args = ["explore", str(photo), "-o", str(sheet), "--size", "64", "--octaves", "1",
            "--steps", "1", "--tiles-dir", str(tiles), "-q"]
    assert main(args) == 0, capsys.readouterr().err
    layers = list(get_spec("efficientnet_lite0").build().stage_names)
    with Image.open(sheet) as img:
        meta = json.loads(img.info["inceptionism"])
        a = np.asarray(img.convert("RGB"))
    assert [t["layer"] for t in meta["tour"]] == ["original"] + layers
    assert sorted(p.stem for p in tiles.iterdir()) == sorted(layers)
    original = meta["tour"][0]["box"]
    shrunk = a[original[1]:original[3], original[0]:original[2]]
    assert shrunk.shape == (43, 64, 3)
    for entry in meta["tour"][1:]:
        left, top, right, bottom = entry["box"]
        with Image.open(tiles / f"{entry['layer']}.png") as tile:
            assert json.loads(tile.info["inceptionism"])["objective"] == entry["layer"]
            np.testing.assert_array_equal(a[top:bottom, left:right], np.asarray(tile.convert("RGB")))
        assert not np.array_equal(a[top:bottom, left:right], shrunk)  # each layer dreamed
    # A second run refuses to overwrite the sheet or the tiles.
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err


def test_explore_refuses_unknown_layers(tmp_path, capsys):
    photo = tmp_path / "cat.png"
    Image.open(sample_path("chelsea")).resize((90, 60)).save(photo)
    assert main(["explore", str(photo), "-o", str(tmp_path / "s.png"), "-l", "b3,b99", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Unknown layer 'b99'" in err
    assert not (tmp_path / "s.png").exists()


def test_layers_command_lists_channels_and_strides(capsys):
    assert main(["layers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line[2:].split()[0]: line[2:].split()[1:] for line in lines[2:]}
    assert rows["b10"] == ["112", "16"] and lines[2 + 11].startswith("* b10")
    assert rows["logits"] == ["1000", "global"]
    assert len(rows) == len(get_spec("efficientnet_lite0").build().stage_names)


def test_shrink_never_enlarges():
    x = torch.rand(1, 3, 30, 40)
    assert shrink(x, 100) is x
    assert shrink(x, 20).shape[-2:] == (15, 20)

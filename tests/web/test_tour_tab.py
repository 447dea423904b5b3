"""The Layer tour tab's handlers, called directly: a tour of two layers, a tile click."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from inceptionism.web.tabs.tour import tour, use_tile

from .conftest import Visitor, is_skip, small_photo


class Click:
    """What Gradio hands ``use_tile`` as its ``gr.SelectData``: the index is all it reads."""

    def __init__(self, index: int):
        self.index = index


def test_a_tour_of_two_layers_gives_their_tiles_and_the_sheet(studio, tmp_path):
    photo = small_photo(tmp_path / "cat.png")
    views = list(tour(studio, Visitor("tourist"), photo_path=str(photo), names="b1, b4",
                      size=64, tour_steps_=1))
    assert any("layer b4 (2/2)" in str(v.tour_status) for v in views), views
    last = views[-1]
    assert "Done: 2 layers." in last.tour_status
    assert last.tiles == ["b1", "b4"] and [n for _, n in last.gallery] == ["b1", "b4"]
    for path, _ in last.gallery:
        with Image.open(path) as tile:
            assert max(tile.size) == 64
    assert Path(last.sheet).name == "layer-tour.png" and Path(last.sheet).is_file()
    assert all(is_skip(v.gallery) for v in views[:-1])


def test_a_tour_needs_the_photo_and_known_layers(studio, tmp_path):
    with pytest.raises(gr.Error, match="Upload a photo in the Dream tab first."):
        list(tour(studio))
    photo = small_photo(tmp_path / "cat.png")
    with pytest.raises(gr.Error, match="nolayer"):
        list(tour(studio, photo_path=str(photo), names="nolayer", size=64, tour_steps_=1))
    assert studio.slots.queued == 0


def test_a_tile_click_puts_its_layer_in_the_dream_tab():
    pick = use_tile(["b1", "b4"], Click(1))
    assert pick.layers == ["b4"] and pick.objective == "b4"
    assert pick.tabs.selected == "dream"

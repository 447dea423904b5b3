"""The Layer tour tab's handlers, called directly: a tour of two layers, tiles as they come,
Stop, a tile click."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from inceptionism.web.studio import stop
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
    shown = [v.tiles for v in views if not is_skip(v.gallery)]
    assert shown == [[], ["b1"], ["b1", "b4"], ["b1", "b4"]]  # cleared, then one by one


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


def test_tiles_come_one_by_one_and_a_stopped_tour_keeps_them(studio, tmp_path):
    """A new tour clears the last one's tiles at once; each tile shows when its layer is
    done; Stop after the first keeps it (no sheet)."""
    photo = small_photo(tmp_path / "cat.png")
    job = tour(studio, Visitor("stopper"), photo_path=str(photo), names="b1,b4,b7", size=96,
               tour_steps_=20)  # seconds a layer: Stop comes long before the second is done
    first = next(job)
    assert (first.gallery, first.sheet, first.tiles) == ([], None, [])
    for view in job:
        if not is_skip(view.gallery):
            break
    assert view.tiles == ["b1"] and is_skip(view.sheet)
    stop(studio, Visitor("stopper"))
    rest = list(job)
    assert "Stopped after 1 layer; the tiles made stay below" in rest[-1].tour_status
    assert all(is_skip(v.gallery) or v.tiles == ["b1"] for v in rest)
    assert all(is_skip(v.sheet) for v in rest)

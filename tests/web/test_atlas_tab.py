"""The Channel atlas tab's handlers, called directly: an atlas of a few channels, the
strongest channels of the photo, one-sentence refusals, and a cell click that dreams the
photo with that channel."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from inceptionism.web.tabs.atlas import PICKS, atlas, use_cell

from .conftest import Visitor, is_skip, small_photo

SMALL = dict(layer="b1", size=32, atlas_steps_=4)


class Click:
    """What Gradio hands ``use_cell`` as its ``gr.SelectData``: the index is all it reads."""

    def __init__(self, index: int):
        self.index = index


def test_an_atlas_of_listed_channels_gives_labelled_cells_and_the_sheet(studio):
    views = list(atlas(studio, Visitor("atlas"), channels="3,0,5", **SMALL))
    assert any("/3) ·" in str(v.atlas_status) and "ETA" in str(v.atlas_status)
               for v in views), views
    last = views[-1]
    assert "Done: 3 channels of b1." in last.atlas_status
    assert [caption for _, caption in last.atlas_gallery] == ["channel 3", "channel 0",
                                                              "channel 5"]
    assert last.atlas_cells == [["b1", 3], ["b1", 0], ["b1", 5]]
    for path, _ in last.atlas_gallery:
        with Image.open(path) as cell:
            assert cell.size == (32, 32)
    assert Path(last.atlas_sheet).name == "atlas.png" and Path(last.atlas_sheet).is_file()
    # Cleared first, then each cell as it is drawn.
    assert views[0].atlas_gallery == []
    shown = [v.atlas_gallery for v in views[1:-1] if not is_skip(v.atlas_gallery)]
    assert shown == [last.atlas_gallery[:n] for n in (1, 2, 3)]


def test_the_strongest_channels_of_the_photo(studio, tmp_path):
    photo = str(small_photo(tmp_path / "cat.png"))
    strongest = list(atlas(studio, photo_path=photo, pick=PICKS[1], count=2, **SMALL))[-1]
    weakest = list(atlas(studio, photo_path=photo, pick=PICKS[2], count=2, **SMALL))[-1]
    assert len(strongest.atlas_cells) == len(weakest.atlas_cells) == 2
    assert not {c for _, c in strongest.atlas_cells} & {c for _, c in weakest.atlas_cells}


@pytest.mark.parametrize("controls, words", [
    (dict(layer="b99"), "Unknown layer 'b99'"),
    (dict(layer="b1", channels="0,99"), "Layer b1 has channels 0 to 23; 99 is not one of them."),
    (dict(layer="b1", channels="zero"), "Channels must be 'all' or numbers"),
    (dict(layer="b1", pick=PICKS[1]), "Upload a photo in the Dream tab first"),
])
def test_bad_requests_get_the_librarys_sentence(studio, controls, words):
    with pytest.raises(gr.Error) as info:
        list(atlas(studio, **{**SMALL, **controls}))
    assert words in info.value.message
    assert studio.slots.queued == 0


def test_a_cell_click_dreams_the_photo_with_its_channel():
    pick = use_cell([["b1", 3], ["b8", 37]], Click(1))
    assert pick.objective == "b8/37" and pick.layers == []
    assert pick.tabs.selected == "dream"


def test_in_the_browser_a_cell_click_dreams_the_photo_with_its_channel(page, tmp_path):
    page.locator("#photo input[type=file]").set_input_files(str(small_photo(tmp_path / "c.png")))
    page.locator("#photo-view img").wait_for()
    page.get_by_role("tab", name="Channel atlas").click()
    page.fill("#atlas-channels textarea, #atlas-channels input", "0-3")
    for elem_id, value in (("atlas-size", 32), ("atlas-steps", 8)):
        box = page.locator(f"#{elem_id} input[type=number]")
        box.fill(str(value))
        box.press("Tab")
    page.click("#atlas-btn")
    page.wait_for_function(
        "document.querySelector('#atlas-status').innerText.includes('Done: 4 channels of b8')")
    cells = page.locator("#atlas-gallery button img")
    assert cells.count() == 4
    page.screenshot(path=str(tmp_path.parent / "atlas-tab.png"))
    cells.nth(2).click()
    page.locator("#dream-btn").wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('#objective textarea, #objective input').value === 'b8/2'")
    page.wait_for_function("document.querySelector('#status').innerText.includes('Done')")
    page.screenshot(path=str(tmp_path.parent / "atlas-dreamed.png"))


def test_a_new_atlas_clears_the_last_ones_cells_first(studio):
    first = list(atlas(studio, Visitor("again"), channels="0", **SMALL))[-1]
    assert first.atlas_gallery and first.atlas_sheet
    views = atlas(studio, Visitor("again"), channels="1", **SMALL)
    cleared = next(views)
    assert (cleared.atlas_gallery, cleared.atlas_sheet, cleared.atlas_cells) == ([], None, [])
    list(views)


def test_the_studio_bounds_an_atlas_also_through_its_api(studio):
    with pytest.raises(gr.Error, match="Steps per cell must be a whole number from 1 to 512"):
        list(atlas(studio, Visitor("big"), channels="0", layer="b1", size=32,
                   atlas_steps_=100_000))
    with pytest.raises(gr.Error, match="would draw 192 channels; at most 64"):
        list(atlas(studio, Visitor("big"), channels="all", layer="b14", size=32,
                   atlas_steps_=8))


def test_with_accounts_an_atlas_lies_in_its_users_folder(tmp_path):
    from inceptionism.web.accounts import Accounts, set_account
    from inceptionism.web.slots import Slots
    from inceptionism.web.studio import Studio

    set_account(tmp_path / "accounts", "ann", "pw-ann")
    studio = Studio(root=tmp_path / "root", slots=Slots(1), accounts=Accounts(tmp_path / "accounts"))
    user = Visitor("tab")
    user.username = "ann"
    last = list(atlas(studio, user, channels="0", **SMALL))[-1]
    assert Path(last.atlas_sheet).is_relative_to(studio.root / "uploads" / "users" / "ann")


def test_cells_show_as_they_are_drawn_and_a_stopped_atlas_keeps_them(studio):
    from inceptionism.web.studio import stop

    job = atlas(studio, Visitor("stopper"), channels="0,1,2", layer="b1", size=32,
                atlas_steps_=400)  # a second or more a cell: Stop comes before the second
    for view in job:
        if view.atlas_gallery and not is_skip(view.atlas_gallery):
            break
    assert [c for _, c in view.atlas_gallery] == ["channel 0"]
    assert view.atlas_cells == [["b1", 0]] and is_skip(view.atlas_sheet)
    stop(studio, Visitor("stopper"))
    rest = list(job)
    assert "Stopped after 1 channel; the cells made stay below" in rest[-1].atlas_status
    assert all(is_skip(v.atlas_sheet) for v in rest)

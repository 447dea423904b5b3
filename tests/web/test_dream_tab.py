"""The Dream tab's handlers, called directly (no browser, no server): a dream on a tiny photo,
re-run settings by name, one-sentence refusals, Stop."""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from inceptionism.io.images import read_metadata
from inceptionism.settings import PRESETS, DreamConfig
from inceptionism.web.studio import stop
from inceptionism.web.tabs.dream import (
    check_photo,
    clear_sample,
    dream,
    load_rerun,
    pick_layers,
    pick_model,
    pick_preset,
    pick_sample,
    sync_layers,
)

from .conftest import Visitor, is_skip, small_photo


@pytest.fixture(scope="module")
def dreamed(studio, tmp_path_factory):
    """One dream through the handler: 1 octave x 1 step on a 96x64 photo, every view kept."""
    photo = small_photo(tmp_path_factory.mktemp("dream") / "cat.png")
    views = list(dream(studio, Visitor("dreamer"), photo_path=str(photo), steps_=1, octaves_=1,
                       objective_text="b9", seed_=3, scale_=1.3, size_=0.02,
                       extra_={"tile_size": 256}))
    return views


def test_a_dream_returns_the_png_with_its_parameters(dreamed):
    last = dreamed[-1]
    assert "Done in" in last.status and 'data-state="done"' in last.status
    assert last.result == last.download and Path(last.download).name == "cat-dream.png"
    with Image.open(last.download) as img:
        assert img.size == (96, 64)
    meta = read_metadata(last.download)
    assert meta["objective"] == "b9" and meta["input"] == "cat.png"
    config = meta["config"]
    assert (config["steps"], config["octaves"], config["seed"]) == (1, 1, 3)
    assert (config["octave_scale"], config["step_size"], config["tile_size"]) == (1.3, 0.02, 256)


def test_a_dream_streams_progress_and_a_preview_before_the_result(dreamed):
    statuses = [v.status for v in dreamed if not is_skip(v.status)]
    assert any("octave 1/1 (96x64), step 1/1" in s and "ETA" in s for s in statuses), statuses
    previews = [v for v in dreamed if not is_skip(v.result) and "preview-" in str(v.result)]
    assert previews and previews[0].notes == "Preview after octave 1 of 1."
    assert dreamed.index(previews[0]) < len(dreamed) - 1
    assert all(is_skip(v.download) for v in dreamed[1:-1]), "a download before the end"


def test_a_dream_first_clears_the_previous_result_and_its_download(dreamed):
    assert (dreamed[0].result, dreamed[0].download) == (None, None)


def test_rerun_gives_back_the_settings_by_name(studio, dreamed):
    settings = load_rerun(studio, dreamed[-1].download)
    assert (settings.model, settings.objective, settings.preset) == \
        ("efficientnet_lite0", "b9", "(none)")
    assert (settings.steps, settings.octaves, settings.seed) == (1, 1, 3)
    assert (settings.octave_scale, settings.step_size) == (1.3, 0.02)
    assert settings.layers["value"] == ["b9"]
    assert settings.extra["tile_size"] == 256
    assert settings.rerun_note == "Settings from cat-dream.png (seed 3)."


def uploaded(studio, name: str) -> Path:
    """Where Gradio keeps an upload: a folder of its own inside the studio's folder."""
    folder = studio.root / "uploads" / name.replace(".", "-")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_rerun_of_a_png_without_parameters_is_refused_in_one_sentence(studio):
    """The controls stay as they are (no error on them); the sentence goes under the slot,
    which is cleared for another try."""
    plain = small_photo(uploaded(studio, "plain.png"))
    with pytest.warns(UserWarning, match="plain.png holds no inceptionism parameters."):
        view = load_rerun(studio, str(plain))
    assert view.rerun_note == "Not loaded: plain.png holds no inceptionism parameters."
    assert view.rerun is None
    assert all(is_skip(v) for k, v in view._asdict().items() if k not in ("rerun", "rerun_note"))
    assert all(is_skip(v) for v in load_rerun(studio, None))


def test_a_bad_photo_gets_the_loader_sentence_and_is_cleared(studio, tmp_path):
    junk = uploaded(studio, "junk.png")
    junk.write_bytes(b"this is not an image at all")
    with pytest.warns(UserWarning, match="Input junk.png is not an image file"):
        view = check_photo(studio, str(junk))
    assert "Input junk.png is not an image file that can be read." in view.status
    assert 'data-state="error"' in view.status and str(studio.root) not in view.status
    assert view.photo is None and view.photo_view is None
    with pytest.raises(gr.Error, match="Input junk.png is not an image file") as info:
        list(dream(studio, photo_path=str(junk), steps_=1, octaves_=1))
    assert str(studio.root) not in info.value.message


def test_a_good_photo_is_shown_with_its_size(studio, tmp_path):
    view = check_photo(studio, str(small_photo(tmp_path / "cat.png")))
    assert "cat.png: 96x64. Press Dream." in view.status
    assert view.photo_view.size == (96, 64) and is_skip(view.photo)
    cleared = check_photo(studio, None)
    assert cleared.photo_view is None and is_skip(cleared.status)


def test_a_photo_over_the_pixel_limit_is_refused(studio):
    big = uploaded(studio, "bomb.png")
    Image.new("RGB", (1000, 1000)).save(big)
    with pytest.warns(UserWarning, match="bomb.png is 1000x1000"):  # the page's notice
        view = check_photo(studio, str(big))
    assert "Input bomb.png is 1000x1000 (1 megapixels), more than the limit of 0.2 megapixels." \
        in view.status


def test_dream_refuses_missing_photo_and_bad_settings_before_any_work(studio, tmp_path):
    with pytest.raises(gr.Error, match="Upload a photo first."):
        list(dream(studio))
    photo = str(small_photo(tmp_path / "cat.png"))
    with pytest.raises(gr.Error, match=r"Steps must be a whole number from 0 to 1000 \(got -1\)"):
        list(dream(studio, photo_path=photo, steps_=-1))
    with pytest.raises(TypeError):  # inputs are taken by name: an unknown one is a bug
        list(dream(studio, photo_path=photo, step=1))
    assert studio.slots.queued == 0


def test_stop_cancels_the_visitors_dream_only(studio, tmp_path):
    photo = small_photo(tmp_path / "cat.png", size=(300, 200))
    job = dream(studio, Visitor("a"), photo_path=str(photo), steps_=100, octaves_=4)
    for view in job:
        if "ETA" in str(view.status):
            break  # under way
    else:
        pytest.fail("the dream never reported progress")
    stop(studio, Visitor("b"))  # another visitor's Stop
    assert "step" in next(job).status, "another visitor's Stop stopped this dream"
    stop(studio, Visitor("a"))
    rest = list(job)
    assert "Stopped" in rest[-1].status
    assert rest[-1].notes.startswith("Stopped. ") and "PNG to download" in rest[-1].notes
    assert all(is_skip(v.download) for v in rest)
    assert studio.slots.queued == 0, "the slot was not given back"


def test_sample_photo_is_copied_for_the_photo_input(studio):
    path = Path(pick_sample(studio, "coffee"))
    assert path.name == "coffee.png" and path.is_relative_to(studio.root)
    with Image.open(path) as img:
        assert img.width > 100
    assert is_skip(pick_sample(studio, None))


def test_picked_layers_become_the_objective():
    assert pick_layers(["b1", "b4"]) == "b1,b4"
    assert is_skip(pick_layers([]))


def test_a_new_model_brings_its_layers_and_default_objective():
    pick = pick_model("efficientnet_lite0")
    assert pick.objective == "b10"
    assert pick.layers["value"] == ["b10"]
    assert ("b10: dog faces, snouts, eyes", "b10") in pick.layers["choices"]


def test_a_preset_fills_the_settings_but_not_the_seed():
    settings = pick_preset("painterly")
    expected = PRESETS["painterly"].overrides
    assert (settings.steps, settings.octaves, settings.pyramid, settings.blend) == \
        (expected["steps"], expected["octaves"], "recursive", expected["blend"])
    assert settings.growth == expected["smoothing_growth"] and settings.cascade is True
    assert is_skip(settings.seed)
    assert all(is_skip(v) for v in pick_preset("(none)"))


def test_a_waiting_dream_says_how_many_are_ahead(studio, tmp_path):
    held = studio.slots.enter()
    assert held.wait(0)
    job = dream(studio, Visitor("c"), photo_path=str(small_photo(tmp_path / "cat.png")),
                steps_=1, octaves_=1)
    assert next(job).download is None  # the previous result goes at once
    assert "Waiting: 1 ahead of you." in next(job).status
    with pytest.raises(gr.Error, match="Busy: 2 jobs are ahead of you"):
        list(dream(studio, photo_path=str(tmp_path / "cat.png"), steps_=1, octaves_=1))
    threading.Timer(0.2, held.leave).start()
    assert "Done" in list(job)[-1].status


def test_progress_counts_the_pixels_each_step_dreams(studio, tmp_path):
    """Two octaves of one step each: the first, smaller octave is less than half the work
    (counting steps alone would say half)."""
    photo = small_photo(tmp_path / "cat.png", size=(160, 112))
    views = list(dream(studio, photo_path=str(photo), steps_=1, octaves_=2, scale_=1.4))
    first = next(v.status for v in views if "octave 1/2" in str(v.status))
    assert "octave 1/2 (114x80), step 1/1 · 34% · ETA" in first, first
    assert "Done" in views[-1].status
    # The first octave's 114x80 preview is shown at the photo's size, in the result's place.
    previews = [v.result for v in views if "preview-" in str(v.result)]
    assert len(previews) == 2
    for path in previews:
        with Image.open(path) as img:
            assert img.size == (160, 112)


def test_the_objective_typed_picks_its_layers_in_the_list():
    assert sync_layers("efficientnet_lite0", "b5")["value"] == ["b5"]
    assert sync_layers("efficientnet_lite0", " b7:0.5, class=jellyfish:4,b9,b7")["value"] == \
        ["b7", "b9"]
    assert sync_layers("efficientnet_lite0", "")["value"] == []


def test_an_upload_clears_the_sample_pick():
    assert clear_sample()["value"] is None


def test_a_preset_run_stores_its_preset_and_a_rerun_picks_it_again(studio, tmp_path):
    """Only while the settings are still the preset's: a slider moved since is another look."""
    c = PRESETS["classic"].apply(DreamConfig())
    settings = dict(steps_=c.steps, octaves_=c.octaves, scale_=c.octave_scale,
                    size_=c.step_size, smooth_=c.smoothing, growth_=c.smoothing_growth,
                    cascade_=c.smoothing_cascade, pyramid_=c.pyramid, blend_=c.blend,
                    jitter_=c.jitter)
    photo = str(small_photo(tmp_path / "cat.png", size=(48, 32)))
    classic = list(dream(studio, photo_path=photo, preset_name="classic", **settings))[-1]
    assert read_metadata(classic.download)["preset"] == "classic"
    assert load_rerun(studio, classic.download).preset == "classic"
    moved = list(dream(studio, photo_path=photo, preset_name="classic",
                       **{**settings, "steps_": 1}))[-1]
    assert read_metadata(moved.download)["preset"] is None
    assert load_rerun(studio, moved.download).preset == "(none)"


@pytest.mark.parametrize("text", ["", "   "])
def test_a_blank_objective_box_gets_the_librarys_sentence(studio, tmp_path, text):
    from inceptionism.engine.objectives import EMPTY

    photo = str(small_photo(tmp_path / "cat.png"))
    with pytest.raises(gr.Error) as info:
        list(dream(studio, Visitor("blank"), photo_path=photo, objective_text=text, steps_=1,
                   octaves_=1))
    assert info.value.message == EMPTY


def test_a_rerun_keeps_the_lapnorm_levels(studio, tmp_path):
    photo = str(small_photo(tmp_path / "cat.png"))
    last = list(dream(studio, photo_path=photo, steps_=1, octaves_=1,
                      extra_={"lapnorm": 2}))[-1]
    assert read_metadata(last.download)["config"]["lapnorm"] == 2
    assert load_rerun(studio, last.download).extra["lapnorm"] == 2

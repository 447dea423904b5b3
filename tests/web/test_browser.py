"""End to end in a real headless browser: upload, dream with live previews, download,
re-run from the PNG, Stop, bad uploads, the layer tour's clickable tiles; what each tab shows
after a stopped job; the controls staying true to each other and to what is dreamed."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.io.images import read_metadata

from .conftest import small_photo

DOCS = Path(__file__).resolve().parents[2] / "docs"


def upload(page, elem_id: str, path: Path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))


def set_value(page, elem_id: str, value) -> None:
    """Type into a slider's or number's box, as a visitor does, and leave the box."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


def value_of(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input[type=number]").input_value()


def status(page) -> str:
    return page.locator("#status").inner_text()


def wait_status(page, text: str, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "t => document.querySelector('#status').innerText.includes(t)", arg=text, timeout=timeout)


def dream_settings(page, steps: int, octaves: int) -> None:
    set_value(page, "steps", steps)
    set_value(page, "octaves", octaves)


def rerun_note(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#rerun-note').innerText.includes(t)", arg=text)


def download(page, elem_id: str, target: Path) -> Path:
    link = page.locator(f"#{elem_id} a[download]").first
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    info.value.save_as(target)
    return target


def test_dream_previews_result_and_download(page, tmp_path):
    photo = small_photo(tmp_path / "cat.png", size=(160, 112))  # two octaves above 64 px
    upload(page, "photo", photo)
    page.locator("#photo-view img").wait_for()
    assert "160x112" in status(page)
    dream_settings(page, steps=2, octaves=2)
    page.click("#dream-btn")
    wait_status(page, "Done")
    seen = page.evaluate("window.__seen")
    # The picture after the first octave was shown before the result, with the progress bar.
    assert any("after octave 1 of 2" in n for n in seen["notes"]), seen["notes"]
    assert any("preview-" in src for src in seen["result"]), seen["result"]
    assert seen["result"][-1].endswith("cat-dream.png")
    # Every preview is shown at the photo's size: the picture keeps its place as it grows.
    for src in seen["result"]:
        with Image.open(io.BytesIO(page.request.get(src).body())) as shown:
            assert shown.size == (160, 112), src
    assert any("ETA" in s for s in seen["status"]), seen["status"]
    assert page.locator("#status progress").count() == 1
    out = download(page, "download", tmp_path / "downloaded.png")
    meta = read_metadata(out)
    assert meta["objective"] == "b10"
    assert (meta["config"]["steps"], meta["config"]["octaves"]) == (2, 2)
    assert meta["input"] == "cat.png"
    with Image.open(out) as img:
        assert img.size == (160, 112)
    # Dropped back on Re-run, the downloaded PNG sets the controls it was made with.
    set_value(page, "steps", 7)
    set_value(page, "octaves", 5)
    upload(page, "rerun", out)
    rerun_note(page, "Settings from")
    assert (value_of(page, "steps"), value_of(page, "octaves")) == ("2", "2")


@pytest.fixture
def busy_core():
    """Another process keeping a core busy for the test's length: a re-run must not depend on
    what else the machine is doing."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield
    child.kill()
    child.wait()


def test_rerun_from_png_sets_controls_and_dreams_the_same(page, tmp_path, busy_core):
    from inceptionism.jobs import DreamRequest, run_dream

    photo = small_photo(tmp_path / "cat.png")
    earlier = tmp_path / "earlier.png"
    overrides = dict(steps=3, octaves=2, octave_scale=1.3, step_size=0.02, seed=7)
    run_dream(DreamRequest(input=photo, output=earlier, objective="b7:0.5,b9",
                           overrides=overrides, download_progress=False))
    upload(page, "photo", photo)
    page.locator("#photo-view img").wait_for()
    upload(page, "rerun", earlier)
    rerun_note(page, "Settings from")
    assert page.locator("#objective textarea, #objective input").first.input_value() == \
        "b7:0.5,b9"
    assert value_of(page, "steps") == "3"
    assert value_of(page, "octaves") == "2"
    assert float(value_of(page, "octave-scale")) == 1.3
    assert float(value_of(page, "step-size")) == 0.02
    assert page.locator("#seed input").input_value() == "7"
    page.click("#dream-btn")
    wait_status(page, "Done")
    again = download(page, "download", tmp_path / "again.png")
    with Image.open(earlier) as a, Image.open(again) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b)), "the re-run is not identical"


def test_stop_during_a_long_dream_and_dream_again(page, tmp_path):
    photo = small_photo(tmp_path / "cat.png", size=(300, 200))
    upload(page, "photo", photo)
    page.locator("#photo-view img").wait_for()
    dream_settings(page, steps=100, octaves=4)  # minutes of work if not stopped
    page.click("#dream-btn")
    wait_status(page, "ETA")  # the dream is under way
    t0 = time.monotonic()
    page.click("#stop-btn")
    wait_status(page, "Stopped")
    stopped_after = time.monotonic() - t0
    assert stopped_after < 30, f"Stop took {stopped_after:.1f} s"
    # The page recovers: the next dream runs to the end.
    dream_settings(page, steps=1, octaves=1)
    page.click("#dream-btn")
    wait_status(page, "Done")


def error_text(page, text: str) -> None:
    """Wait until the status line shows ``text`` as an error, and the upload is cleared."""
    wait_status(page, text)
    assert page.locator("#status [data-state=error]").count() == 1
    page.locator("#photo input[type=file]").wait_for(state="attached")


def test_bad_uploads_show_one_sentence_and_the_server_keeps_serving(page, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image at all")
    upload(page, "photo", junk)
    error_text(page, "Input junk.png is not an image file that can be read.")
    truncated = tmp_path / "cut.png"
    small_photo(tmp_path / "whole.png")
    truncated.write_bytes((tmp_path / "whole.png").read_bytes()[:400])
    upload(page, "photo", truncated)
    error_text(page, "Input cut.png is truncated or corrupt")
    bomb = tmp_path / "bomb.png"  # 1 megapixel of one colour: a small file, too many pixels
    Image.new("RGB", (1000, 1000)).save(bomb)
    upload(page, "photo", bomb)
    error_text(page, "Input bomb.png is 1000x1000 (1 megapixels), more than the limit")
    # No server folder is named in any message.
    assert "inceptionism-studio" not in page.content()
    good = small_photo(tmp_path / "good.png")
    upload(page, "photo", good)
    page.wait_for_function("document.querySelector('#status').innerText.includes('96x64')")
    set_value(page, "steps", 1)
    set_value(page, "octaves", 1)
    page.click("#dream-btn")
    wait_status(page, "Done")


def test_oversized_upload_is_refused_in_the_page(page, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(os.urandom(2 * 2**20))  # over the server's 1 MiB limit
    upload(page, "photo", big)
    page.get_by_text("exceed", exact=False).first.wait_for()


def test_layer_tour_tile_click_picks_the_layer(page, tmp_path):
    upload(page, "photo", small_photo(tmp_path / "cat.png"))
    page.locator("#photo-view img").wait_for()
    page.get_by_role("tab", name="Layer tour").click()
    page.fill("#tour-layers textarea, #tour-layers input", "b1,b4")
    set_value(page, "tour-size", 64)
    set_value(page, "tour-steps", 1)
    page.click("#tour-btn")
    page.wait_for_function(
        "document.querySelector('#tour-status').innerText.includes('Done: 2 layers')")
    tiles = page.locator("#tour-gallery button img")
    assert tiles.count() == 2
    tiles.nth(1).click()
    page.locator("#dream-btn").wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('#objective textarea, #objective input').value === 'b4'")


def test_screenshot_mid_dream(page, tmp_path):
    """The README's picture of the page, taken while a dream runs. Regenerate it with
    INCEPTIONISM_DOCS=1 python -m pytest tests/web/test_browser.py -k screenshot"""
    target = DOCS / "studio.png" if os.environ.get("INCEPTIONISM_DOCS") else tmp_path / "s.png"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#sample label", has_text="chelsea").click()
    page.locator("#photo-view img").wait_for()
    dream_settings(page, steps=8, octaves=3)
    page.click("#dream-btn")
    page.wait_for_function("document.querySelector('#notes').innerText.includes('octave 2 of')")
    page.screenshot(path=str(target))
    page.click("#stop-btn")
    wait_status(page, "Stopped")
    assert target.stat().st_size > 10_000


def test_each_visitor_has_their_own_job_and_results(browser, server, page, tmp_path):
    """Visitor B's Stop does not stop visitor A's dream, and B never sees A's result."""
    other = browser.new_context(viewport={"width": 1280, "height": 1000})
    b = other.new_page()
    b.set_default_timeout(120_000)
    b.goto(server.url)
    b.wait_for_selector("#dream-btn")
    upload(page, "photo", small_photo(tmp_path / "cat.png", size=(160, 112)))
    page.locator("#photo-view img").wait_for()
    dream_settings(page, steps=60, octaves=2)
    page.click("#dream-btn")
    wait_status(page, "ETA")
    b.click("#stop-btn")
    assert "ETA" in status(page), "A's dream ended before B pressed Stop: make it longer"
    wait_status(page, "Done")
    assert "Stopped" not in " ".join(page.evaluate("window.__seen")["status"])
    assert b.locator("#result img").count() == 0
    assert b.locator("#download a").count() == 0
    other.close()


# --- each tab after a stopped job, and the controls agreeing ------------------------------------

ERROR_BADGES = "[data-testid=status-tracker] .error"  # Gradio's red "Error" on a component
ERROR_TOASTS = ".toast-body.error"  # and its notice of an error


def wait_text(page, selector: str, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
                           arg=[selector, text], timeout=timeout)


def docs_or_tmp(tmp_path: Path, name: str) -> Path:
    """A screenshot for the docs when INCEPTIONISM_DOCS=1, else a throwaway one."""
    return DOCS / name if os.environ.get("INCEPTIONISM_DOCS") else tmp_path / name


def test_a_plain_photo_on_rerun_leaves_every_control_without_an_error(page, tmp_path):
    upload(page, "rerun", small_photo(tmp_path / "plain.png"))
    page.get_by_text("plain.png holds no inceptionism parameters.").first.wait_for()
    upload(page, "photo", small_photo(tmp_path / "cat.png"))
    wait_status(page, "96x64")
    dream_settings(page, steps=1, octaves=1)
    page.click("#dream-btn")
    wait_status(page, "Done")
    assert page.locator(ERROR_BADGES).count() == 0, page.locator(ERROR_BADGES).count()
    assert page.locator(ERROR_TOASTS).count() == 0  # the sentence is a warning, not an error
    rerun_note(page, "Not loaded: plain.png holds no inceptionism parameters.")


def test_loaded_settings_are_confirmed_under_the_rerun_slot(page, tmp_path):
    from inceptionism.jobs import DreamRequest, run_dream

    earlier = tmp_path / "earlier.png"
    run_dream(DreamRequest(input=small_photo(tmp_path / "cat.png", size=(48, 32)),
                           output=earlier, overrides=dict(steps=1, octaves=1),
                           download_progress=False))
    upload(page, "rerun", earlier)
    note = page.get_by_text("Settings from earlier.png").first
    note.wait_for()
    slot, said = page.locator("#rerun").bounding_box(), note.bounding_box()
    gap = said["y"] - (slot["y"] + slot["height"])
    assert 0 <= gap < 60 and slot["x"] <= said["x"] < slot["x"] + slot["width"], (slot, said)


def test_after_stop_only_the_stopped_dream_is_shown_and_nothing_is_offered(page, tmp_path):
    upload(page, "photo", small_photo(tmp_path / "cat.png", size=(300, 200)))
    wait_status(page, "300x200")
    dream_settings(page, steps=1, octaves=1)
    page.click("#dream-btn")
    wait_status(page, "Done")
    page.locator("#download a[download]").first.wait_for()  # the first, finished dream
    dream_settings(page, steps=100, octaves=4)  # minutes of work if not stopped
    page.click("#dream-btn")
    wait_text(page, "#notes", "after octave 1 of")
    page.click("#stop-btn")
    wait_status(page, "Stopped")
    assert page.locator("#download a").count() == 0, "the download offers another dream"
    assert "preview-" in page.locator("#result img").get_attribute("src")
    # The picture has no download of its own: a preview carries no parameters.
    assert page.locator("#result button[aria-label=Download]").count() == 0
    wait_text(page, "#notes", "only a finished dream has a PNG to download")
    assert page.locator(ERROR_TOASTS).count() == 0, page.locator(ERROR_TOASTS).all_inner_texts()
    page.screenshot(path=str(docs_or_tmp(tmp_path, "studio-stopped-dream.png")))


def test_the_objective_typed_and_the_layer_chips_agree(page):
    box = page.locator("#objective textarea, #objective input").first
    box.fill("")
    box.press_sequentially("b5")  # typed, as a visitor does
    wait_text(page, "#layers", "b5: concentric rings")
    assert "b10" not in page.locator("#layers").inner_text()
    box.fill("")
    box.press_sequentially("b7:0.5,class=jellyfish:4,b9")
    wait_text(page, "#layers", "b9: eyes", timeout=20_000)
    chips = page.locator("#layers").inner_text()
    assert "b7: fingerprint ripples" in chips and "b5" not in chips


def dropdown_options(page, elem_id: str):
    """Open a dropdown; its options (a ✓ marks those chosen)."""
    box = page.locator(f"#{elem_id} input").first
    box.click()
    options = page.locator(f"#{box.get_attribute('aria-controls')} li")
    options.first.wait_for()
    return options


def option_texts(options) -> list[str]:
    return [t.replace("✓", "").strip() for t in options.all_inner_texts()]


def test_the_model_list_offers_only_models_that_run_here_with_their_layers_described(page):
    from inceptionism.models import get_spec, list_models

    here = [m for m in list_models() if get_spec(m).weights.status() in ("embedded", "cached")]
    options = dropdown_options(page, "model")
    assert option_texts(options) == here
    options.filter(has_text="efficientnet_lite1").first.click()
    page.wait_for_function("document.querySelector('#model input').value === "
                           "'efficientnet_lite1'")
    page.wait_for_function("document.querySelector('#layers').innerText.includes('b11: ')")
    texts = option_texts(dropdown_options(page, "layers"))
    assert len(texts) > 20 and all(": " in t for t in texts), texts


def test_an_upload_clears_the_sample_pick(page, tmp_path):
    page.locator("#sample label", has_text="chelsea").click()
    page.locator("#photo-view img").wait_for()
    assert page.locator("#sample input:checked").count() == 1
    page.locator("#photo button[aria-label=Clear]").click()  # the sample's file goes
    upload(page, "photo", small_photo(tmp_path / "cat.png"))
    wait_status(page, "cat.png: 96x64")
    page.wait_for_function("document.querySelectorAll('#sample input:checked').length === 0",
                           timeout=10_000)
    set_value(page, "steps", 1)  # one more round trip: any answer to the upload is in by now
    page.wait_for_function("document.querySelector('#steps input[type=number]').value === '1'")
    assert page.locator(ERROR_TOASTS).count() == 0, page.locator(ERROR_TOASTS).all_inner_texts()


def test_a_preset_run_stores_its_preset(page, tmp_path):
    upload(page, "photo", small_photo(tmp_path / "cat.png", size=(48, 32)))
    wait_status(page, "48x32")
    dropdown_options(page, "preset").filter(has_text="classic").first.click()
    page.wait_for_function("document.querySelector('#steps input[type=number]').value === '10'")
    page.click("#dream-btn")
    wait_status(page, "Done")
    meta = read_metadata(download(page, "download", tmp_path / "classic.png"))
    assert meta["preset"] == "classic"


def test_the_layer_tour_shows_tiles_as_they_come_and_keeps_them_when_stopped(page, tmp_path):
    upload(page, "photo", small_photo(tmp_path / "cat.png"))
    wait_status(page, "96x64")
    page.get_by_role("tab", name="Layer tour").click()
    page.fill("#tour-layers textarea, #tour-layers input", "b1,b4")
    set_value(page, "tour-size", 64)
    set_value(page, "tour-steps", 1)
    page.click("#tour-btn")
    wait_text(page, "#tour-status", "Done: 2 layers")
    old = page.locator("#tour-gallery button img").first.get_attribute("src")
    page.fill("#tour-layers textarea, #tour-layers input", "b7,b10,b13")
    set_value(page, "tour-size", 400)
    set_value(page, "tour-steps", 20)  # seconds a layer
    page.click("#tour-btn")
    # The first new tile shows while the tour goes on; the last tour's are gone.
    page.wait_for_function(
        "document.querySelectorAll('#tour-gallery button img').length === 1 && "
        "!document.querySelector('#tour-status').innerText.includes('Done')")
    assert page.locator("#tour-gallery button img").first.get_attribute("src") != old
    page.click("#tour-stop")
    wait_text(page, "#tour-status", "Stopped after")
    assert page.locator("#tour-gallery button img").count() >= 1
    assert page.locator("#tour-sheet a").count() == 0
    page.screenshot(path=str(docs_or_tmp(tmp_path, "studio-stopped-tour.png")))


def test_the_video_tab_reads_sizes_shows_progress_loops_and_clears_when_stopped(page,
                                                                                tmp_path):
    upload(page, "photo", small_photo(tmp_path / "cat.png"))
    wait_status(page, "96x64")
    page.get_by_role("tab", name="Video").click()
    size = page.locator("#frame-size textarea, #frame-size input").first
    size.fill("64 x 48")
    set_value(page, "frames", 4)
    set_value(page, "frame-steps", 1)
    page.click("#zoom-btn")
    wait_text(page, "#video-status", "Done: 4 frames")
    video = page.locator("#video-out video")
    video.wait_for()
    assert video.evaluate("v => v.loop"), "the loop plays once"
    size.fill("400 x 300")
    set_value(page, "frames", 60)
    set_value(page, "frame-steps", 20)
    page.click("#zoom-btn")
    # Progress within the first (large) frame, before any frame is done.
    wait_text(page, "#video-status", "frame 1/60, octave")
    page.click("#video-stop")
    wait_text(page, "#video-status", "Stopped; no video was made")
    assert page.locator("#video-out video").count() == 0, "the last video is still offered"
    page.screenshot(path=str(docs_or_tmp(tmp_path, "studio-stopped-video.png")))
    size.fill("4000 x 4000")  # over this server's pixel limit: one sentence, at once
    page.click("#zoom-btn")
    page.get_by_text("A 4000x4000 frame is 16 megapixels, more than the limit").first.wait_for(
        timeout=30_000)


def test_the_atlas_shows_cells_as_they_come_and_keeps_them_when_stopped(page, tmp_path):
    page.get_by_role("tab", name="Channel atlas").click()
    page.fill("#atlas-channels textarea, #atlas-channels input", "0-7")
    set_value(page, "atlas-size", 64)
    set_value(page, "atlas-steps", 512)  # seconds a cell: Stop comes long before the last
    page.click("#atlas-btn")
    page.wait_for_function("document.querySelectorAll('#atlas-gallery button img').length >= 1"
                           " && !document.querySelector('#atlas-status').innerText.includes('Done')")
    page.click("#atlas-stop")
    wait_text(page, "#atlas-status", "Stopped after")
    assert page.locator("#atlas-gallery button img").count() >= 1
    assert page.locator("#atlas-sheet a").count() == 0
    page.screenshot(path=str(docs_or_tmp(tmp_path, "studio-stopped-atlas.png")))

"""End to end in a real headless browser: upload, dream with live previews, download,
re-run from the PNG, Stop, bad uploads, the layer tour's clickable tiles."""

from __future__ import annotations

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
    page.wait_for_function("document.querySelector('#notes').innerText.includes('Settings from')")
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
    page.wait_for_function("document.querySelector('#notes').innerText.includes('Settings from')")
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

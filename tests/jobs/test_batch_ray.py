"""Batches on a real Ray cluster started by the test session on 127.0.0.1 (not mocked)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.io.batch import discover, read_manifest
from inceptionism.io.images import read_metadata
from inceptionism.jobs.batch import drive, make_spec, photo_backend
from inceptionism.jobs.recipe import Recipe
from inceptionism.settings import DreamConfig

pytest.importorskip("ray")

RECIPE = Recipe(model="efficientnet_lite0", objective="b10", config=DreamConfig(octaves=2, steps=3))


@pytest.fixture(scope="module")
def photos(tmp_path_factory, chelsea) -> Path:
    """Six small crops of the cat, in a folder with a sub-folder, plus a broken file."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "sub").mkdir()
    for i in range(6):
        crop = chelsea[20 * i:20 * i + 72, 30 * i:30 * i + 96]
        where = folder / "sub" if i % 2 else folder
        Image.fromarray((crop * 255).astype(np.uint8)).save(where / f"p{i}.jpg", quality=95)
    return folder


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def reference(photos: Path, tmp_path_factory) -> Path:
    """The one-process batch, one PyTorch thread: what every other backend must give."""
    out = tmp_path_factory.mktemp("inline")
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    summary = drive(discover([photos], recursive=True), out, spec, photo_backend(spec))
    assert summary.done == 6 and summary.failed == 0
    return out


@pytest.fixture(scope="module")
def inline_out(photos, tmp_path_factory, one_thread) -> Path:
    return reference(photos, tmp_path_factory)


def test_ray_batch_gives_the_one_process_images_and_records_a_broken_input(
        ray_cluster, photos, inline_out, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for p in photos.rglob("*.jpg"):
        target = mixed / p.relative_to(photos)
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(p.read_bytes())
    (mixed / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    out = tmp_path / "out"
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    backend = photo_backend(spec, workers=2, ray="")
    summary = drive(discover([mixed], recursive=True), out, spec, backend)
    assert (summary.done, summary.failed, summary.skipped) == (6, 1, 0)
    # Every dream is bit for bit the one-process dream (both ran one thread per worker).
    for ref in inline_out.rglob("*.png"):
        ray_out = out / ref.relative_to(inline_out)
        assert np.array_equal(pixels(ray_out), pixels(ref)), ray_out
        assert read_metadata(ray_out) == read_metadata(ref)
    entries = {Path(e["input"]).name: e for e in read_manifest(out / "manifest.jsonl")}
    assert len(entries) == 7
    broken = entries.pop("broken.jpg")
    assert broken["status"] == "failed" and broken["output"] is None
    assert broken["error"].startswith(f"Input {mixed / 'sub' / 'broken.jpg'} is ")
    assert broken["error"].count(".") >= 1 and "\n" not in broken["error"]
    assert all(e["status"] == "done" and Path(e["output"]).is_file() for e in entries.values())
    workers = {e["worker"] for e in entries.values()}
    assert all(w.startswith("ray-") for w in workers) and len(workers) == 2  # both actors worked
    assert not list(out.rglob("*.part"))


def test_a_worker_killed_mid_batch_loses_nothing(ray_cluster, photos, inline_out, tmp_path):
    """SIGKILL one actor's process while it holds photos: Ray restarts it and re-runs them
    (max_restarts / max_task_retries); every output is complete and right."""
    out = tmp_path / "out"
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    backend = photo_backend(spec, workers=2, ray="")
    killed: list[int] = []

    def kill_the_other_worker(progress):
        if killed or progress.last.status != "done":
            return
        first = int(progress.last.worker.rsplit("-", 1)[1])
        victim = next(pid for pid in backend.pids if pid != first)
        os.kill(victim, signal.SIGKILL)  # it still holds at least one photo in flight
        killed.append(victim)

    summary = drive(discover([photos], recursive=True), out, spec, backend,
                        callback=kill_the_other_worker)
    assert killed, "no worker was killed"
    assert (summary.done, summary.failed) == (6, 0)
    for ref in inline_out.rglob("*.png"):
        assert np.array_equal(pixels(out / ref.relative_to(inline_out)), pixels(ref))
    entries = read_manifest(out / "manifest.jsonl")
    pids = {int(e["worker"].rsplit("-", 1)[1]) for e in entries}
    assert pids - set(backend.pids), "no photo was made by the restarted worker"
    assert not list(out.rglob("*.part"))


def test_explore_on_ray_gives_the_local_sheet(ray_cluster, tmp_path, photos, one_thread):
    from inceptionism.cli import main

    photo = photos / "p0.jpg"
    common = ["explore", str(photo), "-l", "b2,b6,b10", "--size", "64", "--steps", "2", "-q"]
    assert main([*common, "-o", str(tmp_path / "local.png"), "--tiles-dir", str(tmp_path / "a")]) == 0
    assert main([*common, "-o", str(tmp_path / "ray.png"), "--tiles-dir", str(tmp_path / "b"),
                 "--ray"]) == 0
    assert np.array_equal(pixels(tmp_path / "local.png"), pixels(tmp_path / "ray.png"))
    for name in ("b2", "b6", "b10"):
        assert np.array_equal(pixels(tmp_path / "a" / f"{name}.png"), pixels(tmp_path / "b" / f"{name}.png"))

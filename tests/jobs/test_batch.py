"""Local batches: discovery, output names, resume, bad inputs, folders that cannot be written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inceptionism.cli import main
from inceptionism.errors import InceptionismError
from inceptionism.io.batch import OutputFolderError, discover, plan_outputs, read_manifest
from inceptionism.jobs.batch import drive, make_spec, photo_backend
from inceptionism.jobs.recipe import Recipe
from inceptionism.settings import DreamConfig
from tests.cli.test_commands import open_dir, run_unprivileged  # noqa: F401  (a fixture and a helper)

FAST = ["--octaves", "2", "--steps", "2"]
RECIPE = Recipe(model="efficientnet_lite0", objective="b10", config=DreamConfig(octaves=2, steps=2))


def make_photos(folder: Path, chelsea, n: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        crop = chelsea[15 * i:15 * i + 64, 25 * i:25 * i + 80]
        path = folder / f"p{i}.jpg"
        Image.fromarray((crop * 255).astype(np.uint8)).save(path, quality=95)
        paths.append(path)
    return paths


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file's inode and bytes: a file rewritten, even with the same bytes, shows."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- discovery and output names --------------------------------------------------------------


def test_discover_files_folders_globs_and_recursion(tmp_path, chelsea):
    make_photos(tmp_path / "a", chelsea, 2)
    make_photos(tmp_path / "a" / "deep", chelsea, 1)
    (tmp_path / "a" / "notes.txt").write_text("not a photo")
    (tmp_path / "a" / ".hidden.jpg").write_bytes(b"x")
    rel = lambda items: sorted(str(i.relative) for i in items)  # noqa: E731
    assert rel(discover([tmp_path / "a"])) == ["p0.jpg", "p1.jpg"]
    assert rel(discover([tmp_path / "a"], recursive=True)) == ["deep/p0.jpg", "p0.jpg", "p1.jpg"]
    assert rel(discover([str(tmp_path / "a" / "*.jpg")])) == ["p0.jpg", "p1.jpg"]
    assert rel(discover([str(tmp_path / "a" / "**" / "*.jpg")], recursive=True)) == [
        "deep/p0.jpg", "p0.jpg", "p1.jpg"]
    # An explicit file is tried whatever its extension, and named after itself; duplicates once.
    assert rel(discover([tmp_path / "a" / "notes.txt", tmp_path / "a" / "p0.jpg",
                         tmp_path / "a" / "p0.jpg"])) == ["notes.txt", "p0.jpg"]
    # Outputs inside the input folder are never taken as inputs.
    assert rel(discover([tmp_path / "a"], recursive=True, exclude=tmp_path / "a" / "deep")) == [
        "p0.jpg", "p1.jpg"]
    with pytest.raises(InceptionismError, match="does not exist"):
        discover([tmp_path / "nope"])
    with pytest.raises(InceptionismError, match="No file matches"):
        discover([str(tmp_path / "*.tif")])


def test_outputs_keep_relative_paths_and_never_land_on_inputs(tmp_path, chelsea):
    make_photos(tmp_path / "in", chelsea, 1)
    make_photos(tmp_path / "in" / "sub", chelsea, 1)
    items = discover([tmp_path / "in"], recursive=True)
    assert plan_outputs(items, tmp_path / "out", "png") == [tmp_path / "out" / "p0.png",
                                                            tmp_path / "out" / "sub" / "p0.png"]
    # Writing .jpg dreams into the input folder would replace the photos: refused up front.
    with pytest.raises(InceptionismError, match="would overwrite the input"):
        plan_outputs(items, tmp_path / "in", "jpg")
    shutil.copy(tmp_path / "in" / "p0.jpg", tmp_path / "in" / "p0.png")
    with pytest.raises(InceptionismError, match="would both be written to"):
        plan_outputs(discover([tmp_path / "in"]), tmp_path / "out", "png")


def test_cli_refuses_to_overwrite_inputs_and_leaves_them_alone(capsys, tmp_path, chelsea):
    make_photos(tmp_path / "in", chelsea, 2)
    before = snapshot(tmp_path / "in")
    code = main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "in"), "--format", "jpg",
                 *FAST, "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "would overwrite the input" in err
    assert snapshot(tmp_path / "in") == before


# --- runs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory, chelsea, one_thread):
    """An uninterrupted one-process batch of four photos."""
    base = tmp_path_factory.mktemp("ref")
    make_photos(base / "in", chelsea)
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    summary = drive(discover([base / "in"]), base / "out", spec, photo_backend(spec))
    assert summary.done == 4
    return base


def test_resume_after_interruption_does_only_the_missing_files(tmp_path, reference, one_thread):
    shutil.copytree(reference / "in", tmp_path / "in")
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    items = discover([tmp_path / "in"])

    def stop_after_two(progress):
        if progress.done == 2:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of a batch

    with pytest.raises(KeyboardInterrupt):
        drive(items, tmp_path / "out", spec, photo_backend(spec), callback=stop_after_two)
    first = snapshot(tmp_path / "out")
    assert sorted(k for k in first if k.endswith(".png")) == ["p0.png", "p1.png"]
    summary = drive(items, tmp_path / "out", spec, photo_backend(spec))
    assert (summary.done, summary.skipped, summary.failed) == (2, 2, 0)
    manifest = {Path(e["input"]).name: e["status"] for e in read_manifest(summary.manifest)}
    assert manifest == {"p0.jpg": "skipped", "p1.jpg": "skipped", "p2.jpg": "done", "p3.jpg": "done"}
    after = snapshot(tmp_path / "out")
    assert after["p0.png"] == first["p0.png"] and after["p1.png"] == first["p1.png"]  # untouched
    for name in ("p0.png", "p1.png", "p2.png", "p3.png"):  # == the uninterrupted batch
        assert np.array_equal(pixels(tmp_path / "out" / name), pixels(reference / "out" / name))
    # A third run does nothing; a changed recipe or photo is not taken as done.
    assert drive(items, tmp_path / "out", spec, photo_backend(spec)).skipped == 4
    (tmp_path / "in" / "p3.jpg").write_bytes((tmp_path / "in" / "p0.jpg").read_bytes())
    summary = drive(items, tmp_path / "out", spec, photo_backend(spec))
    assert (summary.skipped, summary.failed) == (3, 1)  # p3.png exists: replaced only with force
    entry = [e for e in read_manifest(summary.manifest) if e["status"] == "failed"][0]
    assert "already exists" in entry["error"] and "overwriting" in entry["error"]
    summary = drive(items, tmp_path / "out", spec, photo_backend(spec), force=True)
    assert (summary.done, summary.skipped) == (1, 3)
    assert np.array_equal(pixels(tmp_path / "out" / "p3.png"), pixels(reference / "out" / "p0.png"))


def test_two_worker_processes_give_the_one_process_images(tmp_path, reference):
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    summary = drive(discover([reference / "in"]), tmp_path / "out", spec,
                        photo_backend(spec, workers=2))
    assert summary.done == 4
    for name in ("p0.png", "p1.png", "p2.png", "p3.png"):
        assert np.array_equal(pixels(tmp_path / "out" / name), pixels(reference / "out" / name))


def test_cli_bad_file_is_recorded_and_the_batch_goes_on(capsys, tmp_path, chelsea, one_thread):
    make_photos(tmp_path / "in", chelsea, 2)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    code = main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST, "-q"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    broken = tmp_path / "in" / "broken.png"
    assert err[0] == f"failed: {broken}: Input {broken} is truncated or corrupt (Truncated File Read)."
    assert err[1].startswith("2 done, 0 skipped, 1 failed of 3 photos in ")
    assert err[2].startswith("error: 1 of 3 photos could not be dreamed")
    assert len(err) == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.jsonl", "p0.png", "p1.png"]


# --- output folders that cannot be written ---------------------------------------------------


def test_read_only_output_folder_is_one_clear_error(open_dir, chelsea):  # noqa: F811
    photos = make_photos(open_dir / "in", chelsea, 2)
    for p in [open_dir / "in", *photos]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    readonly = open_dir / "readonly"
    readonly.mkdir()
    os.chmod(readonly, 0o555)
    err_file = open_dir / "stderr.txt"
    code = run_unprivileged(["batch", str(open_dir / "in"), "-o", str(readonly), *FAST, "-q"],
                            err_file)
    assert code == 1, err_file.read_text()
    assert err_file.read_text() == f"error: Output folder {readonly} is not writable.\n"
    assert list(readonly.iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 48 KiB tmpfs: room for the first dreams only. Needs root (mount); skipped elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root, or no mount permission)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_full_output_folder_is_one_clear_error(capsys, tmp_path, small_disk, chelsea, one_thread):
    photos = []
    for i in range(6):  # larger, noisier photos: each dream is ~20 KB as PNG
        rgb = np.random.default_rng(i).integers(0, 256, (96, 96, 3), dtype=np.uint8)
        photos.append(tmp_path / f"n{i}.png")
        Image.fromarray(rgb).save(photos[-1])
    out = small_disk / "out"
    code = main(["batch", *map(str, photos), "-o", str(out), *FAST, "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"error: Output folder {out} is full (no space left on the device); free some "
                   "space and run the same command again to go on.\n")
    assert not list(out.glob(".*.part"))  # no partial file left
    made = sorted(out.glob("*.png"))
    assert 0 < len(made) < 6
    for p in made:  # what was written is whole
        assert pixels(p).shape == (96, 96, 3)


def test_run_batch_raises_output_folder_error_on_a_file(tmp_path, chelsea):
    make_photos(tmp_path / "in", chelsea, 1)
    (tmp_path / "out").write_text("a file")
    spec = make_spec(RECIPE, ".png", "embedded", threads=1)
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        drive(discover([tmp_path / "in"]), tmp_path / "out", spec, photo_backend(spec))


def test_batch_job_with_stored_parameters_and_outputs_that_re_run(tmp_path, chelsea, one_thread):
    """The batch job takes an earlier output's recipe, and each of its outputs re-runs with
    `dream --params-from` to the same pixels (so what it stores is the whole recipe)."""
    from inceptionism.jobs import BatchRequest, CancelToken, Hooks, run_batch

    photos = make_photos(tmp_path / "in", chelsea, 2)
    first = tmp_path / "first.png"
    assert main(["dream", str(photos[0]), "-o", str(first), "-l", "b7", "--steps", "3",
                 "--octaves", "2", "--seed", "5", "-q"]) == 0
    result = run_batch(BatchRequest(inputs=[tmp_path / "in"], outdir=tmp_path / "out",
                                    params_from=first, overrides={"seed": 6}))
    assert (result.done, result.failed) == (2, 0)
    again = tmp_path / "again.png"
    assert main(["dream", str(photos[1]), "-o", str(again), "--params-from",
                 str(tmp_path / "out" / "p1.png"), "-q"]) == 0
    assert np.array_equal(pixels(again), pixels(tmp_path / "out" / "p1.png"))
    from inceptionism.io.images import read_metadata

    meta = read_metadata(tmp_path / "out" / "p1.png")
    assert (meta["objective"], meta["config"]["seed"], meta["config"]["steps"]) == ("b7", 6, 3)
    # A cancel token stops the job between photos; the same request later does the rest.
    cancel = CancelToken()
    from inceptionism.errors import Cancelled

    def stop(progress):
        cancel.cancel()

    with pytest.raises(Cancelled):
        run_batch(BatchRequest(inputs=[tmp_path / "in"], outdir=tmp_path / "out2",
                               objective="b5", config=DreamConfig(octaves=2, steps=2)),
                  Hooks(on_photo=stop, cancel=cancel))
    assert len(list((tmp_path / "out2").glob("*.png"))) == 1
    result = run_batch(BatchRequest(inputs=[tmp_path / "in"], outdir=tmp_path / "out2",
                                    objective="b5", config=DreamConfig(octaves=2, steps=2)))
    assert (result.done, result.skipped) == (1, 1)


def test_an_output_made_before_a_setting_existed_counts_as_made_with_its_default(tmp_path):
    import dataclasses
    import json

    from PIL import PngImagePlugin

    from inceptionism.jobs.batch import already_done, recipe_metadata

    def stored(config: DreamConfig, drop: tuple[str, ...] = ()) -> Path:
        meta = {**recipe_metadata(Recipe("efficientnet_lite0", "b3", config), "w"),
                "input_sha256": "abc"}
        meta["config"] = {k: v for k, v in meta["config"].items() if k not in drop}
        info = PngImagePlugin.PngInfo()
        info.add_text("inceptionism", json.dumps(meta))
        path = tmp_path / f"out-{len(list(tmp_path.iterdir()))}.png"
        Image.new("RGB", (8, 8)).save(path, pnginfo=info)
        return path

    config = DreamConfig(precision="float32")
    want = recipe_metadata(Recipe("efficientnet_lite0", "b3", config), "w")
    with_lapnorm = recipe_metadata(
        Recipe("efficientnet_lite0", "b3", dataclasses.replace(config, lapnorm=4)), "w")
    old = stored(config, drop=("lapnorm",))  # written before --lapnorm existed
    assert already_done(old, want, "abc")
    assert not already_done(old, with_lapnorm, "abc")
    assert already_done(stored(dataclasses.replace(config, lapnorm=4)), with_lapnorm, "abc")
    assert not already_done(stored(config), with_lapnorm, "abc")

"""Jobs on a GPU: a batch on Ray with one GPU actor gives the one-process images, and a
dream stopped by SIGTERM on a GPU leaves no partial file. Marked `gpu`: skipped where there
is no CUDA device."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from PIL import Image

from inceptionism.io.batch import discover
from inceptionism.jobs.batch import drive, make_spec, photo_backend
from inceptionism.jobs.recipe import Recipe
from inceptionism.settings import DreamConfig

pytestmark = pytest.mark.gpu


def photos(folder, count: int):
    folder.mkdir()
    with Image.open(resources.files("inceptionism.data") / "chelsea.png") as img:
        src = img.convert("RGB")
    for i in range(count):
        box = ((i * 5) % 120, (i * 3) % 60, (i * 5) % 120 + 320, (i * 3) % 60 + 240)
        src.crop(box).save(folder / f"p{i:02d}.jpg", quality=92)
    return folder


def test_a_batch_on_a_ray_gpu_actor_gives_the_one_process_images(tmp_path, gpu, cuda_only):
    ray = pytest.importorskip("ray")
    if ray.is_initialized() and not ray.cluster_resources().get("GPU"):
        pytest.skip("a Ray cluster without GPUs is already running in this process")
    inputs = photos(tmp_path / "in", 6)
    recipe = Recipe(model="efficientnet_lite0", objective="b10",
                    config=DreamConfig(steps=4), device=str(gpu))
    spec = make_spec(recipe, ".png", "embedded", threads=2)
    here = drive(discover([inputs]), tmp_path / "one", spec, photo_backend(spec))
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False,
                 _node_ip_address="127.0.0.1")
    try:
        there = drive(discover([inputs]), tmp_path / "ray", spec,
                      photo_backend(spec, workers=1, ray=""))
    finally:
        if started:
            ray.shutdown()
    assert (here.done, there.done, there.failed) == (6, 6, 0)
    for path in (tmp_path / "one").glob("*.png"):
        a = np.asarray(Image.open(path))
        b = np.asarray(Image.open(tmp_path / "ray" / path.name))
        assert np.array_equal(a, b), path.name  # same code, same device


def test_sigterm_during_a_gpu_dream_leaves_no_partial_file(tmp_path, gpu):
    env = {k: v for k, v in os.environ.items() if k != "INCEPTIONISM_THREADS"}
    subprocess.run([sys.executable, "-m", "inceptionism", "sample", str(tmp_path / "cat.png")],
                   check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "inceptionism", "dream",
                             str(tmp_path / "cat.png"), "-o", str(tmp_path / "out.png"),
                             "--device", str(gpu), "--steps", "1000"],
                            stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:  # the first progress line: the dream is under way
        if "octave" in line:
            break
    proc.send_signal(signal.SIGTERM)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 143, err
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))
    assert not (tmp_path / "out.png").exists()

"""Shared fixtures: the real default model (loaded once) and a tiny random network."""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from inceptionism.models import DreamNet, LayeredNet, Normalization, load_model


class TinyNet(LayeredNet):
    """Three conv stages with fixed random weights: fast stand-in for engine tests."""

    stage_names = ("c1", "c2", "c3")

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.c1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.c2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.c3 = nn.Sequential(nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU())
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)


@pytest.fixture(scope="module")
def one_thread():
    """For tests that check results, not speed. On a CPU shared with other work, PyTorch's
    default of one OpenMP thread per core made them 10-70x slower (threads spin waiting for
    each other), so they run on one thread (and the subprocesses they start set it too)."""
    before = torch.get_num_threads()
    saved = os.environ.get("INCEPTIONISM_THREADS")
    os.environ["INCEPTIONISM_THREADS"] = "1"  # what the CLI's start-up will choose, too
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    if saved is None:
        del os.environ["INCEPTIONISM_THREADS"]
    else:
        os.environ["INCEPTIONISM_THREADS"] = saved


@pytest.fixture(scope="session")
def tiny_model() -> DreamNet:
    return DreamNet(TinyNet(), Normalization((0.5,) * 3, (0.25,) * 3)).eval().requires_grad_(False)


@pytest.fixture(scope="session")
def lite0() -> DreamNet:
    return load_model("efficientnet_lite0")


# Tests marked `gpu` need a GPU: `pytest -m gpu` runs them (scripts/gpu_check.sh does, on a GPU
# machine); where there is none they are skipped, with the reason. INCEPTIONISM_GPU_TEST_DEVICE
# names another device to run them on (e.g. `cpu`, to check the tests themselves; tests that
# need CUDA's own functions still skip there).
GPU_TEST_DEVICE = os.environ.get("INCEPTIONISM_GPU_TEST_DEVICE", "cuda")


def gpu_available() -> bool:
    if GPU_TEST_DEVICE.startswith("cuda"):
        return torch.cuda.is_available()
    if GPU_TEST_DEVICE == "mps":
        return torch.backends.mps.is_available()
    return True


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") is not None and not gpu_available():
        pytest.skip(f"no {GPU_TEST_DEVICE} device here (GPU test: run with pytest -m gpu on one)")


@pytest.fixture(scope="session")
def gpu() -> torch.device:
    """The device the `gpu` tests run on: CUDA, unless INCEPTIONISM_GPU_TEST_DEVICE says."""
    return torch.device(GPU_TEST_DEVICE)


@pytest.fixture(scope="session")
def cuda_only(gpu):
    """For tests of CUDA's own behaviour (memory counters, ``auto``'s choice)."""
    if gpu.type != "cuda":
        pytest.skip("needs CUDA itself")


def sample_path(name: str):
    return resources.files("inceptionism.data") / f"{name}.png"


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """scikit-image's chelsea (451x300), RGB floats in [0, 1]."""
    with Image.open(sample_path("chelsea")) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    with Image.open(sample_path("coffee")) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()


@pytest.fixture(scope="session")
def ray_cluster():
    """A real Ray cluster on this machine, started once for the session (about 5 s): two CPUs,
    no dashboard, a small object store, the node's address on the loopback interface."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1", object_store_memory=100 << 20)
    yield ray
    ray.shutdown()

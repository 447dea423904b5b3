"""The microscope on every registered model, a model file and a PyTorch module: a
visualization from noise runs and gives an image of the asked size, and its channel rises.

Weights are synthetic: the registry's own architectures with PyTorch's seeded random
initialization, inception5h's graph from the synthetic fixture, bvlc_googlenet's structure
built as an ONNX file (``tests/onnx_googlenet.py``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch
from torch import nn

from inceptionism import Dreamer
from inceptionism.engine.objectives import channel_mean
from inceptionism.engine.param import READABLE
from inceptionism.engine.visualize import top_channels, visualize
from inceptionism.jobs.atlas import AtlasRecipe, atlas
from inceptionism.models import DreamNet, get_spec, list_models, load_model

GRAPH = Path(__file__).parent.parent / "fixtures" / "inception5h_synthetic.pb.gz"
GRAPHS = ("inception5h", "bvlc_googlenet")  # read from a file, not built from code


def synthetic(name: str, tmp_path: Path) -> DreamNet:
    """Registered model ``name`` with synthetic weights, loaded as the package loads it."""
    spec = get_spec(name)
    if name == "inception5h":
        path = tmp_path / "tensorflow_inception_graph.pb"
        path.write_bytes(gzip.decompress(GRAPH.read_bytes()))
        return load_model(name, weights=path)
    if name == "bvlc_googlenet":
        onnx = pytest.importorskip("onnx")
        from ..onnx_googlenet import build

        path = tmp_path / "googlenet-12.onnx"
        onnx.save(build(), path)
        return load_model(name, weights=path)
    torch.manual_seed(0)
    return DreamNet(spec.build(), spec.normalization, spec.min_input_size).eval() \
        .requires_grad_(False)


def check_visualization(model, layer: str, size: int) -> None:
    # The channel the initial noise excites most: with random weights some channels are
    # dead (always 0 after the ReLU), and a dead channel has no gradient to follow.
    start = visualize(model, channel_mean(layer, 0), size, 0, param=READABLE, seed=0).image
    objective = channel_mean(layer, top_channels(model, layer, start, 1)[0])
    result = visualize(model, objective, size, 4, param=READABLE, transforms=(), seed=0, lr=0.05)
    assert result.image.shape == (1, 3, size, size)
    assert torch.isfinite(result.image).all() and 0 <= result.image.min() <= result.image.max() <= 1
    with torch.no_grad():  # the channel the visualization excites rises from the noise
        before = objective(model.features(start, [layer]))
        after = objective(model.features(result.image, [layer]))
    assert after > before, (layer, float(before), float(after))


@pytest.mark.parametrize("name", list_models())
def test_visualize_on_every_registered_model(name, tmp_path, one_thread):
    model = synthetic(name, tmp_path)
    layer = get_spec(name).default_layers[0]
    check_visualization(model, layer, max(64, model.min_input_size + 5))


def test_every_registered_model_is_covered():
    assert set(GRAPHS) <= set(list_models())
    assert all(get_spec(n).build is not None for n in list_models() if n not in GRAPHS)


def test_atlas_of_a_graph_layer_with_slashes_in_its_name(tmp_path, one_thread):
    model = synthetic("bvlc_googlenet", tmp_path)
    recipe = AtlasRecipe("bvlc_googlenet", "inception_4c/output_1", (0, 2), size=32, steps=2)
    result = atlas(model, recipe, tmp_path / "cells")
    assert [p.name for p in result.cells] == ["channel-00000.png", "channel-00002.png"]
    assert result.sheet.is_file()


def test_visualize_on_a_model_file_and_a_module(tmp_path, one_thread):
    onnx = pytest.importorskip("onnx")
    from ..onnx_googlenet import build

    path = tmp_path / "net.onnx"
    onnx.save(build(classes=10), path)
    check_visualization(Dreamer(str(path), preprocess="caffe").model, "inception_4c/output_1", 64)

    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU())
    dreamer = Dreamer.from_module(module, "torch", layers=["1", "3"])
    check_visualization(dreamer.model, "3", 32)

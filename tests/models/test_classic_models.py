"""The classic dream models in use: loading their weights, dreaming, the CLI.

Weights are the parity fixture's synthetic ones (saved to a file by the ``synthetic_weights_file``
fixture); where a logit value is checked it is torchvision's, from the fixture.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from ..torchvision_parity import reference, rgb_input

from inceptionism.api import Dreamer
from inceptionism.cli import main
from inceptionism.engine.objectives import parse
from inceptionism.errors import InceptionismError, WeightsError
from inceptionism.io.images import read_metadata
from inceptionism.models import get_spec, list_models, load_model, registry
from inceptionism.models.weights import UrlWeights
from inceptionism.settings import DreamConfig

CLASSIC = ["googlenet", "inception_v3", "vgg16", "resnet50"]


def small_photo(rgb: np.ndarray, path, width: int = 120):
    img = Image.fromarray((rgb * 255).round().astype(np.uint8))
    img = img.resize((width, round(width * img.height / img.width)), Image.LANCZOS)
    img.save(path)
    return path


def test_every_classic_model_is_registered_with_torchvisions_facts():
    # File names, sizes and accuracies as the parity fixture's README records them; the
    # smallest input as torchvision's weight metadata documents it (min_size).
    facts = {
        "googlenet": ("googlenet-1378be20.pth", 49.7, 69.8, 15),
        "inception_v3": ("inception_v3_google-0cc3c7bd.pth", 103.9, 77.3, 75),
        "vgg16": ("vgg16-397923af.pth", 527.8, 71.6, 32),
        "resnet50": ("resnet50-0676ba61.pth", 97.8, 76.1, 1),
    }
    for name, (filename, size_mb, top1, min_size) in facts.items():
        spec = get_spec(name)
        assert spec.weights.url == "https://download.pytorch.org/models/" + filename
        assert filename.endswith(f"-{spec.weights.sha256_prefix}.pth")
        assert (spec.weights.size_mb, spec.top1, spec.min_input_size) == (size_mb, top1, min_size)
        assert spec.normalization.mean == (0.485, 0.456, 0.406)
        assert spec.normalization.std == (0.229, 0.224, 0.225)


@pytest.mark.parametrize("name", CLASSIC)
def test_min_input_size_is_the_smallest_the_network_accepts(name):
    spec = get_spec(name)
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        net = spec.build().eval()
        smallest = spec.min_input_size
        assert net(torch.empty(1, 3, smallest, smallest)).shape == (1, 1000)
        if smallest > 1:
            with pytest.raises(RuntimeError):
                net(torch.empty(1, 3, smallest - 1, smallest - 1))


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_weights_file_with_auxiliary_classifiers_loads(name, synthetic_weights_file):
    # As torchvision's real files do, this one carries aux keys our models do not have.
    path = synthetic_weights_file(name)
    keys = torch.load(path, mmap=True, weights_only=True)
    assert any(key.startswith(get_spec(name).drop_prefixes) for key in keys)
    model = load_model(name, weights=path)
    # The DreamNet takes RGB in [0, 1]; torchvision's logits were recorded from the same
    # pixels, ImageNet-normalized by hand.
    ref = reference()[name]
    with torch.no_grad():
        logits = model(rgb_input(name))
    assert logits.argmax().item() == ref["argmax"]
    first = torch.tensor(ref["logits_first10"])
    assert torch.allclose(logits[0, :10], first, rtol=1e-4, atol=1e-4 * ref["logits_std"])


def test_weights_file_for_another_model_is_refused(synthetic_weights_file):
    path = synthetic_weights_file("googlenet")
    with pytest.raises(WeightsError, match=r"does not fit model resnet50"):
        load_model("resnet50", weights=path)


def test_weights_are_put_in_place_in_the_dtype_the_network_declares(synthetic_weights_file,
                                                                     tmp_path):
    """The architecture is built without storage and the file's tensors put in place: a
    float16 file still gives float32 parameters, holding the file's values."""
    state = torch.load(synthetic_weights_file("googlenet"), weights_only=True)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save(half, tmp_path / "half.pth")
    loaded = load_model("googlenet", weights=tmp_path / "half.pth").net.state_dict()
    assert loaded and all(not v.is_meta for v in loaded.values())
    for key, value in loaded.items():
        assert value.dtype == state[key].dtype, key
        assert torch.equal(value, half[key].to(state[key].dtype)), key


def test_a_network_that_makes_tensors_of_its_own_is_built_for_real(synthetic_weights_file):
    """A tensor the architecture makes itself (not in its state dict) would stay without
    storage after the weights are put in place, so such a network is built for real."""
    def build():
        net = get_spec("googlenet").build()
        net.register_buffer("own", torch.full((3,), 2.0), persistent=False)
        return net

    spec = dataclasses.replace(get_spec("googlenet"), build=build)
    path = synthetic_weights_file("googlenet")
    net = load_model(spec, weights=path).net
    assert torch.equal(net.own, torch.full((3,), 2.0))
    state = torch.load(path, weights_only=True)
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())


def test_weights_only_refuses_a_file_that_would_run_code(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    evil = tmp_path / "evil.pth"
    torch.save({"conv1.conv.weight": torch.zeros(1), "x": Payload()}, evil)
    with pytest.raises(WeightsError, match="cannot be read as a PyTorch state dict"):
        load_model("googlenet", weights=evil)
    assert not marker.exists()
    # The file really is dangerous: an unrestricted load runs its code.
    torch.load(evil, weights_only=False)
    assert marker.is_dir()


def test_dream_on_googlenet_raises_its_objective(synthetic_weights_file, chelsea):
    dreamer = Dreamer("googlenet", weights=synthetic_weights_file("googlenet"))
    objective = dreamer.objective(None)  # the model's default: inception4c
    assert objective.layers == ("inception4c",)
    image = torch.from_numpy(chelsea[::5, ::5].copy()).permute(2, 0, 1)[None]  # 91x60

    def value(x):
        with torch.no_grad():
            return objective(dreamer.model.features(x, objective.layers)).item()

    out = dreamer.dream_tensor(image, objective, DreamConfig(octaves=1, steps=5, seed=1))
    assert out.shape == image.shape
    assert value(out) > 1.25 * value(image)


def test_inception_v3_dreams_on_an_image_smaller_than_it_accepts(synthetic_weights_file):
    # Inception v3 refuses inputs under 75 pixels a side (torchvision's documented
    # min_size); an octave pyramid on a 90x60 image goes below that unless the engine knows.
    dreamer = Dreamer("inception_v3", weights=synthetic_weights_file("inception_v3"))
    image = torch.rand(1, 3, 60, 90, generator=torch.Generator().manual_seed(0))
    out = dreamer.dream_tensor(image, "Mixed_5b", DreamConfig(octaves=3, steps=1, min_size=8))
    assert out.shape == image.shape
    with pytest.raises(InceptionismError, match="tile size must be at least 150"):
        dreamer.dream_tensor(image, "Mixed_5b", DreamConfig(steps=1, tile_size=100))


def test_cli_dreams_on_googlenet_with_a_weights_file(
    synthetic_weights_file, chelsea, tmp_path, capsys
):
    src = small_photo(chelsea, tmp_path / "cat.png")
    out = tmp_path / "dream.png"
    weights = synthetic_weights_file("googlenet")
    rc = main(["dream", str(src), "-o", str(out), "--model", "googlenet", "--weights", str(weights),
               "--octaves", "2", "--steps", "3", "-q"])
    assert rc == 0, capsys.readouterr().err
    meta = read_metadata(out)
    assert (meta["model"], meta["objective"]) == ("googlenet", "inception4c")
    assert meta["weights"] == str(weights)
    dreamed = np.asarray(Image.open(out), dtype=np.float32)
    original = np.asarray(Image.open(src), dtype=np.float32)
    assert dreamed.shape == original.shape
    assert np.abs(dreamed - original).mean() > 2  # visibly changed (0..255 scale)


@pytest.fixture
def googlenet_served_locally(synthetic_weights_file, tmp_path, monkeypatch):
    """The googlenet registry entry, its URL pointed at a local copy of the synthetic
    weights (as if they were torchvision's file), with the cache in a temporary folder."""
    path = synthetic_weights_file("googlenet")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    spec = get_spec("googlenet")
    local = UrlWeights(url=path.as_uri(), filename=spec.weights.filename, sha256_prefix=sha[:8],
                       size_mb=round(path.stat().st_size / 2**20, 1))
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(tmp_path / "cache"))
    with registry.use_weights("googlenet", local):  # the public way to swap a weights source
        yield tmp_path / "cache" / spec.weights.filename


def test_cli_downloads_once_then_reuses_the_cache(
    googlenet_served_locally, chelsea, tmp_path, capsys
):
    cached = googlenet_served_locally
    src = small_photo(chelsea, tmp_path / "cat.png", width=64)
    args = ["dream", str(src), "--model", "googlenet", "--octaves", "1", "--steps", "1"]

    assert main(["models"]) == 0
    assert "googlenet            downloadable" in capsys.readouterr().out
    assert main(args + ["-o", str(tmp_path / "a.png")]) == 0
    err = capsys.readouterr().err
    assert "googlenet-1378be20.pth" in err  # the download's progress bar
    assert cached.is_file()
    assert main(["models"]) == 0
    assert "googlenet            cached" in capsys.readouterr().out

    stamp = cached.stat().st_mtime_ns
    assert main(args + ["-o", str(tmp_path / "b.png")]) == 0
    assert "googlenet-1378be20.pth" not in capsys.readouterr().err  # nothing downloaded
    assert cached.stat().st_mtime_ns == stamp
    assert json.loads(Image.open(tmp_path / "b.png").info["inceptionism"])["model"] == "googlenet"


def test_cli_offline_says_which_file_to_get_and_where_to_put_it(
    tmp_path, monkeypatch, chelsea, capsys, request
):
    spec = get_spec("googlenet")
    with socket.socket() as s:  # a local port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/googlenet-1378be20.pth"
    old = registry.set_weights("googlenet", dataclasses.replace(spec.weights, url=url))
    request.addfinalizer(lambda: registry.restore_spec(old))
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(tmp_path / "cache"))
    src = small_photo(chelsea, tmp_path / "cat.png", width=64)
    out = tmp_path / "dream.png"
    rc = main(["dream", str(src), "-o", str(out), "--model", "googlenet"])
    err = capsys.readouterr().err
    assert rc == 1
    # progress lines first ("loading googlenet", "downloading ..."), then one error sentence
    lines = err.strip().splitlines()
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:]
    assert lines[-1].startswith("error: Cannot download googlenet-1378be20.pth")
    assert all(line.startswith(("loading ", "downloading ")) for line in lines[:-1])
    assert url in err
    assert str(tmp_path / "cache" / "googlenet-1378be20.pth") in err
    assert "--weights FILE" in err
    assert not out.exists()


def test_models_command_lists_every_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in list_models():
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    for name in CLASSIC:
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert "BSD-3-Clause" in line and f"{get_spec(name).top1:.1f}%" in line


def test_readme_examples_name_layers_the_models_have():
    # Real weights cannot be fetched here, so the Models page's classic-model commands are
    # checked for what can go wrong offline: the model and layer names they use.
    readme = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    commands = [line.split() for line in readme.splitlines()
                if "--model" in line and "dream" in line]
    assert len(commands) >= 4
    for words in commands:
        name = words[words.index("--model") + 1]
        spec = get_spec(name)
        layers = words[words.index("-l") + 1] if "-l" in words else ",".join(spec.default_layers)
        if spec.build is None:  # a graph file: the synthetic stand-ins have its names
            net = _graph_stand_in(name)
            net.check_layers(parse(layers, layer_names=net.stage_names).layers)
            continue
        with torch.device("meta"):  # names only: no memory, no weight init
            net = spec.build()
        net.check_layers(parse(layers).layers)


def _graph_stand_in(name: str):
    """inception5h: the parity graph (the real file's structure); bvlc_googlenet: the test's
    synthetic ONNX file with its naming."""
    from inceptionism.models import load_model

    if name == "inception5h":
        return load_model(name, weights=Path(__file__).parents[1] / "fixtures" / "inception5h_synthetic.pb.gz").net
    onnx = pytest.importorskip("onnx")
    import tempfile

    from ..onnx_googlenet import build

    path = Path(tempfile.mkdtemp()) / "googlenet.onnx"
    onnx.save(build(), path)
    return load_model(name, weights=path).net

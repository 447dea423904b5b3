"""Models from elsewhere: inception5h's zip and label file, its download, model files given
by path, input conventions, and any PyTorch module with nested tap names."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from inceptionism import Dreamer, DreamConfig
from inceptionism.errors import InceptionismError, UnknownLayerError, WeightsError
from inceptionism.models import get_spec, load_model
from inceptionism.models.googlenet import googlenet
from inceptionism.models.preprocess import parse_preprocess

FIXTURES = Path(__file__).parent.parent / "fixtures"
GRAPH = FIXTURES / "inception5h_synthetic.pb.gz"
LABELS = "dummy\nkit fox\nEnglish setter\nSiberian husky\n"
QUICK = DreamConfig(octaves=2, steps=2, jitter=4)


@pytest.fixture(scope="module")
def graph_bytes() -> bytes:
    return gzip.decompress(GRAPH.read_bytes())


@pytest.fixture(scope="module")
def inception5h_zip(tmp_path_factory, graph_bytes) -> Path:
    """A zip laid out like inception5h.zip (graph + label file + licence), synthetic weights."""
    path = tmp_path_factory.mktemp("zip") / "inception5h.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("tensorflow_inception_graph.pb", graph_bytes)
        archive.writestr("imagenet_comp_graph_label_strings.txt", LABELS)
        archive.writestr("LICENSE", "Apache-2.0")
    return path


def test_zip_and_bare_pb_load_the_same_graph(inception5h_zip, graph_bytes, tmp_path, one_thread):
    bare = tmp_path / "tensorflow_inception_graph.pb"
    bare.write_bytes(graph_bytes)
    x = torch.rand(1, 3, 64, 80, generator=torch.Generator().manual_seed(0))
    outs = []
    for weights in (inception5h_zip, bare, GRAPH):
        model = load_model("inception5h", weights=weights)
        with torch.no_grad():
            outs.append(model.features(x, ["mixed3b"])["mixed3b"])
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])


def test_class_names_come_from_the_zip(inception5h_zip, graph_bytes, tmp_path, one_thread):
    model = load_model("inception5h", weights=inception5h_zip)
    labels = model.net.labels
    assert len(labels) == 1008 and labels[:3] == ("dummy", "kit fox", "English setter")
    dreamer = Dreamer("inception5h", weights=inception5h_zip)
    objective = dreamer.objective("class=Siberian husky")
    assert objective.spec == "class=Siberian husky"
    with pytest.raises(InceptionismError, match="Unknown class 'tabby'"):
        dreamer.objective("class=tabby")  # an ImageNet name, but not in this file's list
    # A bare .pb finds the label file beside it; without one, only indices work.
    bare = tmp_path / "tensorflow_inception_graph.pb"
    bare.write_bytes(graph_bytes)
    assert load_model("inception5h", weights=bare).net.labels == ()
    (tmp_path / "imagenet_comp_graph_label_strings.txt").write_text(LABELS)
    assert load_model("inception5h", weights=bare).net.labels[1] == "kit fox"


def test_download_is_verified_and_cached(inception5h_zip, tmp_path, monkeypatch, one_thread):
    """The registered source's path, served from a local file: downloaded once, checked
    against the SHA-256 (computed here with hashlib), cached, then reused."""
    monkeypatch.setenv("INCEPTIONISM_CACHE", str(tmp_path / "cache"))
    sha = hashlib.sha256(inception5h_zip.read_bytes()).hexdigest()
    spec = get_spec("inception5h")
    local = dataclasses.replace(spec, weights=dataclasses.replace(
        spec.weights, url=inception5h_zip.as_uri(), sha256_prefix=sha))
    model = load_model(local, progress=False)
    assert "mixed4c" in model.layer_names
    cached = tmp_path / "cache" / "inception5h.zip"
    assert cached.is_file() and local.weights.status() == "cached"
    wrong = dataclasses.replace(local, weights=dataclasses.replace(local.weights, sha256_prefix="0" * 64))
    with pytest.raises(WeightsError, match="corrupt or not the expected one"):
        load_model(wrong, progress=False)


def test_offline_message_names_the_url_and_the_place(tmp_path, monkeypatch):
    import urllib.error

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("INCEPTIONISM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsError) as info:
        load_model("inception5h", progress=False)
    message = str(info.value)
    assert "https://storage.googleapis.com/download.tensorflow.org/models/inception5h.zip" in message
    assert str(tmp_path / "cache" / "inception5h.zip") in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_not_a_graph_is_refused(tmp_path):
    bad = tmp_path / "x.pb"
    bad.write_bytes(b"\xff\xff\xff\xff not a graph")
    with pytest.raises(WeightsError, match="not a TensorFlow GraphDef"):
        load_model("inception5h", weights=bad)
    with pytest.raises(WeightsError, match="does not exist"):
        load_model("inception5h", weights=tmp_path / "missing.zip")


def test_numbered_tour_and_defaults(one_thread):
    dreamer = Dreamer("inception5h", weights=GRAPH)
    assert dreamer.spec.default_layers == ("mixed4c",)
    assert dreamer.tour_layers[0] == "conv2d0" and dreamer.tour_layers[-1] == "mixed5b"
    assert len(dreamer.tour_layers) == 12
    assert dreamer.tour_label("mixed4c") == "7 mixed4c"
    assert dreamer.tour_label("mixed4d_3x3_bottleneck_pre_relu") == "mixed4d_3x3_bottleneck_pre_relu"


def test_preprocessing_conventions():
    assert parse_preprocess("caffe") == parse_preprocess("order=bgr scale=255 mean=104,117,123 std=1")
    assert parse_preprocess("inception5h") == parse_preprocess("scale=255 mean=117")
    tf = parse_preprocess("tf")
    assert tf.mean == (0.5,) * 3 and tf.std == (0.5,) * 3 and not tf.bgr
    for bad in ("caffee", "order=gbr", "mean=1,2", "std=0", "scale=x"):
        with pytest.raises(InceptionismError):
            parse_preprocess(bad)


def test_caffe_input_is_bgr_minus_the_mean():
    from inceptionism.models import DreamNet
    from inceptionism.models.module_net import ModuleNet

    net = ModuleNet(torch.nn.Sequential(torch.nn.Identity()), ["0"])
    model = DreamNet(net, parse_preprocess("caffe"))
    rgb = torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)
    seen = model.features(rgb, ["0"])["0"].flatten().tolist()
    assert seen == pytest.approx([255 - 104, 127.5 - 117, 0 - 123])


class Wrapper(torch.nn.Module):
    """A user's classifier: a torchvision-style GoogLeNet inside another module."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.backbone = googlenet().eval()

    def forward(self, x):
        return self.backbone(x)


def test_module_with_nested_taps(one_thread):
    module = Wrapper()
    calls = []
    module.backbone.fc.register_forward_hook(lambda *a: calls.append("fc"))
    dreamer = Dreamer.from_module(
        module, "torch", layers=["backbone.inception3b", "backbone.inception4c.branch2"],
        logits_layer="backbone.fc")
    x = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    acts = dreamer.model.features(x, ["backbone.inception4c.branch2"])
    # The same tensor, computed by hand: the network up to inception4b, then the branch.
    net = module.backbone
    with torch.no_grad():
        y = dreamer.model.normalize(x)
        for name in net.stage_names[: net.stage_names.index("inception4c")]:
            y = net.stage(name)(y)
        expected = net.inception4c.branch2(y)
    assert torch.allclose(acts["backbone.inception4c.branch2"], expected, atol=1e-5)
    assert calls == []  # stopped after the tap: the classifier never ran
    # It dreams: the objective rises, and class terms read the logits by index.
    before = dreamer.model.features(x, ["backbone.inception4c.branch2"])["backbone.inception4c.branch2"]
    out = dreamer.dream_tensor(x, "backbone.inception4c.branch2", QUICK)
    after = dreamer.model.features(out, ["backbone.inception4c.branch2"])["backbone.inception4c.branch2"]
    assert after.square().mean() > before.square().mean()
    assert dreamer.objective("class=3").spec == "class=3"
    with pytest.raises(UnknownLayerError, match="backbone.inception4c.branch2"):
        Dreamer.from_module(module, "torch", layers=["backbone.inception4c.branch9"])


def test_onnx_file_by_path(tmp_path, one_thread):
    onnx = pytest.importorskip("onnx")
    from ..onnx_googlenet import build

    path = tmp_path / "net.onnx"
    onnx.save(build(classes=10), path)
    dreamer = Dreamer(str(path), preprocess="caffe")
    assert dreamer.spec.default_layers == ("inception_4c/output_1",)
    assert dreamer.spec.normalization == parse_preprocess("caffe")
    channel = dreamer.objective("inception_4c/output_1/3+5")
    assert list(channel.layers) == ["inception_4c/output_1"]
    image = Image.new("RGB", (80, 64), (120, 90, 60))
    out = dreamer.dream(image, None, QUICK)
    assert out.size == image.size
    with pytest.raises(InceptionismError, match="without class names"):
        dreamer.objective("class=jellyfish")


def test_graph_layers_table_and_tour(one_thread):
    """The layer table of a graph: every node that computes at 224 (the side heads only
    work there), the trunk's strides growing; the numbered tour dreams every layer."""
    from inceptionism.engine.tour import tour

    dreamer = Dreamer("inception5h", weights=GRAPH, fast=False)
    table = {info.name: info for info in dreamer.layers()}
    assert (table["mixed4c"].channels, table["mixed4c"].stride) == (512, 16)
    assert (table["conv2d0"].channels, table["conv2d0"].stride) == (64, 2)
    assert table["softmax2_pre_activation"].channels == 1008 and table["softmax2_pre_activation"].stride is None
    strides = [table[name].stride for name in dreamer.tour_layers]
    assert strides == sorted(strides)
    photo = torch.rand(1, 3, 80, 96, generator=torch.Generator().manual_seed(0))
    dreams = tour(dreamer.model, photo, dreamer.tour_layers, DreamConfig(octaves=1, steps=1))
    assert list(dreams) == list(dreamer.tour_layers)
    assert all(d.shape == photo.shape and torch.isfinite(d).all() for d in dreams.values())


def test_damaged_and_oversized_archives_are_refused(tmp_path):
    import gzip as gz

    torn = tmp_path / "torn.pb.gz"
    torn.write_bytes(GRAPH.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="ends early"):
        load_model("inception5h", weights=torn)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(WeightsError, match="damaged zip"):
        load_model("inception5h", weights=bad_zip)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(WeightsError, match="does not contain tensorflow_inception_graph.pb"):
        load_model("inception5h", weights=other)
    empty = tmp_path / "empty.pb.gz"
    empty.write_bytes(gz.compress(b""))
    with pytest.raises(WeightsError, match="not a TensorFlow GraphDef"):
        load_model("inception5h", weights=empty)

"""ONNX models through the graph interpreter, against onnxruntime.

A synthetic file with bvlc_googlenet's structure and naming (``tests/onnx_googlenet.py``)
is read with the ``onnx`` package and run by our interpreter; onnxruntime runs the same file.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ..onnx_googlenet import build

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from inceptionism.errors import InceptionismError, WeightsError  # noqa: E402
from inceptionism.models import load_model  # noqa: E402
from inceptionism.models.graph import GraphNet  # noqa: E402
from inceptionism.models.onnx_graph import read_onnx  # noqa: E402

TAPS = ("conv1/7x7_s2_2", "pool1/norm1_1", "conv2/norm2_1", "inception_3a/output_1",
        "inception_4c/output_1", "inception_5b/output_1")
RTOL = 1e-4


def close(ours: torch.Tensor, ref: np.ndarray) -> float:
    """Largest difference relative to the tensor's std (ReLU zeros make element-wise
    relative errors meaningless)."""
    ours = ours.detach().double().numpy()
    assert ours.shape == ref.shape
    return float(np.abs(ours - ref).max() / max(ref.std(), 1e-12))


@pytest.fixture(scope="module")
def files(tmp_path_factory, one_thread):
    folder = tmp_path_factory.mktemp("onnx")
    paths = [folder / f"{name}.onnx" for name in ("plain", "ceil", "plain_trunk", "ceil_trunk")]
    onnx.save(build(taps=TAPS + ("loss3/classifier_1",)), paths[0])
    onnx.save(build(ceil_pools=True, taps=TAPS + ("loss3/classifier_1",)), paths[1])
    onnx.save(build(taps=TAPS, head=False), paths[2])
    onnx.save(build(ceil_pools=True, taps=TAPS, head=False), paths[3])
    return paths


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_ort(sess, x: np.ndarray, names) -> dict[str, np.ndarray]:
    out = sess.run(list(names), {"data_0": x})
    return dict(zip(names, (o.astype(np.float64) for o in out)))


def image(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 255, size=(1, 3, height, width)) - 117).astype(np.float32)


@pytest.mark.parametrize("size", [(224, 224), (173, 251), (97, 131)])
def test_file_semantics_match_onnxruntime(files, size):
    """Read as the file says (pads fixed for 224), at 224 and at odd sizes."""
    graph, _ = read_onnx(files[0])
    net = GraphNet(graph, output="loss3/classifier_1").eval()
    x = image(*size)
    names = TAPS + (("loss3/classifier_1",) if size == (224, 224) else ())
    ref = run_ort(session(files[0] if size == (224, 224) else files[2]), x, names)
    with torch.no_grad():
        ours = net.features(torch.from_numpy(x), names)
    for name in names:
        assert close(ours[name], ref[name]) <= RTOL, name


@pytest.mark.parametrize("size", [(224, 224), (173, 251), (97, 131), (250, 250)])
def test_caffe_rounding_matches_ceil_mode(files, size):
    """bvlc_googlenet as registered (through load_model, the real file's path) rounds its
    pools up as Caffe did: it matches onnxruntime on the same network built with
    ceil_mode=1, at any size; at 224 that is also what the file computes. (For these 3x3/2
    pools the export's extra end pad of stride - 1 = 1 equals ceil rounding at every size:
    floor((n + s - 1 - k) / s) = ceil((n - k) / s); measured, the two onnxruntime files agree
    exactly at all four sizes.)"""
    net = load_model("bvlc_googlenet", weights=files[0]).net
    x = image(*size, seed=1)
    ref = run_ort(session(files[3]), x, TAPS)
    with torch.no_grad():
        ours = net.features(torch.from_numpy(x), TAPS)
    for name in TAPS:
        assert close(ours[name], ref[name]) <= RTOL, name
    if size == (224, 224):
        plain = run_ort(session(files[2]), x, TAPS)
        for name in TAPS:
            assert close(ours[name], plain[name]) <= RTOL, name


def test_caffe_preprocessing_and_logits_at_other_sizes(files):
    """The registered model takes RGB in [0, 1] and feeds the file BGR 0..255 minus the
    Caffe mean; away from 224 its classifier runs at every 7x7 window."""
    model = load_model("bvlc_googlenet", weights=files[0])
    rgb = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    caffe = (rgb.flip(1) * 255 - torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)).numpy()
    ref = run_ort(session(files[0]), caffe, ("loss3/classifier_1",))["loss3/classifier_1"]
    with torch.no_grad():
        ours = model.features(rgb, ["loss3/classifier_1"])["loss3/classifier_1"]
    assert close(ours, ref) <= RTOL
    with torch.no_grad():
        big = model.features(torch.rand(1, 3, 288, 320), ["loss3/classifier_1"])["loss3/classifier_1"]
        small = model.features(torch.rand(1, 3, 100, 120), ["loss3/classifier_1"])["loss3/classifier_1"]
    # 288x320 -> 9x10 at inception_5b -> 3x4 windows of 7x7; 100x120 -> 4x4: one global mean.
    assert big.shape == (12, 1000) and small.shape == (1, 1000)


def test_any_onnx_file_from_the_command_line_api(files):
    """A file nobody registered: its layers are its tensors, and a default is chosen."""
    from inceptionism.models.graph_files import load_onnx

    net = load_onnx(files[0])
    assert "inception_4c/output_1" in net.stage_names
    assert net.logits_layer == "loss3/classifier_1"  # the input of the final softmax
    # Block outputs (tensors read by two or more nodes), the default 60% of the way down.
    assert net.default_layers == ("inception_4c/output_1",)
    assert net.tour_layers[0] == "pool2/3x3_s2_1" and net.tour_layers[-1] == "inception_5a/output_1"
    assert "inception_3a/output_1" in net.tour_layers and len(net.tour_layers) <= 12


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 this is not protobuf \xff" * 10)
    with pytest.raises(WeightsError, match="not an ONNX model"):
        read_onnx(bad)


def test_unknown_ops_cut_the_graph(tmp_path):
    """Nodes the interpreter cannot run are left out with all that depends on them; the
    layers before them stay usable."""
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1] * 4),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Erf", ["r"], ["e"]),
             helper.make_node("Relu", ["e"], ["after"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("after", TensorProto.FLOAT, None)], [w])
    path = tmp_path / "erf.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    g, _ = read_onnx(path)
    assert [n.name for n in g.nodes] == ["c", "r"] and g.skipped == {"Erf": 1}
    net = GraphNet(g)
    with pytest.raises(InceptionismError, match="Unknown layer 'after'"):
        net.check_layers(["after"])

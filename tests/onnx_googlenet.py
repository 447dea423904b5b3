"""A synthetic ONNX file with bvlc_googlenet's structure and naming, built with onnx.helper.

It follows the ONNX model zoo's googlenet-12.onnx (Caffe -> Caffe2 -> ONNX, opset 12):
input ``data_0`` (NCHW, BGR), each Caffe layer a node whose output is the layer's name plus
``_1`` (and ``_2`` for the ReLU after a convolution), the stride-2 max pools with the extra
bottom/right pad the export put in place of Caffe's ceil rounding (``[0, 0, 1, 1]``), LRN of
size 5, the 7x7 average pool, a Dropout, a Reshape to ``[1, 1024]`` and the classifier as a
Gemm with ``transB=1``, then ``prob_1`` (Softmax). Weights are seeded He-scaled noise.

``ceil_pools=True`` builds the same network with Caffe's own pooling (symmetric pads,
``ceil_mode=1``), which onnxruntime computes for any input size: the reference for our
Caffe rounding.
"""

from __future__ import annotations

import math

import numpy as np

# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), as in bvlc_googlenet's prototxt.
BLOCKS = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 48, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
POOL_AFTER = {"3b": "pool3/3x3_s2", "4e": "pool4/3x3_s2"}


def build(ceil_pools: bool = False, seed: int = 0, classes: int = 1000, taps: tuple[str, ...] = (),
          head: bool = True):
    """The ModelProto; ``taps`` are extra tensors exposed as graph outputs (for onnxruntime,
    which runs every node: ``head=False`` ends the graph at inception_5b, for input sizes
    where the 224x224 head cannot run)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def weight(name, shape, fan_in, scale=1.0):
        a = math.sqrt(2.0 / fan_in) * scale
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * a).astype(np.float32), name))

    def bias(name, n):
        inits.append(numpy_helper.from_array((0.1 * rng.standard_normal(n)).astype(np.float32), name))

    def conv(layer, x, cin, cout, k, stride=1, pad=0):
        weight(f"{layer}_w_0", (cout, cin, k, k), cin * k * k)
        bias(f"{layer}_b_0", cout)
        nodes.append(helper.make_node("Conv", [x, f"{layer}_w_0", f"{layer}_b_0"], [f"{layer}_1"],
                                      kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4))
        nodes.append(helper.make_node("Relu", [f"{layer}_1"], [f"{layer}_2"]))
        return f"{layer}_2"

    def maxpool(layer, x, k, stride, pad):
        if ceil_pools and pad == "ceil":
            nodes.append(helper.make_node("MaxPool", [x], [f"{layer}_1"], kernel_shape=[k, k],
                                          strides=[stride] * 2, pads=[0, 0, 0, 0], ceil_mode=1))
        else:
            pads = [0, 0, 1, 1] if pad == "ceil" else [pad] * 4
            nodes.append(helper.make_node("MaxPool", [x], [f"{layer}_1"], kernel_shape=[k, k],
                                          strides=[stride] * 2, pads=pads))
        return f"{layer}_1"

    def lrn(layer, x):
        nodes.append(helper.make_node("LRN", [x], [f"{layer}_1"], size=5, alpha=1e-4, beta=0.75, bias=1.0))
        return f"{layer}_1"

    x = conv("conv1/7x7_s2", "data_0", 3, 64, 7, 2, 3)
    x = maxpool("pool1/3x3_s2", x, 3, 2, "ceil")
    x = lrn("pool1/norm1", x)
    x = conv("conv2/3x3_reduce", x, 64, 64, 1)
    x = conv("conv2/3x3", x, 64, 192, 3, 1, 1)
    x = lrn("conv2/norm2", x)
    x = maxpool("pool2/3x3_s2", x, 3, 2, "ceil")
    cin = 192
    for block, (c1, c3r, c3, c5r, c5, cp) in BLOCKS.items():
        p = f"inception_{block}"
        b1 = conv(f"{p}/1x1", x, cin, c1, 1)
        b2 = conv(f"{p}/3x3", conv(f"{p}/3x3_reduce", x, cin, c3r, 1), c3r, c3, 3, 1, 1)
        b3 = conv(f"{p}/5x5", conv(f"{p}/5x5_reduce", x, cin, c5r, 1), c5r, c5, 5, 1, 2)
        b4 = conv(f"{p}/pool_proj", maxpool(f"{p}/pool", x, 3, 1, 1), cin, cp, 1)
        nodes.append(helper.make_node("Concat", [b1, b2, b3, b4], [f"{p}/output_1"], axis=1))
        x, cin = f"{p}/output_1", c1 + c3 + c5 + cp
        if block in POOL_AFTER:
            x = maxpool(POOL_AFTER[block], x, 3, 2, "ceil")
    if not head:
        image = helper.make_tensor_value_info("data_0", TensorProto.FLOAT, ["N", 3, "H", "W"])
        outputs = [helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in taps]
        graph = helper.make_graph(nodes, "bvlc_googlenet_trunk", [image], outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], producer_name="test")
        model.ir_version = 7
        return model
    nodes.append(helper.make_node("AveragePool", [x], ["pool5/7x7_s1_1"], kernel_shape=[7, 7],
                                  strides=[1, 1], pads=[0, 0, 0, 0]))
    nodes.append(helper.make_node("Dropout", ["pool5/7x7_s1_1"], ["pool5/7x7_s1_2"]))
    inits.append(numpy_helper.from_array(np.array([1, 1024], dtype=np.int64), "OC2_DUMMY_1"))
    nodes.append(helper.make_node("Reshape", ["pool5/7x7_s1_2", "OC2_DUMMY_1"], ["OC2_DUMMY_0"]))
    weight("loss3/classifier_w_0", (classes, 1024), 1024, scale=0.25)
    bias("loss3/classifier_b_0", classes)
    nodes.append(helper.make_node("Gemm", ["OC2_DUMMY_0", "loss3/classifier_w_0", "loss3/classifier_b_0"],
                                  ["loss3/classifier_1"], transB=1))
    nodes.append(helper.make_node("Softmax", ["loss3/classifier_1"], ["prob_1"]))

    image = helper.make_tensor_value_info("data_0", TensorProto.FLOAT, ["N", 3, "H", "W"])
    outputs = [helper.make_tensor_value_info("prob_1", TensorProto.FLOAT, None)]
    outputs += [helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in taps]
    graph = helper.make_graph(nodes, "bvlc_googlenet", [image], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], producer_name="test")
    model.ir_version = 7
    return model

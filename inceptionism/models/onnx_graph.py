"""Read an ONNX model into the graph interpreter (``graph.py``), with the ``onnx`` package.

ONNX is already NCHW/OIHW, so the translation is mostly a renaming of ops and attributes.
Tensors are named by the file (``inception_4c/output_1``); every node's first output is a
tap under its tensor name. Weights come from the initializers and ``Constant`` nodes, read
with ``onnx.numpy_helper`` (which also follows external data files).

The ``onnx`` package (not ``onnx2torch``, which needs torchvision) is an optional
dependency: ``pip install 'inceptionism[onnx]'``.

``caffe_pools``: Caffe rounded pooling output sizes up; the Caffe2 -> ONNX export of
bvlc_googlenet replaced that by an extra bottom/right pad that is right for 224x224 only.
With this flag such pools (explicit pads, the end pad larger than the begin pad by less
than the stride) get back Caffe's rule: the begin pad on both sides, ceil rounding. At
the export's size the result is the same. An extra pad of exactly ``stride - 1`` (all of
bvlc_googlenet's 3x3/2 pools) is ceil rounding at every size already, since
``floor((n + s - 1 - k) / s) = ceil((n - k) / s)``; a smaller one (an export made at a size
that needed less) is not, and there the rewrite restores what Caffe computed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import InceptionismError, WeightsError
from .graph import Graph, Node

SUPPORTED_OPS = ("Conv", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "GlobalMaxPool", "LRN", "Concat", "Reshape", "Flatten", "Gemm",
                 "MatMul", "Add", "Sub", "Mul", "Div", "BatchNormalization", "Softmax", "Dropout",
                 "Identity", "Constant")


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise WeightsError(
            "Reading ONNX models needs the onnx package; run: pip install 'inceptionism[onnx]'"
        ) from None
    return onnx, numpy_helper


def _attrs(node) -> dict:
    onnx, numpy_helper = _onnx()
    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode()
        elif a.type == onnx.AttributeProto.TENSOR:
            value = numpy_helper.to_array(value)
        out[a.name] = value
    return out


def _pads(attrs: dict, node_name: str, op: str, kernel=None):
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER",):
        return "same"
    if auto == "VALID":
        return (0, 0, 0, 0)
    if auto == "SAME_LOWER":
        raise InceptionismError(f"Node {node_name} ({op}) pads SAME_LOWER, which is not supported.")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise InceptionismError(f"Node {node_name} ({op}) is not 2-D; only 2-D images are supported.")
    top, left, bottom, right = pads
    return (int(top), int(bottom), int(left), int(right))


def read_onnx(path: Path, caffe_pools: bool = False) -> tuple[Graph, list[str]]:
    """An ONNX file -> the interpreter's :class:`Graph`, and the graph's output names."""
    onnx, numpy_helper = _onnx()
    try:
        model = onnx.load(str(path))
    except FileNotFoundError:
        raise WeightsError(f"Model file {path} does not exist.") from None
    except Exception as exc:  # DecodeError and friends: not an ONNX file
        raise WeightsError(f"Model file {path} is not an ONNX model ({type(exc).__name__}).") from None
    g = model.graph
    if not g.node:
        raise WeightsError(f"Model file {path} is not an ONNX model: its graph has no nodes.")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)

    constants: dict[str, torch.Tensor] = {}
    arrays: dict[str, np.ndarray] = {}
    for init in g.initializer:
        arrays[init.name] = numpy_helper.to_array(init)
    initializer_names = set(arrays)
    inputs = [i.name for i in g.input if i.name not in initializer_names]
    if len(inputs) != 1:
        raise WeightsError(
            f"Model file {path} has {len(inputs)} inputs ({', '.join(inputs)}); an image "
            f"classifier with one image input is needed."
        )
    available = {inputs[0], *arrays}
    nodes: list[Node] = []
    skipped: dict[str, int] = {}

    def const(name):
        if name not in arrays:
            raise InceptionismError(f"{name} must be a constant for this program to run the model.")
        return arrays[name]

    for k, node in enumerate(g.node):
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            skipped[f"{node.domain}.{op}"] = skipped.get(f"{node.domain}.{op}", 0) + 1
            continue
        a = _attrs(node)
        if op == "Constant":
            value = a.get("value")
            if value is None:
                for key in ("value_float", "value_floats", "value_int", "value_ints"):
                    if key in a:
                        value = np.asarray(a[key])
            if value is None:
                skipped[op] = skipped.get(op, 0) + 1
                continue
            arrays[node.output[0]] = np.asarray(value)
            available.add(node.output[0])
            continue
        ins = tuple(i for i in node.input if i)
        name = node.output[0]
        if op not in SUPPORTED_OPS or not all(i in available for i in ins):
            if op not in SUPPORTED_OPS:
                skipped[op] = skipped.get(op, 0) + 1
            continue
        attrs: dict = {}
        try:
            if op == "Conv":
                w = const(ins[1])
                if w.ndim != 4:
                    raise InceptionismError(f"Node {name} (Conv) is not 2-D; only 2-D images are supported.")
                attrs = {"stride": tuple(a.get("strides", (1, 1))), "pad": _pads(a, name, op),
                         "dilation": tuple(a.get("dilations", (1, 1))), "groups": a.get("group", 1)}
                canon = "conv"
            elif op in ("Relu", "Sigmoid", "Tanh"):
                canon = op.lower()
            elif op == "LeakyRelu":
                attrs, canon = {"alpha": a.get("alpha", 0.01)}, "leaky_relu"
            elif op == "Clip":
                low = a.get("min", const(ins[1]).item() if len(ins) > 1 else None)
                high = a.get("max", const(ins[2]).item() if len(ins) > 2 else None)
                if low == 0 and high == 6:
                    canon = "relu6"
                elif low == 0 and high is None:
                    canon = "relu"
                else:
                    raise InceptionismError(f"Node {name}: Clip({low}, {high}) is not supported.")
                ins = ins[:1]
            elif op in ("MaxPool", "AveragePool"):
                if len(node.output) > 1 and node.output[1]:
                    raise InceptionismError(f"Node {name}: MaxPool with indices is not supported.")
                kernel = tuple(a["kernel_shape"])
                stride = tuple(a.get("strides", (1,) * len(kernel)))
                if len(kernel) != 2:
                    raise InceptionismError(f"Node {name} ({op}) is not 2-D; only 2-D images are supported.")
                pad = _pads(a, name, op)
                ceil = bool(a.get("ceil_mode", 0))
                if caffe_pools and op == "MaxPool" and pad != "same" and not ceil:
                    top, bottom, left, right = pad
                    if (0 <= bottom - top < stride[0] and 0 <= right - left < stride[1]
                            and (bottom, right) != (top, left)):
                        pad, ceil = (top, top, left, left), True
                attrs = {"kernel": kernel, "stride": stride, "pad": pad, "ceil_mode": ceil,
                         "count_include_pad": bool(a.get("count_include_pad", 0))}
                canon = "maxpool" if op == "MaxPool" else "avgpool"
            elif op == "GlobalAveragePool":
                canon = "global_avgpool"
            elif op == "GlobalMaxPool":
                canon = "global_maxpool"
            elif op == "LRN":
                attrs = {"size": a["size"], "alpha": a.get("alpha", 1e-4), "beta": a.get("beta", 0.75),
                         "bias": a.get("bias", 1.0)}
                canon = "lrn"
            elif op == "Concat":
                attrs, canon = {"axis": a["axis"]}, "concat"
            elif op == "Reshape":
                shape = tuple(int(s) for s in const(ins[1]).reshape(-1))
                attrs = {"shape": shape, "copy_zeros": not a.get("allowzero", 0)}
                ins, canon = ins[:1], "reshape"
            elif op == "Flatten":
                attrs, canon = {"axis": a.get("axis", 1)}, "flatten"
            elif op == "Gemm":
                attrs = {"transpose_a": bool(a.get("transA", 0)), "transpose_b": bool(a.get("transB", 0)),
                         "alpha": a.get("alpha", 1.0), "beta": a.get("beta", 1.0)}
                canon = "gemm"
            elif op == "MatMul":
                canon = "matmul"
            elif op in ("Add", "Sub", "Mul", "Div"):
                canon = op.lower()
            elif op == "BatchNormalization":
                attrs, canon = {"epsilon": a.get("epsilon", 1e-5)}, "batchnorm"
                ins = ins[:5]
            elif op == "Softmax":
                axis = a.get("axis", 1 if opset < 13 else -1)
                attrs, canon = {"axis": axis}, "softmax"
            else:  # Dropout (inference: identity), Identity
                ins, canon = ins[:1], "identity"
        except KeyError as exc:
            raise WeightsError(f"Model file {path}: node {name} ({op}) lacks attribute {exc}.") from None
        except InceptionismError as exc:
            raise WeightsError(f"Model file {path}: {exc}") from None
        nodes.append(Node(name, canon, ins, attrs, op))
        available.add(name)

    read = {i for n in nodes for i in n.inputs}
    for name in read:
        if name in arrays:
            value = arrays[name]
            if value.dtype.kind == "f":
                value = value.astype(np.float32)
            constants[name] = torch.from_numpy(np.ascontiguousarray(value))
    graph = Graph(inputs[0], nodes, constants, skipped={k: v for k, v in skipped.items() if v})
    return graph, [o.name for o in g.output]

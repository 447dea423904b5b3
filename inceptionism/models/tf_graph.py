"""Read a binary TensorFlow ``GraphDef`` (a frozen ``.pb``) without TensorFlow.

Made for Google's inception5h graph (``tensorflow_inception_graph.pb`` in
``inception5h.zip``, the graph of the TensorFlow DeepDream notebook), and for frozen
convolutional classifiers built from the same ops.

Parsing uses the ``protobuf`` package with a schema of the five messages a frozen graph
needs (GraphDef, NodeDef, AttrValue, TensorProto, TensorShapeProto), built at run time as a
descriptor with TensorFlow's own field numbers: no ``protoc``, no generated code, no
TensorFlow. We chose the package over a hand-written wire-format decoder because it parses
the 54 MB file in C, handles packed and unpacked repeated fields, and fails cleanly on a
damaged file; the schema is small enough to read against ``graph.proto``,
``node_def.proto``, ``attr_value.proto``, ``tensor.proto`` and ``tensor_shape.proto`` of
TensorFlow (field numbers below are theirs). Fields the schema leaves out (versions,
function library, debug info) are skipped by the parser.

The ops are translated into the interpreter's canonical ops (``graph.py``), from TensorFlow's
NHWC/HWIO layout into NCHW/OIHW, with TensorFlow's defaults for the attributes that old
graphs omit (``data_format`` NHWC, dilation 1; ``T`` is not needed).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ..errors import InceptionismError
from .graph import Graph, Node

# TensorFlow DataType values (types.proto) -> numpy.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 9: np.int64, 10: np.bool_,
           19: np.float16}
_DTYPE_NAMES = {7: "string", 14: "bfloat16", 8: "complex64"}

SUPPORTED_OPS = ("Placeholder", "Const", "Conv2D", "BiasAdd", "Relu", "Relu6", "Sigmoid", "Tanh",
                 "MaxPool", "AvgPool", "LRN", "Concat", "ConcatV2", "Reshape", "MatMul",
                 "Softmax", "Identity")


@cache
def _graphdef_class():
    """The GraphDef message class, from a descriptor written out here (see module doc)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="inceptionism_tf_graph.proto",
                                              package="inceptionism_tf", syntax="proto3")

    def message(parent, name, fields):
        m = parent.add()
        m.name = name
        for fname, number, kind, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=kind, label=label)
            if type_name:
                f.type_name = ".inceptionism_tf." + type_name
        return m

    one, many = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    S, B, I64, I32, FL, D, BOOL, M = (F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_INT64, F.TYPE_INT32,
                                      F.TYPE_FLOAT, F.TYPE_DOUBLE, F.TYPE_BOOL, F.TYPE_MESSAGE)
    shape = message(file.message_type, "TensorShapeProto", [
        ("dim", 2, M, many, "TensorShapeProto.Dim"), ("unknown_rank", 3, BOOL, one, None)])
    message(shape.nested_type, "Dim", [("size", 1, I64, one, None), ("name", 2, S, one, None)])
    message(file.message_type, "TensorProto", [
        ("dtype", 1, I32, one, None), ("tensor_shape", 2, M, one, "TensorShapeProto"),
        ("tensor_content", 4, B, one, None), ("float_val", 5, FL, many, None),
        ("double_val", 6, D, many, None), ("int_val", 7, I32, many, None),
        ("int64_val", 10, I64, many, None), ("bool_val", 11, BOOL, many, None),
        ("half_val", 13, I32, many, None)])
    attr = message(file.message_type, "AttrValue", [
        ("list", 1, M, one, "AttrValue.ListValue"), ("s", 2, B, one, None),
        ("i", 3, I64, one, None), ("f", 4, FL, one, None), ("b", 5, BOOL, one, None),
        ("type", 6, I32, one, None), ("shape", 7, M, one, "TensorShapeProto"),
        ("tensor", 8, M, one, "TensorProto")])
    message(attr.nested_type, "ListValue", [
        ("s", 2, B, many, None), ("i", 3, I64, many, None), ("f", 4, FL, many, None),
        ("b", 5, BOOL, many, None), ("type", 6, I32, many, None),
        ("shape", 7, M, many, "TensorShapeProto"), ("tensor", 8, M, many, "TensorProto")])
    node = message(file.message_type, "NodeDef", [
        ("name", 1, S, one, None), ("op", 2, S, one, None), ("input", 3, S, many, None),
        ("device", 4, S, one, None), ("attr", 5, M, many, "NodeDef.AttrEntry")])
    entry = message(node.nested_type, "AttrEntry", [
        ("key", 1, S, one, None), ("value", 2, M, one, "AttrValue")])
    entry.options.map_entry = True
    message(file.message_type, "GraphDef", [("node", 1, M, many, "NodeDef")])

    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("inceptionism_tf.GraphDef"))


def parse_graphdef(data: bytes, source: str = "the graph"):
    """Bytes of a binary GraphDef -> the parsed message (refuses what is not one)."""
    graph = _graphdef_class()()
    try:
        graph.ParseFromString(data)
    except Exception:  # protobuf's DecodeError, or worse for random bytes
        raise InceptionismError(f"{source} is not a TensorFlow GraphDef (.pb): it cannot be parsed.") from None
    if not graph.node or not all(n.name and n.op for n in graph.node):
        raise InceptionismError(f"{source} is not a TensorFlow GraphDef (.pb): it holds no graph nodes.")
    return graph


def tensor_value(proto, where: str) -> np.ndarray:
    """A TensorProto -> numpy array (tensor_content little-endian, or the typed *_val list,
    where a single value fills the whole shape, as TensorFlow does)."""
    dtype = _DTYPES.get(proto.dtype)
    if dtype is None:
        name = _DTYPE_NAMES.get(proto.dtype, f"type {proto.dtype}")
        raise InceptionismError(f"Constant {where} is of {name}, which is not supported.")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    count = int(np.prod(shape)) if shape else 1
    if proto.tensor_content:
        value = np.frombuffer(proto.tensor_content, dtype=np.dtype(dtype).newbyteorder("<"))
    else:
        field = {np.float32: "float_val", np.float64: "double_val", np.int64: "int64_val",
                 np.bool_: "bool_val"}.get(dtype, "int_val")
        value = np.asarray(getattr(proto, field), dtype=dtype)
        if dtype == np.float16:
            value = np.asarray(proto.half_val, dtype=np.uint16).view(np.float16)
        if value.size == 1 and count > 1:
            value = np.full(count, value[0], dtype=dtype)
        elif value.size == 0:
            value = np.zeros(count, dtype=dtype)
    if value.size != count:
        raise InceptionismError(
            f"Constant {where} holds {value.size} values for shape {list(shape)}; the file is damaged."
        )
    return value.astype(dtype).reshape(shape)


def _tensor_name(name: str) -> str:
    """A node input -> the tensor it means: 'conv:0' and 'conv' are the same; '^x' is a
    control dependency (ignored)."""
    return name[:-2] if name.endswith(":0") else name


def read_graphdef(data: bytes, source: str = "the graph") -> Graph:
    """A binary GraphDef -> the interpreter's :class:`Graph` (NCHW, canonical ops)."""
    graph = parse_graphdef(data, source)
    constants: dict[str, torch.Tensor] = {}
    ints: dict[str, np.ndarray] = {}  # integer constants (axes, shapes) read at load time
    nodes: list[Node] = []
    available: set[str] = set()
    skipped: dict[str, int] = {}
    placeholder = None

    def attr_list(node, key, default):
        return list(node.attr[key].list.i) if key in node.attr else default

    def spatial(node, key):
        """A 4-element NHWC attr (strides, ksize) -> (h, w)."""
        values = attr_list(node, key, [1, 1, 1, 1])
        fmt = node.attr["data_format"].s.decode() if "data_format" in node.attr else "NHWC"
        if fmt not in ("NHWC", ""):
            raise InceptionismError(f"Node {node.name} uses data format {fmt}; only NHWC graphs are supported.")
        return int(values[1]), int(values[2])

    def padding(node):
        mode = node.attr["padding"].s.decode()
        if mode == "SAME":
            return "same"
        if mode == "VALID":
            return (0, 0, 0, 0)
        raise InceptionismError(f"Node {node.name} has padding {mode or 'unset'}; only SAME and VALID are supported.")

    for node in graph.node:
        op, name = node.op, node.name
        inputs = tuple(_tensor_name(i) for i in node.input if not i.startswith("^"))
        if any(":" in i for i in inputs):
            skipped[op] = skipped.get(op, 0) + 1  # a second output of a multi-output op
            continue
        if op == "Placeholder":
            if placeholder is None:
                placeholder = name
                available.add(name)
            continue
        if op == "Const":
            value = tensor_value(node.attr["value"].tensor, name)
            if value.dtype.kind in "iub":
                ints[name] = value
            constants[name] = torch.from_numpy(np.ascontiguousarray(value))
            available.add(name)
            continue
        if op not in SUPPORTED_OPS or not all(i in available for i in inputs):
            skipped[op] = skipped.get(op, 0) + (op not in SUPPORTED_OPS)
            continue
        attrs: dict = {}
        canon = None
        if op == "Conv2D":
            w = inputs[1]
            if w not in constants or constants[w].dim() != 4:
                raise InceptionismError(f"Node {name}: the filter of a Conv2D must be a constant.")
            # HWIO -> OIHW, once, at load.
            constants[w] = constants[w].permute(3, 2, 0, 1).contiguous()
            attrs = {"stride": spatial(node, "strides"), "pad": padding(node),
                     "dilation": spatial(node, "dilations")}
            canon = "conv"
        elif op == "BiasAdd":
            canon = "bias"
        elif op in ("Relu", "Relu6", "Sigmoid", "Tanh", "Identity"):
            canon = op.lower()
        elif op in ("MaxPool", "AvgPool"):
            attrs = {"kernel": spatial(node, "ksize"), "stride": spatial(node, "strides"),
                     "pad": padding(node)}
            canon = "maxpool" if op == "MaxPool" else "avgpool"
        elif op == "LRN":
            a = node.attr
            radius = a["depth_radius"].i if "depth_radius" in a else 5
            size = 2 * radius + 1
            alpha = a["alpha"].f if "alpha" in a else 1.0
            # TensorFlow sums alpha * x^2 over the window; PyTorch divides alpha by the window.
            attrs = {"size": size, "alpha": alpha * size,
                     "beta": a["beta"].f if "beta" in a else 0.5,
                     "bias": a["bias"].f if "bias" in a else 1.0}
            canon = "lrn"
        elif op in ("Concat", "ConcatV2"):
            axis_name = inputs[0] if op == "Concat" else inputs[-1]
            if axis_name not in ints:
                raise InceptionismError(f"Node {name}: the axis of a {op} must be a constant.")
            attrs = {"axis": int(ints[axis_name]), "order": "nhwc"}
            inputs = inputs[1:] if op == "Concat" else inputs[:-1]
            canon = "concat"
        elif op == "Reshape":
            if inputs[1] not in ints:
                raise InceptionismError(f"Node {name}: the shape of a Reshape must be a constant.")
            attrs = {"shape": tuple(int(s) for s in ints[inputs[1]].reshape(-1)), "order": "nhwc"}
            inputs = inputs[:1]
            canon = "reshape"
        elif op == "MatMul":
            attrs = {"transpose_a": node.attr["transpose_a"].b, "transpose_b": node.attr["transpose_b"].b}
            canon = "matmul"
        elif op == "Softmax":
            attrs = {"axis": -1, "order": "nhwc"}
            canon = "softmax"
        nodes.append(Node(name, canon, inputs, attrs, op))
        available.add(name)

    if placeholder is None:
        raise InceptionismError(f"{source} has no Placeholder: it has no input to feed an image into.")
    # Keep only constants that a kept node reads.
    read = {i for node in nodes for i in node.inputs}
    constants = {k: v for k, v in constants.items() if k in read}
    return Graph(placeholder, nodes, constants, skipped={k: v for k, v in skipped.items() if v})

"""A small interpreter for graphs of named ops on named tensors, as a dreamable network.

A TensorFlow ``GraphDef`` (Google's inception5h) and an ONNX model (Caffe's bvlc_googlenet,
or any classifier a user brings) are both lists of nodes, each an op type that reads named
tensors and writes one named tensor. The readers (``tf_graph.py``, ``onnx_graph.py``)
translate their file's ops into the few canonical ops below, so that one interpreter,
running PyTorch ops in NCHW, serves both:

    conv, bias, relu, relu6, sigmoid, tanh, leaky_relu, maxpool, avgpool, global_avgpool,
    global_maxpool, lrn, concat, reshape, flatten, matmul, gemm, add, sub, mul, div,
    batchnorm, softmax, identity

Every node's output is a tap: a layer a user can dream on, by the node's own name
(``mixed4c``, ``inception_4c/output_1``). The forward pass runs only the nodes the requested
taps depend on, and frees each tensor after its last use, so a dream on ``conv2d2`` never
computes ``mixed5b`` and a tile's activations are dropped as soon as the next op has read
them.

Semantics that differ between frameworks are attributes of the canonical op, never
guesses at run time:

* ``pad="same"``: TensorFlow's SAME padding, computed for each input size
  (``out = ceil(in / s)``, ``pad = max((out - 1) * s + k - in, 0)``, the odd pixel at the
  bottom/right); max pools pad with -inf, average pools leave the padding out of the count.
* LRN takes alpha in PyTorch's/ONNX's convention (divided by the window); the TensorFlow
  reader passes ``alpha * window``, since TensorFlow does not divide.
* ``reshape``/``flatten`` carry ``order="nhwc"`` when the file's tensors were NHWC, so a
  head's flatten reads (h, w, c) exactly as the original did.
* Pools with ``ceil_mode`` round their output up, as Caffe did (bvlc_googlenet).

Two extensions make any input size work where the files were exported for one size; both
only act where the original graph would have failed outright:

* an average pool whose window is larger than its input (a 7x7 head pool on a 5x5 map)
  averages the whole map instead;
* a flatten to ``[N, C]`` of a map with more than one position (the head of a network
  exported for 224x224, fed something larger) makes each position a row, as TensorFlow's
  ``Reshape([-1, C])`` does. A class objective then takes the mean of that class's logit
  over the positions, i.e. the classifier is applied at every window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import InceptionismError, UnknownLayerError
from .base import LayeredNet

# Ops whose output keeps the spatial layout of their first input (used to choose taps).
ELEMENTWISE = {"bias", "relu", "relu6", "sigmoid", "tanh", "leaky_relu", "lrn", "add", "sub",
               "mul", "div", "batchnorm", "identity"}
OPS = ELEMENTWISE | {"conv", "maxpool", "avgpool", "global_avgpool", "global_maxpool", "concat",
                     "reshape", "flatten", "matmul", "gemm", "softmax"}


@dataclass(frozen=True)
class Node:
    """One op: writes the tensor ``name`` from the tensors (or constants) named in ``inputs``."""

    name: str
    op: str  # a canonical op, one of OPS
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    source_op: str = ""  # the op type in the file (Conv2D, Conv, ...), for messages


@dataclass
class Graph:
    """What a reader hands the interpreter: a topologically ordered list of canonical nodes."""

    input: str  # the name of the image input
    nodes: list[Node]
    constants: dict[str, Tensor]  # weights, biases and small parameters, already in NCHW/OIHW
    # Ops of the file the interpreter cannot run ({op type: count}); the nodes that need them
    # were left out, with everything downstream of them.
    skipped: dict[str, int] = field(default_factory=dict)


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding of one dimension: (before, after); the odd pixel goes after."""
    out = -(-size // stride)
    span = (kernel - 1) * dilation + 1
    pad = max((out - 1) * stride + span - size, 0)
    return pad // 2, pad - pad // 2


def _pads(x: Tensor, attrs: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding of a conv or pool for this input."""
    pad = attrs.get("pad", (0, 0, 0, 0))
    if pad == "same":
        (kh, kw), (sh, sw) = attrs["kernel"], attrs["stride"]
        dh, dw = attrs.get("dilation", (1, 1))
        top, bottom = same_padding(x.shape[-2], kh, sh, dh)
        left, right = same_padding(x.shape[-1], kw, sw, dw)
        return top, bottom, left, right
    return tuple(pad)


def _conv(x: Tensor, w: Tensor, b: Tensor | None, attrs: Mapping[str, Any]) -> Tensor:
    top, bottom, left, right = _pads(x, {**attrs, "kernel": tuple(w.shape[-2:])})
    if top == bottom and left == right:
        padding = (top, left)
    else:  # asymmetric (TF SAME with an even total): pad explicitly, once
        x = F.pad(x, (left, right, top, bottom))
        padding = (0, 0)
    return F.conv2d(x, w, b, attrs.get("stride", (1, 1)), padding, attrs.get("dilation", (1, 1)),
                    attrs.get("groups", 1))


def _clamped_kernel(x: Tensor, attrs: Mapping[str, Any], pads: tuple[int, int, int, int]):
    """The pool's window, shrunk to the padded input where it is larger (see module doc)."""
    kh, kw = attrs["kernel"]
    top, bottom, left, right = pads
    return min(kh, x.shape[-2] + top + bottom), min(kw, x.shape[-1] + left + right)


def _pool_size(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    """PyTorch's pooled size (with its rule that no window may start in the end padding)."""
    span = size + 2 * pad - kernel
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _maxpool(x: Tensor, attrs: Mapping[str, Any]) -> Tensor:
    pads = _pads(x, attrs)
    kernel = _clamped_kernel(x, attrs, pads)
    top, bottom, left, right = pads
    stride = attrs["stride"]
    ceil = attrs.get("ceil_mode", False)
    if top == bottom and left == right and 2 * top <= kernel[0] and 2 * left <= kernel[1]:
        return F.max_pool2d(x, kernel, stride, (top, left), ceil_mode=ceil)
    # TF SAME with the odd pixel at the end (0/1 at even sizes): PyTorch's ceil rounding
    # adds that end window itself, clipped to the input, which is what -inf padding gives;
    # no padded copy of the activation is made.
    height, width = x.shape[-2:]
    if (not ceil and bottom >= top and right >= left and 2 * top <= kernel[0] and 2 * left <= kernel[1]
            and _pool_size(height, kernel[0], stride[0], top, True)
            == _pool_size(height + bottom - top, kernel[0], stride[0], top, False)
            and _pool_size(width, kernel[1], stride[1], left, True)
            == _pool_size(width + right - left, kernel[1], stride[1], left, False)):
        return F.max_pool2d(x, kernel, stride, (top, left), ceil_mode=True)
    x = F.pad(x, (left, right, top, bottom), value=-math.inf)
    return F.max_pool2d(x, kernel, attrs["stride"], 0, ceil_mode=ceil)


def _avgpool(x: Tensor, attrs: Mapping[str, Any]) -> Tensor:
    pads = _pads(x, attrs)
    kernel = _clamped_kernel(x, attrs, pads)
    top, bottom, left, right = pads
    stride, ceil = attrs["stride"], attrs.get("ceil_mode", False)
    include = attrs.get("count_include_pad", False)
    if top == bottom and left == right and 2 * top <= kernel[0] and 2 * left <= kernel[1]:
        return F.avg_pool2d(x, kernel, stride, (top, left), ceil_mode=ceil,
                            count_include_pad=include)
    padded = F.pad(x, (left, right, top, bottom))
    total = F.avg_pool2d(padded, kernel, stride, 0, ceil_mode=ceil)
    if include:
        return total
    ones = F.pad(torch.ones_like(x[:1, :1]), (left, right, top, bottom))
    return total / F.avg_pool2d(ones, kernel, stride, 0, ceil_mode=ceil)


def _channel_window_mean(t: Tensor, size: int) -> Tensor:
    """Mean of ``t`` over a window of ``size`` (odd) channels centred on each channel, zeros
    beyond the edges; ``t`` is channels-last, so the channels of a pixel are contiguous and
    the window is a 1-D average pool along them. The map is its own transpose."""
    n, c, h, w = t.shape
    rows = t.permute(0, 2, 3, 1).reshape(n * h * w, 1, c)  # a view of NHWC memory
    mean = F.avg_pool1d(rows, size, 1, size // 2, count_include_pad=True)
    return mean.reshape(n, h, w, c).permute(0, 3, 1, 2)


class _LRN(torch.autograd.Function):
    """y = x * r, r = s ** -beta, s = bias + alpha * window_mean(x^2); the backward in
    closed form, dx = g * r - 2 * alpha * beta * x * window_mean(g * x * r / s), so it saves
    three tensors and makes a few passes where autograd's chain of small ops makes many."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, bias):
        s = _channel_window_mean(x * x, size).mul_(alpha).add_(bias)
        r = s.rsqrt() if beta == 0.5 else s.pow(-beta)
        ctx.save_for_backward(x, r, s)
        ctx.params = (size, alpha, beta)
        return x * r

    @staticmethod
    def backward(ctx, g):
        x, r, s = ctx.saved_tensors
        size, alpha, beta = ctx.params
        u = (g * x).mul_(r).div_(s)
        dx = g * r
        dx.addcmul_(x, _channel_window_mean(u, size), value=-2.0 * alpha * beta)
        return dx, None, None, None, None


def _lrn(x: Tensor, size: int, alpha: float, beta: float, bias: float) -> Tensor:
    """Local response normalization across channels, PyTorch's convention
    (``x / (bias + alpha / size * sum of x^2 over the window) ** beta``).

    Same function as ``F.local_response_norm``; on channels-last tensors (as `dream` runs
    them) a faster one: the window is a pool along the contiguous channel axis, and the
    backward is written out (see :class:`_LRN`)."""
    if x.dim() != 4 or size % 2 == 0 or not x.is_contiguous(memory_format=torch.channels_last):
        return F.local_response_norm(x, size, alpha, beta, bias)
    return _LRN.apply(x, size, alpha, beta, bias)


def _to_nhwc_axis(axis: int, rank: int) -> int:
    """The NCHW axis holding what axis ``axis`` of the NHWC tensor held (4-D tensors only)."""
    if rank != 4:
        return axis
    return (0, 2, 3, 1)[axis % 4]


def _reshape(x: Tensor, shape: tuple[int, ...], attrs: Mapping[str, Any], node: Node) -> Tensor:
    nhwc = attrs.get("order") == "nhwc"
    if x.dim() == 4 and nhwc:
        x = x.permute(0, 2, 3, 1)
    if attrs.get("copy_zeros", False):  # ONNX: a 0 keeps the input's size there
        shape = tuple(x.shape[i] if s == 0 else s for i, s in enumerate(shape))
    shape = tuple(shape)
    if len(shape) == 4 and not nhwc:
        pass
    elif len(shape) > 2:
        raise InceptionismError(
            f"Node {node.name} ({node.source_op}) reshapes to rank {len(shape)}; only flattening "
            f"to rows (rank 1 or 2) is supported."
        )
    if x.dim() == 4 and len(shape) == 2 and -1 not in shape and x.shape[-1] * x.shape[-2] > 1:
        channels = x.shape[-1] if nhwc else x.shape[1]
        if shape[1] == channels and math.prod(shape) != x.numel():
            # Exported for one input size; fed a larger one: each position becomes a row.
            rows = x if nhwc else x.permute(0, 2, 3, 1)
            return rows.reshape(-1, channels)
    try:
        return x.reshape(shape)
    except RuntimeError:
        raise InceptionismError(
            f"Node {node.name} cannot reshape a tensor of shape {tuple(x.shape)} to "
            f"{list(shape)}; this part of the network only works at the input size it was "
            f"made for."
        ) from None


@dataclass
class Plan:
    order: list[int]  # node indices to run, in order
    last_use: dict[str, int]  # tensor -> index of the last node that reads it
    fuse: dict[int, int]  # conv node -> the bias node it absorbs
    fused_away: set[int]  # those bias nodes
    inplace: set[int]  # ReLU nodes that may overwrite their input


class GraphNet(LayeredNet):
    """A :class:`Graph` as a network: every node's output is a named layer (tap).

    ``features(x, layers)`` runs only what ``layers`` need; ``forward(x)`` returns the
    graph's ``output`` tensor (by default its last node).
    """

    staged = False  # not a list of stage modules: optimize() leaves it be (it fuses by itself)
    rewrites = True  # conv+bias fusion and in-place ReLUs (off: each op as the file has it)
    labels: tuple[str, ...] | None = None  # class names that came with the file, if any

    def __init__(self, graph: Graph, output: str | None = None, taps: Iterable[str] | None = None):
        super().__init__()
        self.input_name = graph.input
        self.nodes = list(graph.nodes)
        self.skipped = dict(graph.skipped)
        if not self.nodes:
            raise InceptionismError("The graph has no node this program can run.")
        self._index = {node.name: i for i, node in enumerate(self.nodes)}
        # Constants become buffers (they move with .to() and change layout with
        # channels_last); buffer names cannot hold '.', so they are numbered.
        self._const_slot: dict[str, str] = {}
        for i, (name, value) in enumerate(graph.constants.items()):
            slot = f"const{i}"
            self.register_buffer(slot, value.detach().clone(), persistent=False)
            self._const_slot[name] = slot
        self.output_name = output or self.nodes[-1].name
        self.stage_names = tuple(taps) if taps is not None else tuple(n.name for n in self.nodes)
        for name in self.stage_names:
            if name not in self._index:
                raise InceptionismError(f"The graph has no node named '{name}'.")
        self._plans: dict[frozenset[str], Plan] = {}

    # -- planning ---------------------------------------------------------------------

    def _plan(self, wanted: frozenset[str]) -> Plan:
        """What computing ``wanted`` takes: the nodes it depends on (in order), each
        tensor's last reader, and two rewrites that save a full pass over an activation
        each: a convolution whose only reader is a bias add (TensorFlow's Conv2D +
        BiasAdd) takes the bias itself, and a ReLU that is the only reader of a tensor
        nobody else wants runs in place (only after ops whose backward does not need
        their output)."""
        if wanted in self._plans:
            return self._plans[wanted]
        needed: set[int] = set()
        stack = [self._index[name] for name in wanted]
        while stack:
            i = stack.pop()
            if i in needed:
                continue
            needed.add(i)
            for name in self.nodes[i].inputs:
                j = self._index.get(name)
                if j is not None and j not in needed:
                    stack.append(j)
        order = sorted(needed)
        readers: dict[str, list[int]] = {}
        for i in order:
            for name in self.nodes[i].inputs:
                readers.setdefault(name, []).append(i)
        fuse: dict[int, int] = {}
        for i in order if self.rewrites else ():
            node = self.nodes[i]
            users = readers.get(node.name, [])
            if node.op == "conv" and len(node.inputs) == 2 and node.name not in wanted and len(users) == 1:
                bias = self.nodes[users[0]]
                if bias.op == "bias" and bias.inputs[0] == node.name and bias.inputs[1] in self._const_slot:
                    fuse[i] = users[0]
        producer_ok = {"conv", "bias", "add", "sub", "gemm", "matmul", "batchnorm"}
        inplace: set[int] = set()
        for i in order if self.rewrites else ():
            node = self.nodes[i]
            if node.op not in ("relu", "relu6") or not node.inputs:
                continue
            source = node.inputs[0]
            j = self._index.get(source)
            if (j is not None and self.nodes[j].op in producer_ok and source not in wanted
                    and readers.get(source) == [i]):
                inplace.add(i)
        last_use = {name: users[-1] for name, users in readers.items()}
        plan = Plan(order, last_use, fuse, set(fuse.values()), inplace)
        self._plans[wanted] = plan
        return plan

    def check_layers(self, layers: Iterable[str]) -> list[str]:
        layers = list(layers)
        for name in layers:
            if name not in self._index or (name not in self.stage_names and name != self.output_name):
                raise UnknownLayerError(name, self.stage_names)
        return layers

    # -- running ----------------------------------------------------------------------

    def const(self, name: str) -> Tensor:
        return getattr(self, self._const_slot[name])

    def run(self, x: Tensor, wanted: Iterable[str], tolerant: bool = False) -> dict[str, Tensor]:
        """The tensors ``wanted``, computing only what they need.

        ``tolerant``: a node that fails (a head fed the wrong size) is left out, with the
        nodes that depend on it, instead of raising; used to measure layer shapes."""
        wanted = frozenset(wanted)
        plan = self._plan(wanted)
        env: dict[str, Tensor] = {self.input_name: x}
        out: dict[str, Tensor] = {}
        for i in plan.order:
            if i in plan.fused_away:
                continue  # a bias add its convolution already did
            node = self.nodes[i]
            if any(name not in env and name not in self._const_slot for name in node.inputs):
                continue  # tolerant mode: an input failed
            try:
                if i in plan.fuse:
                    bias = self.nodes[plan.fuse[i]]
                    value = _conv(env[node.inputs[0]], self.const(node.inputs[1]),
                                  self.const(bias.inputs[1]), node.attrs)
                    node = bias
                elif i in plan.inplace:
                    source = env[node.inputs[0]]
                    value = F.relu_(source) if node.op == "relu" else F.relu6(source, inplace=True)
                else:
                    value = self._eval(node, env)
            except (RuntimeError, InceptionismError, ValueError) as exc:
                if tolerant:
                    continue
                if isinstance(exc, InceptionismError):
                    raise
                height, width = x.shape[-2:]
                raise InceptionismError(
                    f"Layer {node.name} ({node.source_op or node.op}) cannot run on a "
                    f"{width}x{height} input ({str(exc).splitlines()[0][:200]})."
                ) from None
            env[node.name] = value
            if node.name in wanted:
                out[node.name] = value
            for name in self.nodes[i].inputs:
                if plan.last_use.get(name) == i and name not in wanted:
                    env.pop(name, None)
        return out

    def _arg(self, name: str, env: Mapping[str, Tensor]) -> Tensor:
        return env[name] if name in env else self.const(name)

    def _eval(self, node: Node, env: Mapping[str, Tensor]) -> Tensor:
        a = node.attrs
        args = [self._arg(name, env) for name in node.inputs]
        x = args[0] if args else None
        op = node.op
        if op == "conv":
            return _conv(x, args[1], args[2] if len(args) > 2 else None, a)
        if op == "bias":
            b = args[1]
            return x + (b.view(1, -1, 1, 1) if x.dim() == 4 else b)
        if op == "relu":
            return F.relu(x)
        if op == "relu6":
            return F.relu6(x)
        if op == "sigmoid":
            return torch.sigmoid(x)
        if op == "tanh":
            return torch.tanh(x)
        if op == "leaky_relu":
            return F.leaky_relu(x, a.get("alpha", 0.01))
        if op == "maxpool":
            return _maxpool(x, a)
        if op == "avgpool":
            return _avgpool(x, a)
        if op == "global_avgpool":
            return x.mean((-2, -1), keepdim=True)
        if op == "global_maxpool":
            return x.amax((-2, -1), keepdim=True)
        if op == "lrn":
            return _lrn(x, a["size"], a["alpha"], a["beta"], a["bias"])
        if op == "concat":
            axis = a["axis"]
            if a.get("order") == "nhwc":
                axis = _to_nhwc_axis(axis, x.dim())
            return torch.cat(args, axis)
        if op == "reshape":
            shape = tuple(int(s) for s in (a["shape"] if "shape" in a else args[1].tolist()))
            return _reshape(x, shape, a, node)
        if op == "flatten":
            if x.dim() == 4 and a.get("order") == "nhwc":
                x = x.permute(0, 2, 3, 1)
            axis = a.get("axis", 1)
            return x.reshape(math.prod(x.shape[:axis]), -1)
        if op == "matmul":
            left = x.transpose(-2, -1) if a.get("transpose_a") else x
            right = args[1].transpose(-2, -1) if a.get("transpose_b") else args[1]
            return left @ right
        if op == "gemm":
            left = x.transpose(-2, -1) if a.get("transpose_a") else x
            right = args[1].transpose(-2, -1) if a.get("transpose_b") else args[1]
            y = a.get("alpha", 1.0) * (left @ right)
            if len(args) > 2:
                y = y + a.get("beta", 1.0) * args[2]
            return y
        if op in ("add", "sub", "mul", "div"):
            return {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op](
                x, args[1]
            )
        if op == "batchnorm":
            scale, shift, mean, var = args[1:5]
            return F.batch_norm(x, mean, var, scale, shift, False, 0.0, a.get("epsilon", 1e-5))
        if op == "softmax":
            axis = a.get("axis", -1)
            if a.get("order") == "nhwc":
                axis = _to_nhwc_axis(axis, x.dim())
            return torch.softmax(x, axis)
        if op == "identity":
            return x
        raise InceptionismError(f"Node {node.name}: op '{op}' is not supported.")

    # -- the LayeredNet interface -----------------------------------------------------

    def features(self, x: Tensor, layers: Iterable[str]) -> dict[str, Tensor]:
        return self.run(x, self.check_layers(layers))

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x, [self.output_name])[self.output_name]

    def probe_shapes(self, x: Tensor) -> dict[str, tuple[int, ...]]:
        """Output shape (without batch) of every tap that can be computed at this size."""
        with torch.no_grad():
            out = self.run(x, self.stage_names, tolerant=True)
        return {name: tuple(value.shape[1:]) for name, value in out.items()}

    def consumers(self) -> dict[str, list[str]]:
        """For each tensor, the nodes that read it."""
        users: dict[str, list[str]] = {}
        for node in self.nodes:
            for name in node.inputs:
                users.setdefault(name, []).append(node.name)
        return users

    def node(self, name: str) -> Node:
        return self.nodes[self._index[name]]

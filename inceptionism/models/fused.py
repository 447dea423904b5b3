"""Convolutions for dreaming on a CPU: the activation fused in, and a backward that computes
only what a dream needs.

A dream differentiates with respect to the *image*, never the weights. PyTorch's autograd
does not know that in advance, so for every convolution it keeps the convolution's input
(for a weight gradient that is never asked for), and for every ReLU its output: two
activation-sized float tensors per conv-ReLU pair, written in the forward pass and read in
the backward. :class:`FusedConv` instead

1. runs the convolution, its bias and its ReLU / ReLU6 as one oneDNN primitive
   (``torch.ops.mkldnn._convolution_pointwise`` with a ``relu`` or ``hardtanh`` post-op, the
   op PyTorch's own CPU compiler emits for inference), so the activation is never written
   and read again by a separate ReLU; a 1x1 convolution is one matrix product over the
   channels-last rows (no im2col, no layout reorders);
2. keeps only the activation's output ``y`` (where ``y`` is 0, or 6 for ReLU6, the input was
   cut off), not the convolution's input: one activation-sized tensor instead of two (a
   one-byte mask would be smaller, but computing it took three extra passes, measured
   slower than this);
3. in the backward, zeroes the gradient where the activation cut (``threshold_backward`` /
   ``hardtanh_backward`` on ``y``) and computes the input gradient alone
   (``aten.convolution_backward`` with the weight and bias gradients masked off, as
   ``torch.nn.grad.conv2d_input`` does, or the matrix product with the weights); for a
   stride-1 convolution that is oneDNN's forward convolution with the kernels transposed and
   flipped, which is what its backward-data primitive runs anyway;
4. keeps its kernels, and the transposed ones, in oneDNN's blocked layout for the last few
   input shapes it saw (:class:`_Packed`), instead of letting oneDNN lay them out again on
   every call.

The function computed is the same; the result equals the plain network's up to float
rounding (tested per architecture, float32 and bfloat16). CPU only: on a GPU cuDNN keeps its
own kernels. Under CPU autocast to bfloat16 the input and a bfloat16 copy of the weights go
into the fused op, as autocast would do for a convolution.
"""

from __future__ import annotations

import copy
import threading
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ACTIVATIONS = {None: ("none", []), "relu": ("relu", []), "relu6": ("hardtanh", [0.0, 6.0])}

# The signed integers of the half-precision floats' width. A ReLU's output is +0, -0 or
# positive; read as a signed integer its bits are > 0 exactly where the float is > 0.
_SAME_WIDTH_INT = {torch.bfloat16: torch.int16, torch.float16: torch.int16}


def relu_backward(grad: Tensor, y: Tensor, out: Tensor | None = None) -> Tensor:
    """``grad`` where the ReLU output ``y`` is positive, else 0 (``threshold_backward(grad,
    y, 0)``), written into ``out`` if given. In bfloat16 and float16 it runs on the tensors'
    bits read as int16, and PyTorch's CPU kernel is faster on int16 than on half-precision
    floats (measured, one thread, channels-last bfloat16: 0.65 -> 0.34 ms at 64x147x147,
    0.068 -> 0.022 ms at 768x17x17). The same result bit for bit wherever ``y`` is a number
    (tested); where ``y`` is a NaN with its sign bit set, which reads as a negative
    integer, the gradient is cut instead of passed (a dream with NaN activations has
    already failed). Float32 gains nothing from int32 and runs as it is."""
    ints = _SAME_WIDTH_INT.get(grad.dtype)
    if ints is not None and y.dtype == grad.dtype and (out is None or out.dtype == grad.dtype):
        bits = relu_backward(grad.view(ints), y.view(ints), None if out is None else out.view(ints))
        return bits.view(grad.dtype) if out is None else out
    if out is None:
        return torch.ops.aten.threshold_backward(grad, y, 0)
    return torch.ops.aten.threshold_backward.grad_input(grad, y, 0, grad_input=out)


def _rows(x: Tensor) -> Tensor:
    """An (N, C, H, W) tensor as its (N*H*W, C) matrix: a view when the memory is
    channels-last or a channel slice of a channels-last tensor (a matrix with a row stride,
    which the matrix product reads as it is), else one copy."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


class _Spec:
    """What a :class:`FusedConv` passes its autograd function: fixed at construction, so a
    step's hundreds of calls do no per-call bookkeeping."""

    __slots__ = ("stride", "padding", "dilation", "groups", "act", "attr", "scalars",
                 "pointwise", "transposed_padding")

    def __init__(self, conv: nn.Conv2d, act: str | None):
        self.stride, self.padding = list(conv.stride), list(conv.padding)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        self.act = act
        self.attr, self.scalars = ACTIVATIONS[act]
        # A 1x1 convolution is a matrix product over channels-last rows: no im2col, no reorders.
        self.pointwise = (tuple(conv.weight.shape[2:]) == (1, 1) and conv.groups == 1
                          and self.stride == [1, 1] and self.padding == [0, 0])
        # A stride-1 convolution's input gradient is the forward convolution of the output
        # gradient with the kernels transposed (in and out channels) and flipped, padded by
        # k - 1 - p. oneDNN's backward-data primitive runs its forward kernel on that problem
        # anyway (measured bit-equal on Inception's shapes), and this way the transposed
        # kernels can be packed. Not for depthwise convolutions: there oneDNN's forward
        # kernel was faster on most shapes but 3x slower on one (144 channels at 108x96).
        kernel = conv.weight.shape[2:]
        self.transposed_padding = (
            [k - 1 - p for k, p in zip(kernel, self.padding)]
            if not self.pointwise and self.stride == [1, 1] and self.dilation == [1, 1]
            and conv.groups == 1 and all(p <= k - 1 for k, p in zip(kernel, self.padding))
            else None)

    def without_act(self) -> _Spec:
        bare = copy.copy(self)
        bare.act = None
        bare.attr, bare.scalars = ACTIVATIONS[None]
        return bare


class _Packed:
    """A convolution's kernels in the blocked layout oneDNN picks for one input shape and
    dtype: the forward kernels and (where the spec allows) the transposed, flipped ones of
    the input gradient. Without them oneDNN lays the plain kernels out again on every call:
    measured, 372 reorders taking 44 ms of a 520 ms bfloat16 Inception v3 step at 1 MP, and
    54 ms of float32's 1.33 s (whose input gradients also ran 30 ms faster through the
    forward kernel). The layout depends on the input's shape (a kernel packed for one shape
    and used for another is re-laid out at great cost: 70 ms for one of Inception's), so
    packs are kept per shape, a few at a time (:data:`PACKED_SHAPES`)."""

    __slots__ = ("forward", "backward")

    def __init__(self, weight: Tensor, spec: _Spec, shape: tuple[int, ...]):
        n, _, h, w = shape
        self.backward = None
        self.forward = torch.ops.aten.mkldnn_reorder_conv2d_weight(
            weight.to_mkldnn(), spec.padding, spec.stride, spec.dilation, spec.groups,
            list(shape))
        if spec.transposed_padding is not None:
            flipped = weight.transpose(0, 1).flip(2, 3).contiguous()
            self.backward = torch.ops.aten.mkldnn_reorder_conv2d_weight(
                flipped.to_mkldnn(), spec.transposed_padding, [1, 1], [1, 1], 1,
                [n, weight.shape[0], h, w])


# How many (dtype, input shape) packs a FusedConv keeps: an octave's tiles come in up to four
# shapes (sides split into lengths that differ by one); older packs are dropped first. One
# set for every convolution up to Inception v3's Mixed_6c: 5.1 M weights, 20 MiB in
# bfloat16 and 41 MiB in float32 (forward and backward together).
PACKED_SHAPES = 4
_PACKING = threading.Lock()


class _ConvAct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, spec: _Spec,
                packed: _Packed | None) -> Tensor:
        if spec.pointwise:
            n, _, h, w = x.shape
            # One oneDNN matrix product, the bias and activation applied by its kernel.
            out = torch.ops.mkldnn._linear_pointwise(
                _rows(x), weight.view(weight.shape[0], -1), bias, spec.attr, spec.scalars, "")
            y = out.view(n, h, w, weight.shape[0]).permute(0, 3, 1, 2)
        else:
            y = torch.ops.mkldnn._convolution_pointwise(
                x, weight if packed is None else packed.forward, bias, spec.padding,
                spec.stride, spec.dilation, spec.groups, spec.attr, spec.scalars, "")
        ctx.save_for_backward(weight, y if spec.act else None)
        ctx.spec, ctx.shape, ctx.packed = spec, x.shape, packed
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):
        weight, y = ctx.saved_tensors
        spec, shape = ctx.spec, ctx.shape
        if spec.act == "relu":  # where y = 0 the input was <= 0: no gradient
            grad = relu_backward(grad, y)
        elif spec.act == "relu6":  # y = clamp(input, 0, 6): 0 or 6 exactly where it was cut
            grad = torch.ops.aten.hardtanh_backward(grad, y, 0.0, 6.0)
        if spec.pointwise:
            n, _, h, w = shape
            # The activation's backward writes channels-last like y: no copy in _rows.
            grad_x = (_rows(grad) @ weight.view(weight.shape[0], -1)).view(n, h, w, shape[1])
            grad_x = grad_x.permute(0, 3, 1, 2)
        elif ctx.packed is not None and ctx.packed.backward is not None:
            grad_x = torch.ops.mkldnn._convolution_pointwise(
                grad.contiguous(memory_format=torch.channels_last), ctx.packed.backward, None,
                spec.transposed_padding, [1, 1], [1, 1], 1, "none", [], "")
        else:
            # Only the input's shape and layout are read (no weight gradient is asked for);
            # an unwritten channels-last tensor makes the gradient channels-last too.
            dummy = torch.empty(shape, dtype=grad.dtype, memory_format=torch.channels_last)
            grad_x = torch.ops.aten.convolution_backward(
                grad, dummy, weight, None, spec.stride, spec.padding, spec.dilation, False,
                [0, 0], spec.groups, (True, False, False))[0]
        return grad_x, None, None, None, None


class _BiasAct(torch.autograd.Function):
    """``act(x + bias)``, the bias per channel; keeps only the output for the backward."""

    @staticmethod
    def forward(ctx, x: Tensor, bias: Tensor | None, act: str | None) -> Tensor:
        if bias is not None:
            y = x.add(bias.view(1, -1, 1, 1))
            if act == "relu":
                y.clamp_min_(0)
            elif act == "relu6":
                y.clamp_(0, 6)
        else:
            y = x.clamp_min(0) if act == "relu" else x.clamp(0, 6) if act == "relu6" else x.clone()
        ctx.save_for_backward(y if act else None)
        ctx.act = act
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):
        (y,) = ctx.saved_tensors
        if ctx.act == "relu":
            grad = relu_backward(grad, y)
        elif ctx.act == "relu6":
            grad = torch.ops.aten.hardtanh_backward(grad, y, 0.0, 6.0)
        return grad, None, None


class _LowPrecision:
    """For a module with ``weight`` and ``bias`` (and a ``_low`` dict): the operands of a
    call, in the dtype CPU autocast runs it in, as autocast would give a convolution."""

    def _weights(self, dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
        if dtype not in self._low:  # made once; two workers racing make the same copy
            self._low[dtype] = (self.weight.detach().to(dtype),
                                None if self.bias is None else self.bias.detach().to(dtype))
        return self._low[dtype]

    def _operands(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """``x``, ``weight`` and ``bias``, cast to autocast's dtype where it is on."""
        if torch.is_autocast_enabled("cpu"):
            x = x.to(torch.get_autocast_dtype("cpu"))
        if x.dtype == self.weight.dtype:
            return x, self.weight, self.bias
        return (x, *self._weights(x.dtype))


class FusedConv(_LowPrecision, nn.Module):
    """A 2-D convolution (zero padding) with an optional ReLU or ReLU6 after it, for CPU
    dreams (see the module docstring). Made from an existing ``nn.Conv2d``, whose weights
    it shares."""

    def __init__(self, conv: nn.Conv2d, act: str | None = None):
        super().__init__()
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}")
        self.weight = conv.weight
        self.bias = conv.bias
        self.act = act
        self.groups = conv.groups  # DreamNet.depthwise tells depthwise networks by it
        self.spec = _Spec(conv, act)
        self._low: dict[torch.dtype, tuple[Tensor, Tensor | None]] = {}
        self._packed: dict[tuple, _Packed] = {}  # by (dtype, input shape), oldest first

    @staticmethod
    def fusable(conv: nn.Module) -> bool:
        """Whether ``conv`` is a convolution this module can replace."""
        return (type(conv) is nn.Conv2d and conv.padding_mode == "zeros"
                and all(isinstance(p, int) for p in conv.padding))

    def _pack(self, x: Tensor, weight: Tensor) -> _Packed:
        key = (x.dtype, *x.shape)
        packed = self._packed.get(key)
        if packed is None:
            packed = _Packed(weight, self.spec, tuple(x.shape))
            with _PACKING:  # tile workers share the module
                self._packed[key] = packed
                while len(self._packed) > PACKED_SHAPES:
                    del self._packed[next(iter(self._packed))]
        return packed

    def forward(self, x: Tensor) -> Tensor:
        x, weight, bias = self._operands(x)
        # Packed kernels are copies: only for frozen weights. A 1x1 convolution's matrix product
        # was measured hardly faster on packed weights (a few percent, 14% on one large float32
        # shape), not worth keeping a copy of most of a depthwise network's weights per shape.
        pack = (not self.spec.pointwise and not self.weight.requires_grad
                and x.device.type == "cpu" and x.is_contiguous(memory_format=torch.channels_last))
        return _ConvAct.apply(x, weight, bias, self.spec, self._pack(x, weight) if pack else None)

    def without_act(self) -> FusedConv:
        """The same convolution without its activation: the same weights (tied), bfloat16
        copies and packed kernels (which do not depend on the activation)."""
        twin = FusedConv.__new__(FusedConv)
        nn.Module.__init__(twin)
        twin.weight, twin.bias, twin.groups = self.weight, self.bias, self.groups
        twin.act, twin.spec = None, self.spec.without_act()
        twin._low, twin._packed = self._low, self._packed
        return twin

    def __getstate__(self):  # oneDNN's packed kernels cannot be pickled: they are remade
        state = self.__dict__.copy()
        state["_packed"] = {}
        return state

    def extra_repr(self) -> str:
        return (f"{self.weight.shape[1] * self.spec.groups}, {self.weight.shape[0]}, "
                f"kernel_size={tuple(self.weight.shape[2:])}, stride={tuple(self.spec.stride)}, "
                f"act={self.act}")


def _activation(node: torch.fx.Node, stage: torch.fx.GraphModule) -> str | None:
    """'relu' or 'relu6' when ``node`` applies one to its first argument, else None."""
    if node.op == "call_module":
        module = stage.get_submodule(node.target)
        if type(module) is nn.ReLU:
            return "relu"
        if type(module) is nn.ReLU6:
            return "relu6"
    if node.op == "call_function" and node.target in (torch.relu, F.relu, torch.relu_):
        return "relu"
    if node.op == "call_function" and node.target is F.relu6:
        return "relu6"
    return None


def writes_in_place(node: torch.fx.Node, stage: torch.fx.GraphModule) -> bool:
    """Whether the fx ``node`` may change one of its arguments in place: a module with
    ``inplace`` set, a method or function whose name ends in ``_`` (``mul_``,
    ``torch.relu_``), or a call with a literal ``True`` among its arguments (``F.relu(x,
    inplace=True)``; erring on the side of "may")."""
    if node.op == "call_module":
        return bool(getattr(stage.get_submodule(node.target), "inplace", False))
    if node.op not in ("call_method", "call_function"):
        return False
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    return ((name.endswith("_") and not name.endswith("__"))
            or any(a is True for a in (*node.args, *node.kwargs.values())))


def fuse_convolutions(stage: nn.Module) -> int:
    """Replace, in an fx-traced ``stage``, every convolution by a :class:`FusedConv`, taking
    in the ReLU / ReLU6 that is the convolution's only user. A convolution whose output is
    used elsewhere too (a layer someone taps, a residual branch) keeps its activation
    apart. Returns how many convolutions were replaced."""
    if not isinstance(stage, torch.fx.GraphModule):
        return 0
    count = 0
    for node in list(stage.graph.nodes):
        if node.op != "call_module" or not FusedConv.fusable(stage.get_submodule(node.target)):
            continue
        conv = stage.get_submodule(node.target)
        users = list(node.users)
        act = _activation(users[0], stage) if len(users) == 1 else None
        name = f"fused_{count}"
        stage.add_submodule(name, FusedConv(conv, act))
        with stage.graph.inserting_after(node):
            fused = stage.graph.call_module(name, (node.args[0],))
        if act is not None:
            users[0].replace_all_uses_with(fused)
            stage.graph.erase_node(users[0])
        node.replace_all_uses_with(fused)
        stage.graph.erase_node(node)
        count += 1
    if count:
        # Unused results go, but not a call that writes into a tensor someone reads later.
        stage.graph.eliminate_dead_code(
            is_impure_node=lambda n: n.is_impure() or writes_in_place(n, stage))
        stage.delete_all_unused_submodules()
        stage.recompile()
    return count


def fused_stage(original: nn.Module, folded: nn.Module) -> nn.Module:
    """The stage to dream with on a CPU: a stage that is one convolution (VGG's, ResNet's
    ``conv1``) becomes a :class:`FusedConv` (its activation is a stage, i.e. a layer, of its
    own); a traced stage (``folded``, batch norms folded) gets its convolutions fused in
    place."""
    if FusedConv.fusable(original):
        return FusedConv(original)
    fuse_convolutions(folded)
    return folded


class PooledPointwise(nn.Module):
    """``conv(pool(x))`` for a 1x1 :class:`FusedConv` ``conv`` after a ``pool`` that averages
    each channel on its own (a linear map per channel, zeros of the padding counted: the
    self-adjoint box filter), computed as ``act(pool(W x) + b)``. The two linear maps
    commute, so the pool runs on the convolution's output channels instead of its input
    channels: Inception v3's pooling branches take 768 channels to 192 (288 to 64, 192 to
    32), and the pool's forward and backward shrink with them. The bias and activation,
    which do not commute with the pool, follow it. The same function up to float rounding
    (tested); measured on one bfloat16 Mixed_6b branch at 22x25, forward and backward:
    1.67 -> 1.09 ms."""

    def __init__(self, pool: Callable[[Tensor], Tensor], conv: FusedConv):
        super().__init__()
        if not conv.spec.pointwise:
            raise ValueError("only a 1x1 convolution commutes with a channel-wise pool")
        self.pool = pool
        self.conv = conv  # its weights, and their bfloat16 copies
        self.spec = conv.spec.without_act()

    def forward(self, x: Tensor) -> Tensor:
        x, weight, bias = self.conv._operands(x)
        z = _ConvAct.apply(x, weight, None, self.spec, None)
        return _BiasAct.apply(self.pool(z), bias, self.conv.act)


class _SiblingsAct(torch.autograd.Function):
    """Several 1x1 convolutions of one input as one matrix product (see
    :class:`SiblingPointwise`); one output per convolution."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, spec: _Spec,
                splits: tuple[int, ...], dense: tuple[bool, ...]) -> tuple[Tensor, ...]:
        n, _, h, w = x.shape
        out = torch.ops.mkldnn._linear_pointwise(_rows(x), weight, bias, spec.attr, spec.scalars, "")
        y = out.view(n, h, w, weight.shape[0]).permute(0, 3, 1, 2)
        parts = y.split(splits, 1)
        ctx.save_for_backward(weight, y if spec.act else None)
        ctx.spec, ctx.shape, ctx.splits = spec, x.shape, splits
        ctx.set_materialize_grads(False)  # an unused output's gradient: None, not zeros
        # A part read by a convolution with a window is copied to channels-last memory (its
        # kernels want it, and would copy it anyway); a part that only goes into a
        # concatenation or another matrix product is read where it lies.
        return tuple(p.clone(memory_format=torch.channels_last) if d else p
                     for p, d in zip(parts, dense))

    @staticmethod
    def backward(ctx, *grads: Tensor):
        weight, y = ctx.saved_tensors
        spec, (n, c, h, w) = ctx.spec, ctx.shape
        rows = weight.new_empty((n, h, w, weight.shape[0]))
        grad = rows.permute(0, 3, 1, 2)
        # Each part's gradient, cut where its activation cut, written straight into its
        # columns of one gradient: no sum of per-convolution input gradients.
        outs = y.split(ctx.splits, 1) if y is not None else (None,) * len(grads)
        for g, into, out in zip(grads, grad.split(ctx.splits, 1), outs):
            if g is None:
                into.zero_()
            elif spec.act == "relu":
                relu_backward(g, out, into)
            elif spec.act == "relu6":
                torch.ops.aten.hardtanh_backward.grad_input(g, out, 0.0, 6.0, grad_input=into)
            else:
                into.copy_(g)
        grad_x = (rows.view(-1, weight.shape[0]) @ weight).view(n, h, w, c).permute(0, 3, 1, 2)
        return grad_x, None, None, None, None, None


class SiblingPointwise(_LowPrecision, nn.Module):
    """The 1x1 :class:`FusedConv` modules that read the same input (the first convolution of most
    branches of an Inception block) as one matrix product over the concatenated kernels,
    returning each convolution's output. The input is read once instead of once per
    branch, and in the backward the branches' gradients go through one matrix product into
    one input gradient, instead of one per branch summed at the branch point (measured, one
    thread, a 1 MP step: bfloat16 Inception v3 0.434 -> 0.401 s, GoogLeNet 0.364 -> 0.356
    s; float32 Inception v3 1.20 -> 1.18 s). The same function up to float rounding
    (tested). ``dense[i]``: the i-th output is read by a convolution with a window, and is
    made channels-last contiguous; the others are views of the product's columns."""

    def __init__(self, convs: list[FusedConv], dense: list[bool]):
        super().__init__()
        first = convs[0]
        if (len(convs) < 2 or any(not c.spec.pointwise or c.act != first.act
                                  or (c.bias is None) != (first.bias is None) for c in convs)):
            raise ValueError("only two or more 1x1 convolutions with the same activation and "
                             "bias merge")
        self.weight = nn.Parameter(torch.cat([c.weight.detach().flatten(1) for c in convs]),
                                   requires_grad=False)
        self.bias = (None if first.bias is None else
                     nn.Parameter(torch.cat([c.bias.detach() for c in convs]), requires_grad=False))
        self.act = first.act
        self.spec = first.spec
        self.splits = tuple(c.weight.shape[0] for c in convs)
        self.dense = tuple(dense)
        self._low: dict[torch.dtype, tuple[Tensor, Tensor | None]] = {}

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        x, weight, bias = self._operands(x)
        return _SiblingsAct.apply(x, weight, bias, self.spec, self.splits, self.dense)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {list(self.splits)}, act={self.act}"


class _MaxPoolAct(torch.autograd.Function):
    """``act(max_pool(z))`` for a ReLU or ReLU6 ``act``, keeping the pool's indices and the
    output for the backward (not ``z``, which PyTorch's max pool would keep)."""

    @staticmethod
    def forward(ctx, z: Tensor, pool: tuple, act: str) -> Tensor:
        ints = _SAME_WIDTH_INT.get(z.dtype)
        # The activation zeroes whatever is not positive, so only the positive values need
        # their order, and a half-precision float's bits read as int16 keep it: pooling the
        # bits picks the same maximum (the first of equal ones), and a window with nothing
        # positive gives a value the activation zeroes as well, though as +0 where the
        # float pool's -0 would stay -0 (-0 reads as the smallest integer); and a NaN with
        # its sign bit set is never picked. The gradient is the same, bit for bit. PyTorch
        # pools integers only in planes of at most the integer's largest value of positions.
        if ints is not None and z.shape[-2] * z.shape[-1] <= torch.iinfo(ints).max:
            bits, indices = torch.ops.aten.max_pool2d_with_indices(z.view(ints), *pool)
            pooled = bits.view(z.dtype)
        else:
            pooled, indices = torch.ops.aten.max_pool2d_with_indices(z, *pool)
        y = pooled.clamp_min_(0) if act == "relu" else pooled.clamp_(0, 6)
        ctx.save_for_backward(indices, y)
        ctx.pool, ctx.act, ctx.input = pool, act, (z.shape, z.stride())
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):
        indices, y = ctx.saved_tensors
        if ctx.act == "relu":
            grad = relu_backward(grad, y)
        else:
            grad = torch.ops.aten.hardtanh_backward(grad, y, 0.0, 6.0)
        # Only the input's shape and layout are read: the gradient goes where the indices say.
        shape, stride = ctx.input
        like = torch.empty_strided(shape, stride, dtype=grad.dtype, device=grad.device)
        return (torch.ops.aten.max_pool2d_with_indices_backward(grad, like, *ctx.pool, indices),
                None, None)


class ConvThenMaxPool(nn.Module):
    """A ReLU / ReLU6 convolution and the max pool after it, pooled before the activation:
    ``pool(act(conv(x))) == act(pool(conv(x)))`` exactly, since the activation never
    lowers a larger value below a smaller one, and the gradient is the same too (the pool
    routes it to the same first maximum; where that maximum is cut by the activation,
    both give zero). The activation, and the output kept for its backward, are then a
    quarter of the size for a stride-2 pool: measured on GoogLeNet's ``conv1`` at 216x192
    (64 channels), the ReLU's backward took 5.2 of a bfloat16 tile's 80 ms. The pool keeps
    its indices but not its input for the backward, and in bfloat16 pools the bits as
    integers where the plane is small enough (:class:`_MaxPoolAct`; the same values, a zero
    may come out +0 where the float pool gives -0): measured, one thread, Inception v3's
    ``maxpool2`` took 5.9 instead of 11.0 ms of a bfloat16 1 MP step. Used by
    :meth:`~.optimize.StagedNet.features` for two stages whose first one is not a
    requested layer."""

    def __init__(self, conv: FusedConv, pool: nn.MaxPool2d):
        super().__init__()
        if conv.act not in ("relu", "relu6"):
            raise ValueError("only a ReLU or ReLU6 convolution's max pool can go first")
        if pool.return_indices:
            raise ValueError("only a max pool that returns its output alone can go first")
        self.conv = conv.without_act()
        self.act = conv.act

        def pair(v) -> list[int]:  # an nn.MaxPool2d size: one int for both sides, or two
            return [v, v] if isinstance(v, int) else list(v)

        # The pool's sizes only (nn.MaxPool2d has made its stride the window when none was
        # given): the pool itself is never called, so it is not kept as a submodule.
        self._pool_args = (pair(pool.kernel_size), pair(pool.stride), pair(pool.padding),
                           pair(pool.dilation), bool(pool.ceil_mode))

    def forward(self, x: Tensor) -> Tensor:
        return _MaxPoolAct.apply(self.conv(x), self._pool_args, self.act)

    def extra_repr(self) -> str:
        kernel, stride, padding, dilation, ceil = self._pool_args
        return (f"act={self.act}, max_pool(kernel_size={kernel}, stride={stride}, "
                f"padding={padding}, dilation={dilation}, ceil_mode={ceil})")

"""Make a frozen model faster for dreaming, without changing what it computes.

* **Batch-norm folding.** In eval mode a BatchNorm after a convolution is an affine map
  per channel, so it can be folded into the convolution's weights and bias
  (w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta).
  That removes a full read and write of every activation in the forward pass and again in
  the backward pass; on a CPU, where these depthwise-heavy networks are memory-bound, that is
  a large share of a step. Each named stage is traced with torch.fx and every conv+bn pair
  in its graph folded (:func:`_fold_stage`), so any architecture in the registry benefits
  without model-specific code; a stage that fx cannot trace is left as it is.
* **In-place activations.** A ReLU or ReLU6 whose input feeds nothing else may overwrite it:
  one activation-sized tensor less to allocate and write per layer, and autograd computes
  their backward from the output alone. Checked on each stage's fx graph, call site by call
  site, so a tensor that is also used elsewhere (a stage's input, a residual branch, a
  layer someone taps) is never overwritten.
* **Self-adjoint average pooling.** An average pool with stride 1, an odd window ``k``,
  padding ``k // 2`` and the zeros of the padding counted (``count_include_pad``, PyTorch's
  default: Inception v3's pooling branches) is a symmetric box filter, which is its own
  adjoint: its backward is the same pooling applied to the gradient. PyTorch's
  ``avg_pool2d_backward`` scatters window by window instead (on channels-last bfloat16 it
  took 2.1 ms a call against 0.33 ms for the forward pool), so such calls are replaced by
  :func:`box_filter`, whose backward is the forward kernel.
* **The input transform in the normalization** (:func:`absorb_input_transform`): GoogLeNet's
  and Inception v3's first stage rescales each channel of the normalized input; one
  ``(x - mean) / std`` does both.
* **Max pools before the activation** (CPU, :func:`pool_before_activation`): a ReLU
  convolution stage and the max pool stage after it run as one module that pools first,
  whenever the convolution's own layer is not asked for; the same values and input
  gradient (in bfloat16 a zero may come out +0 for -0), and the ReLU's work a quarter of
  the size.
* **Pools after 1x1 convolutions** (CPU): a box filter whose only user is a fused 1x1
  convolution (Inception v3's pooling branches) commutes with the convolution's matrix
  product, so it pools the convolution's output channels (192 instead of 768) and the bias
  and activation follow (:class:`~.fused.PooledPointwise`; a bfloat16 step 7% faster
  together with the objectives' one-pass backward, ``engine/objectives.py``).
* **Sibling 1x1 convolutions as one matrix product** (CPU,
  :class:`~.fused.SiblingPointwise`): the fused 1x1 convolutions that read the same tensor
  (the first convolution of most branches of an Inception block) run as one product over
  their concatenated kernels, so the block's input is read once and its gradient comes out
  of one product instead of a sum of one per branch (a bfloat16 Inception v3 step 7%
  faster).
* **Tiles in batches of two on a GPU** (:data:`TILE_BATCH`, for the architectures of the
  registry, whose every layer computes each image of a batch on its own). The dream loop
  stacks two tiles of one shape into one forward and backward pass (measured on an H200, one
  1 MP Inception v3 step: 84.6 -> 46.9 ms in float32). On the CPU tiles go one by one, each
  on its own single-threaded worker (``runtime.py``), so the batch is not used there.
* **Fused convolutions on the CPU** (:func:`~.fused.fused_stage`): each convolution
  and the ReLU / ReLU6 it feeds run as one op, 1x1 convolutions as one matrix product over
  channels-last rows, and the backward computes the input gradient alone, keeping the
  activation's output instead of the convolution's input and output: half the saved
  activations per tile (EfficientNet-Lite0 at 432x384: 149 -> 72 MiB) and a faster step.
* **Channels-last layout.** oneDNN's convolution kernels (and cuDNN's tensor-core paths)
  are fastest on NHWC tensors; the depthwise convolutions of EfficientNet gain the most.

The result computes the same function up to float32 rounding (tested).
"""

from __future__ import annotations

import copy
import operator
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from .base import DreamNet, LayeredNet, Normalization
from .fused import (ConvThenMaxPool, FusedConv, PooledPointwise, SiblingPointwise, fused_stage,
                    writes_in_place)
from .layers import TransformInput


class StagedNet(LayeredNet):
    """A LayeredNet assembled from already-built stage modules (e.g. fused copies)."""

    def __init__(self, stages: dict[str, nn.Module]):
        super().__init__()
        # Registered by position (names like "features.28" are not valid module names),
        # looked up by name.
        self.stage_list = nn.ModuleList(stages.values())
        self._by_name = dict(stages)
        self.stage_names = tuple(stages)
        # A stage and the next computed as one module (:meth:`pair`), by the first's name.
        self.pairs = nn.ModuleDict()

    def stage(self, name: str) -> nn.Module:
        return self._by_name[name]

    def replace_stage(self, name: str, module: nn.Module) -> None:
        self.stage_list[self.stage_names.index(name)] = module
        self._by_name[name] = module

    def pair(self, first: str, module: nn.Module) -> None:
        """Let ``module`` compute stage ``first`` and the next one together, whenever
        ``first``'s own output is not asked for."""
        self.pairs[str(self.stage_names.index(first))] = module

    def features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        wanted = set(self.check_layers(layers))
        out: dict[str, torch.Tensor] = {}
        names, i = self.stage_names, 0
        while i < len(names) and len(out) < len(wanted):
            key = str(i)
            pair = self.pairs[key] if key in self.pairs else None
            if pair is not None and names[i] not in wanted:
                x, i = pair(x), i + 1
            else:
                x = self.stage(names[i])(x)
            if names[i] in wanted:
                out[names[i]] = x
            i += 1
        return out


def fold_batchnorm(net: LayeredNet, consume: bool = False) -> StagedNet:
    """A copy of ``net`` (in eval mode) with every conv+bn pair inside a stage folded into
    one conv. A batch norm that is a stage of its own (ResNet's ``bn1``) stays: folding it
    into the previous stage would change what that stage's layer outputs. ``consume``: the
    caller will not use ``net`` again, so its modules are reused instead of copied (which
    saves a deep copy of every stage, about a fifth of loading the default model), and
    ``net`` is left broken."""
    stages = {}
    for name in net.stage_names:
        module = net.stage(name).eval()
        try:
            stages[name] = _fold_stage(module if consume else copy.deepcopy(module))
        except Exception:  # untraceable (data-dependent control flow): keep it unfused
            stages[name] = module
    return StagedNet(stages).eval()


_FOLDABLE = {nn.Conv1d: nn.BatchNorm1d, nn.Conv2d: nn.BatchNorm2d, nn.Conv3d: nn.BatchNorm3d}


def _fold_stage(module: nn.Module) -> torch.fx.GraphModule:
    """``module`` traced by torch.fx, each convolution whose only user is a batch norm (with
    running statistics, in eval mode) folded with it into the convolution, in place: what
    ``torch.fx.experimental.optimization.fuse`` does for convolutions, with PyTorch's own
    ``fuse_conv_bn_weights`` (the same weights, bit for bit), but on the traced module
    itself: that copied the traced graph and built a second module, and took twice as long
    as the trace (Inception v3: 0.12 s against 0.065 s)."""
    traced = torch.fx.symbolic_trace(module)
    pairs = []  # every fold is computed before any module changes: a failure changes nothing
    for node in traced.graph.nodes:
        source = node.args[0] if node.op == "call_module" and node.args else None
        if not (isinstance(source, torch.fx.Node) and source.op == "call_module"
                and len(source.users) == 1):
            continue
        conv, bn = traced.get_submodule(source.target), traced.get_submodule(node.target)
        if (_FOLDABLE.get(type(conv)) is not type(bn) or not bn.track_running_stats
                or bn.training):
            continue
        pairs.append((node, source, conv, fuse_conv_bn_weights(
            conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)))
    for node, source, conv, (weight, bias) in pairs:
        conv.weight, conv.bias = weight, bias
        node.replace_all_uses_with(source)
        traced.graph.erase_node(node)
    if pairs:
        traced.delete_all_unused_submodules()
        traced.recompile()
    return traced


def activations_in_place(stage: nn.Module) -> int:
    """Make the ReLU/ReLU6 modules of an fx-traced ``stage`` in-place where every call site
    allows it (its input is an intermediate result with no other user). Returns how many."""
    if not isinstance(stage, torch.fx.GraphModule):
        return 0
    verdict: dict[str, bool] = {}
    for node in stage.graph.nodes:
        if node.op != "call_module":
            continue
        module = stage.get_submodule(node.target)
        if not isinstance(module, (nn.ReLU, nn.ReLU6)):
            continue
        source = node.args[0]
        safe = isinstance(source, torch.fx.Node) and source.op != "placeholder" and len(source.users) == 1
        verdict[node.target] = verdict.get(node.target, True) and safe
    for target, safe in verdict.items():
        if safe:
            stage.get_submodule(target).inplace = True
    return sum(verdict.values())


class _BoxFilterFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel_size: int) -> torch.Tensor:
        ctx.kernel_size = kernel_size
        return F.avg_pool2d(x, kernel_size, 1, kernel_size // 2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        k = ctx.kernel_size
        return F.avg_pool2d(grad, k, 1, k // 2), None


def box_filter(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """``F.avg_pool2d(x, kernel_size, 1, kernel_size // 2)`` (zeros of the padding counted)
    for an odd ``kernel_size``, with the same pooling as its backward (it is self-adjoint)."""
    return _BoxFilterFn.apply(x, kernel_size)


def _box_window(node: torch.fx.Node) -> int | None:
    """The window of an ``F.avg_pool2d`` call that is a self-adjoint box filter, else None."""
    names = ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
             "divisor_override")
    defaults = {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                "divisor_override": None}
    args = {**defaults, **dict(zip(names, node.args)), **node.kwargs}

    def square(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        return v[0] if len(v) == 2 and v[0] == v[1] and isinstance(v[0], int) else None

    k = square(args.get("kernel_size"))
    if k is None or k % 2 == 0:
        return None
    stride = square(args["stride"]) if args["stride"] not in (None, ()) else k
    ok = (stride == 1 and square(args["padding"]) == k // 2 and args["ceil_mode"] is False
          and args["count_include_pad"] is True and args["divisor_override"] is None)
    return k if ok else None


def self_adjoint_pools(stage: nn.Module) -> int:
    """Replace the self-adjoint average pools of an fx-traced ``stage`` with
    :func:`box_filter`. Returns how many."""
    if not isinstance(stage, torch.fx.GraphModule):
        return 0
    count = 0
    for node in stage.graph.nodes:
        if node.op == "call_function" and node.target is F.avg_pool2d:
            k = _box_window(node)
            if k is not None:
                node.target, node.args, node.kwargs = box_filter, (node.args[0], k), {}
                count += 1
    if count:
        stage.recompile()
    return count


def pools_after_pointwise(stage: nn.Module) -> int:
    """In an fx-traced ``stage`` whose convolutions are fused (CPU), let each 1x1
    convolution that is the only user of a :func:`box_filter` pool first, and pool its
    output (:class:`~.fused.PooledPointwise`). Returns how many."""
    if not isinstance(stage, torch.fx.GraphModule):
        return 0
    count = 0
    for node in list(stage.graph.nodes):
        if not (node.op == "call_function" and node.target is box_filter and len(node.users) == 1):
            continue
        (user,) = node.users
        conv = stage.get_submodule(user.target) if user.op == "call_module" else None
        if not (isinstance(conv, FusedConv) and conv.spec.pointwise and user.args == (node,)):
            continue
        name = f"pooled_{count}"
        stage.add_submodule(name, PooledPointwise(partial(box_filter, kernel_size=node.args[1]), conv))
        with stage.graph.inserting_after(user):
            pooled = stage.graph.call_module(name, (node.args[0],))
        user.replace_all_uses_with(pooled)
        stage.graph.erase_node(user)
        stage.graph.erase_node(node)
        count += 1
    if count:
        stage.delete_all_unused_submodules()
        stage.recompile()
    return count


def merge_pointwise_siblings(stage: nn.Module) -> int:
    """In an fx-traced ``stage`` whose convolutions are fused (CPU), run the 1x1
    convolutions that read the same tensor with the same activation as one
    :class:`~.fused.SiblingPointwise` (the first convolutions of an Inception block's
    branches), where the first of them stood. A tensor that some call may write in place
    (:func:`~.fused.writes_in_place`) keeps its convolutions apart, each reading it where
    it stands. Returns how many merged modules were made."""
    if not isinstance(stage, torch.fx.GraphModule):
        return 0
    count = 0

    def pointwise(node: torch.fx.Node) -> FusedConv | None:
        if node.op != "call_module" or node.kwargs or len(node.args) != 1:
            return None
        module = stage.get_submodule(node.target)
        return module if type(module) is FusedConv and module.spec.pointwise else None

    order = {node: i for i, node in enumerate(stage.graph.nodes)}
    for node in list(stage.graph.nodes):
        if any(writes_in_place(user, stage) for user in node.users):
            continue  # the convolutions must read it where they stand
        groups: dict[tuple, list[torch.fx.Node]] = {}
        for user in node.users:
            conv = pointwise(user)
            if conv is not None and user.args[0] is node:
                groups.setdefault((conv.act, conv.bias is None), []).append(user)
        for users in groups.values():
            if len(users) < 2:
                continue
            # An output read only by concatenations and matrix products stays a view.
            dense = [not all(u.target is torch.cat or pointwise(u) is not None for u in user.users)
                     for user in users]
            name = f"siblings_{count}"
            stage.add_submodule(name, SiblingPointwise([pointwise(u) for u in users], dense))
            with stage.graph.inserting_before(min(users, key=order.__getitem__)):
                merged = stage.graph.call_module(name, (node,))
            with stage.graph.inserting_after(merged):
                for i, user in reversed(list(enumerate(users))):
                    part = stage.graph.call_function(operator.getitem, (merged, i))
                    user.replace_all_uses_with(part)
            for user in users:
                stage.graph.erase_node(user)
            count += 1
    if count:
        stage.delete_all_unused_submodules()
        stage.recompile()
    return count


def absorb_input_transform(net: LayeredNet, normalization: Normalization
                           ) -> tuple[LayeredNet, Normalization]:
    """``net`` without the :class:`~.layers.TransformInput` its first stage begins with
    (GoogLeNet's and Inception v3's), and ``normalization`` composed with it: both are an
    affine map per channel, so one ``(x - mean) / std`` does the two (for torchvision's
    normalization, ``(x - 0.5) / 0.5``). That saves the transform's dozen passes over each
    tile's pixels and their gradients (three channels sliced, scaled, shifted, concatenated,
    and in the backward three zero-filled gradients summed). Other nets come back as they are."""
    first = net.stage_names[0]
    stage = net.stage(first)
    if not (isinstance(stage, nn.Sequential) and len(stage) > 1 and isinstance(stage[0], TransformInput)):
        return net, normalization
    # ((x - m) / s) * a + b == (x - (m - b * s / a)) / (s / a), channel by channel
    scale = [s / 0.5 for s in TransformInput.STD]
    shift = [(m - 0.5) / 0.5 for m in TransformInput.MEAN]
    mean = tuple(m - b * s / a for m, s, a, b in zip(normalization.mean, normalization.std, scale, shift))
    std = tuple(s / a for s, a in zip(normalization.std, scale))
    stages = {name: net.stage(name) for name in net.stage_names}
    stages[first] = nn.Sequential(*list(stage)[1:])
    return StagedNet(stages), Normalization(mean, std, normalization.bgr)


def pool_before_activation(net: StagedNet, source: LayeredNet) -> int:
    """Pair each stage of ``net`` that is a lone fused ReLU (or ReLU6) convolution with the
    stage after it where that is a max pool (``nn.MaxPool2d`` in ``source``, the network
    ``net`` was made from): :class:`~.fused.ConvThenMaxPool`, for GoogLeNet's ``conv1``/``maxpool1`` and
    ``conv3``/``maxpool2`` and Inception v3's ``Conv2d_2b_3x3``/``maxpool1`` and
    ``Conv2d_4a_3x3``/``maxpool2``. Returns how many."""
    count = 0
    for first, second in zip(net.stage_names, net.stage_names[1:]):
        stage, pool = net.stage(first), source.stage(second)
        if not (isinstance(stage, torch.fx.GraphModule) and type(pool) is nn.MaxPool2d
                and not pool.return_indices):
            continue
        ops = [n for n in stage.graph.nodes if n.op not in ("placeholder", "output")]
        conv = stage.get_submodule(ops[0].target) if len(ops) == 1 and ops[0].op == "call_module" else None
        if isinstance(conv, FusedConv) and conv.act in ("relu", "relu6"):
            net.pair(first, ConvThenMaxPool(conv, pool))
            count += 1
    return count


TILE_BATCH = 2  # tiles per forward/backward pass for the registry's architectures (above)


def optimize(model: DreamNet, fold_bn: bool = True, channels_last: bool = True,
             consume: bool = False) -> DreamNet:
    """A faster copy of ``model`` for dreaming (frozen, eval mode, same device). ``consume``:
    the caller drops ``model`` (a Dreamer's freshly loaded one), whose modules may then be
    reused, leaving it unusable (see :func:`fold_batchnorm`)."""
    device = model.mean.device
    # A graph read from a file (GraphNet) or a user's module (ModuleNet) is not a list of
    # stage modules: the graph fuses its convolutions with their biases and runs its ReLUs
    # in place by itself, per request; a user's module is run as it is (channels-last only).
    staged = getattr(model.net, "staged", True)
    fold_bn = fold_bn and staged
    source, normalization = (absorb_input_transform(model.net, model.normalization) if fold_bn
                             else (model.net, model.normalization))
    net = fold_batchnorm(source, consume) if fold_bn else model.net
    if fold_bn:  # the folded stages are our own copies, free to change
        for name in net.stage_names:
            if device.type == "cpu":
                net.replace_stage(name, fused_stage(source.stage(name), net.stage(name)))
            activations_in_place(net.stage(name))
            self_adjoint_pools(net.stage(name))
            pools_after_pointwise(net.stage(name))
            merge_pointwise_siblings(net.stage(name))
        if device.type == "cpu":
            pool_before_activation(net, source)
    fast = DreamNet(net, normalization, model.min_input_size).to(device).eval().requires_grad_(False)
    if staged:  # our own stage-by-stage architectures: each image of a batch on its own
        fast.tile_batch = TILE_BATCH
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
        fast.memory_format = torch.channels_last
    return fast

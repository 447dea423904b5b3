"""The speed-ups change nothing a viewer could see: folded and channels-last models compute
the same function, the lean tiled gradient equals the plain rolled one, and bfloat16
dreams the same dream."""

import dataclasses

import pytest
import torch

from inceptionism.engine.loop import dream, objective_gradient
from inceptionism.engine.objectives import guide, layer
from inceptionism.engine.transforms import roll
from inceptionism.models.optimize import fold_batchnorm, optimize
from inceptionism.settings import DreamConfig

from ..conftest import to_tensor


def synthetic(name: str, normalization=None):
    """A registered architecture with the parity fixture's synthetic weights, frozen, as a
    DreamNet (the spec's normalization unless another is given)."""
    from inceptionism.models import get_spec
    from inceptionism.models.base import DreamNet

    from ..torchvision_parity import synthetic_state_dict

    spec = get_spec(name)
    net = spec.build()
    net.load_state_dict(synthetic_state_dict(name))
    model = DreamNet(net, normalization or spec.normalization, spec.min_input_size)
    return model.eval().requires_grad_(False)


def assert_same_input_gradient(want_model, got_model, x, layers, precision):
    """The input gradient of the mean square of ``layers`` agrees between two networks:
    within float32 rounding, or (bfloat16) in direction (cosine above 0.99)."""
    from inceptionism.engine.loop import _autocast

    grads = []
    for m in (want_model, got_model):
        xi = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
        with _autocast(x.device, precision):
            acts = m.features(xi, layers)
        grads.append(torch.autograd.grad(sum(a.float().pow(2).mean() for a in acts.values()), xi)[0])
    want, got = grads
    if precision == "float32":
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-5 * want.abs().max())
    else:
        cosine = torch.nn.functional.cosine_similarity(got.flatten(), want.flatten(), dim=0)
        assert cosine > 0.99


def test_folded_network_has_no_batchnorm_and_same_outputs(lite0):
    folded = fold_batchnorm(lite0.net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in lite0.net.modules())  # untouched
    x = lite0.normalize(torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(0)))
    layers = ["stem", "b3", "b10", "head", "logits"]
    with torch.no_grad():
        want, got = lite0.net.features(x, layers), folded.features(x, layers)
    for name in layers:
        scale = want[name].abs().max()
        assert (want[name] - got[name]).abs().max() / scale < 1e-4, name


def test_a_consumed_model_optimizes_to_the_same_network():
    """What a Dreamer does with the model it has just loaded (its modules reused, not
    copied) gives the copy's network exactly, on a fresh load each."""
    from inceptionism.models.registry import load_model

    x = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(0))
    outs = []
    for consume in (False, True):
        fast = optimize(load_model("efficientnet_lite0"), consume=consume)
        xi = x.clone().contiguous(memory_format=fast.memory_format).requires_grad_(True)
        loss = fast.features(xi, ["b10"])["b10"].pow(2).mean()
        outs.append(torch.autograd.grad(loss, xi)[0])
    assert torch.equal(outs[0], outs[1])


def test_optimized_model_gradients_match(lite0, chelsea):
    fast = optimize(lite0)
    assert fast.memory_format == torch.channels_last
    x = to_tensor(chelsea[:128, :160])
    grads = []
    for model in (lite0, fast):
        xi = x.clone().contiguous(memory_format=model.memory_format).requires_grad_(True)
        loss = model.features(xi, ["b10"])["b10"].pow(2).mean()
        grads.append(torch.autograd.grad(loss, xi)[0])
    rel = (grads[0] - grads[1]).abs().max() / grads[0].abs().max()
    assert rel < 1e-3


def test_wrapped_tiles_equal_rolling_the_image(tiny_model):
    """objective_gradient with a shift == roll the image, take the plain gradient, roll back."""
    x = torch.rand(1, 3, 50, 70, generator=torch.Generator().manual_seed(3))
    config = DreamConfig(smoothing=0.0, tile_size=512, precision="float32")
    got, value, mean_abs = objective_gradient(tiny_model, x, layer("c3"), config, shift=(7, -11))
    rolled = roll(x, 7, -11).requires_grad_(True)
    loss = tiny_model.features(rolled, ["c3"])["c3"].pow(2).mean()
    want = roll(torch.autograd.grad(loss, rolled)[0], -7, 11)
    assert torch.allclose(got, want, atol=1e-7, rtol=1e-5)
    assert value == pytest.approx(loss.item(), rel=1e-6)
    assert mean_abs == pytest.approx(want.abs().mean().item(), rel=1e-5)


def test_bfloat16_dreams_the_same_dream(lite0, chelsea):
    """Dreams are chaotic: even float32 rounding differences move every eye elsewhere after
    a few octaves, so pixel equality is no criterion. What must hold: bfloat16 points the
    gradient the same way, and the finished dream is as strong."""
    fast = optimize(lite0)
    x = to_tensor(chelsea[:160, :224])
    config = DreamConfig(octaves=2, steps=6)
    grads = {
        p: objective_gradient(fast, x, layer("b10"), dataclasses.replace(config, precision=p))[0]
        for p in ("float32", "bfloat16")
    }
    cosine = torch.nn.functional.cosine_similarity(
        grads["float32"].flatten(), grads["bfloat16"].flatten(), dim=0)
    assert cosine > 0.8  # unrelated gradients would give about 0

    def gain(precision):
        y = dream(fast, x, layer("b10"), dataclasses.replace(config, precision=precision))
        with torch.no_grad():
            return (lite0.features(y, ["b10"])["b10"].pow(2).mean()
                    / lite0.features(x, ["b10"])["b10"].pow(2).mean()).item()

    f32, bf16 = gain("float32"), gain("bfloat16")
    assert f32 > 1.5 and 0.8 < bf16 / f32 < 1.25, (f32, bf16)


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "vgg16", "resnet50"])
def test_every_classic_model_folds_to_the_same_function(name):
    """BN folding is generic (torch.fx on each named stage): check it on each architecture,
    with the parity fixture's synthetic weights."""
    from inceptionism.models import get_spec

    spec = get_spec(name)
    model = synthetic(name)
    fast = optimize(model)
    size = 160 if name == "inception_v3" else 96
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    # neighbouring stages too: an in-place activation must never overwrite a tapped layer
    names = model.layer_names
    layers = list(dict.fromkeys([*spec.default_layers, spec.logits_layer, *names[:3], *names[-4:]]))
    results = []
    for m, memory_format in ((model, torch.contiguous_format), (fast, torch.channels_last)):
        xi = x.contiguous(memory_format=memory_format).requires_grad_(True)
        acts = m.features(xi, layers)
        loss = sum(a.pow(2).mean() for a in acts.values())
        results.append(({k: v.detach() for k, v in acts.items()}, torch.autograd.grad(loss, xi)[0]))
    (want, want_grad), (got, got_grad) = results
    for layer_name in layers:
        scale = want[layer_name].abs().max()
        assert (want[layer_name] - got[layer_name]).abs().max() / scale < 1e-4, layer_name
    # Max-pools route gradients to one of several equal inputs; NHWC and NCHW kernels may
    # pick different ones, so compare the gradients' direction, not element by element.
    cosine = torch.nn.functional.cosine_similarity(want_grad.flatten(), got_grad.flatten(), dim=0)
    assert cosine > 0.999, cosine
    # every batch norm inside a stage is gone; only one that is a stage by itself may stay
    own_stage = sum(isinstance(fast.net.stage(n), torch.nn.BatchNorm2d) for n in fast.layer_names)
    left = sum(isinstance(m, torch.nn.BatchNorm2d) for m in fast.net.modules())
    assert left == own_stage, f"{left - own_stage} batch norms were not folded"


def test_auto_precision_is_bfloat16_only_on_native_hardware_for_compute_bound_networks(
        tiny_model, lite0, monkeypatch):
    from inceptionism.engine import runtime
    from inceptionism.engine.loop import resolve_precision

    assert runtime.native_bfloat16("cpu", flags={"avx2", "amx_bf16"})
    assert runtime.native_bfloat16("cpu", flags={"avx512_bf16"})
    assert not runtime.native_bfloat16("cpu", flags={"avx512f", "avx512bw"})  # emulated only
    for native in (True, False):
        monkeypatch.setattr(runtime, "native_bfloat16", lambda device, flags=None: native)
        want = "bfloat16" if native else "float32"
        assert resolve_precision("auto", tiny_model) == want  # plain convolutions
        assert resolve_precision("auto", lite0) == "float32"  # depthwise: memory-bound
        assert resolve_precision("float32", tiny_model) == "float32"
        assert resolve_precision("bfloat16", lite0) == "bfloat16"  # an explicit choice stands


def test_auto_precision_computes_what_it_resolves_to(tiny_model, monkeypatch):
    """The gradient under "auto" is exactly the resolved precision's, and the bfloat16 one
    points where the float32 one does (tiny input, plain convolutions: the case auto picks
    bfloat16 for)."""
    from inceptionism.engine import runtime

    monkeypatch.setattr(runtime, "native_bfloat16", lambda device, flags=None: True)
    x = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(5))
    config = DreamConfig(smoothing=0.0)
    grad = {p: objective_gradient(tiny_model, x, layer("c3"), dataclasses.replace(config, precision=p))[0]
            for p in ("auto", "bfloat16", "float32")}
    assert torch.equal(grad["auto"], grad["bfloat16"])
    cosine = torch.nn.functional.cosine_similarity(grad["bfloat16"].flatten(), grad["float32"].flatten(), dim=0)
    assert cosine > 0.95


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("k,size", [(3, (17, 23)), (5, (9, 8)), (3, (1, 4))])
def test_box_filter_is_average_pooling_with_its_own_backward(k, size, memory_format):
    """The self-adjoint pool computes avg_pool2d's values and gradients (float32 rounding)."""
    from inceptionism.models.optimize import box_filter

    g = torch.Generator().manual_seed(k)
    x = torch.randn(2, 6, *size, generator=g).contiguous(memory_format=memory_format)
    weight = torch.randn(2, 6, *size, generator=g)
    results = []
    for pool in (lambda t: torch.nn.functional.avg_pool2d(t, k, 1, k // 2), lambda t: box_filter(t, k)):
        xi = x.clone().requires_grad_(True)
        y = pool(xi)
        results.append((y.detach(), torch.autograd.grad((y * weight).sum(), xi)[0]))
    (want, want_grad), (got, got_grad) = results
    assert torch.equal(want, got)
    assert torch.allclose(got_grad, want_grad, rtol=1e-5, atol=1e-6)


def test_only_self_adjoint_pools_are_replaced():
    """count_include_pad=False, a stride, other padding or ceil_mode make the pool's adjoint
    differ from itself: those stay avg_pool2d."""
    import torch.nn.functional as F

    from inceptionism.models.optimize import box_filter, self_adjoint_pools

    class Pools(torch.nn.Module):
        def forward(self, x):
            return (F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)  # replaced
                    + F.avg_pool2d(x, 5, 1, 2)  # replaced
                    + F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
                    + F.avg_pool2d(x, 3, 1, 1, ceil_mode=True)
                    + F.avg_pool2d(x, 3, 2, 1).repeat_interleave(2, 2).repeat_interleave(2, 3)
                    + F.avg_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 1, 0)
                    + F.avg_pool2d(x, (3, 1), 1, (1, 0)))

    traced = torch.fx.symbolic_trace(Pools())
    x = torch.randn(1, 2, 8, 8, requires_grad=True)
    want = traced(x)
    want_grad = torch.autograd.grad(want.sum(), x)[0]
    assert self_adjoint_pools(traced) == 2
    assert sum(n.target is box_filter for n in traced.graph.nodes) == 2
    got = traced(x)
    assert torch.allclose(got, want, atol=1e-6)
    assert torch.allclose(torch.autograd.grad(got.sum(), x)[0], want_grad, atol=1e-6)


def test_inception_v3_gradients_with_and_without_self_adjoint_pools(monkeypatch):
    """The one network here with such pools: the optimized network's input gradient at a
    tapped layer is that of the same network with PyTorch's pooling backward."""
    from inceptionism.models import optimize as optimize_module
    from inceptionism.models.fused import PooledPointwise

    model = synthetic("inception_v3")
    fast = optimize(model)
    monkeypatch.setattr(optimize_module, "self_adjoint_pools", lambda stage: 0)
    plain = optimize(model)

    # Each pool is a box filter, on its own or inside the 1x1 convolution it feeds.
    pooled = [m for m in fast.modules() if isinstance(m, PooledPointwise)]
    assert sum(n.target is optimize_module.box_filter for st in fast.net.stage_list
               if isinstance(st, torch.fx.GraphModule) for n in st.graph.nodes) + len(pooled) == 9
    assert all(m.pool.func is optimize_module.box_filter for m in pooled)
    x = torch.rand(1, 3, 120, 136, generator=torch.Generator().manual_seed(1))
    grads = []
    for m in (plain, fast):
        xi = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
        acts = m.features(xi, ["Mixed_5c", "Mixed_6c"])
        grads.append(torch.autograd.grad(sum(a.pow(2).mean() for a in acts.values()), xi)[0])
    assert torch.allclose(grads[1], grads[0], rtol=1e-4, atol=1e-5 * grads[0].abs().max())


@pytest.mark.parametrize("name,layer", [("googlenet", "conv1"), ("inception_v3", "Mixed_5b")])
@pytest.mark.parametrize("bgr", [False, True])
def test_the_input_transform_goes_into_the_normalization(name, layer, bgr):
    """GoogLeNet's and Inception v3's first stage rescales the normalized input per channel;
    the optimized network folds that into its normalization (also one a user gave, here
    with the channels reversed): no TransformInput left, the same layer outputs."""
    from inceptionism.models import get_spec
    from inceptionism.models.base import DreamNet, Normalization
    from inceptionism.models.layers import TransformInput
    from inceptionism.models.optimize import absorb_input_transform

    spec = get_spec(name)
    model = synthetic(name, Normalization((0.4, 0.5, 0.6), (0.2, 0.25, 0.3), bgr) if bgr else None)
    fast = optimize(model)
    first = model.net.stage_names[0]
    assert isinstance(model.net.stage(first)[0], TransformInput)
    assert not any(isinstance(m, TransformInput) for m in fast.net.stage(first).modules())
    if not bgr:  # torchvision's normalization and the transform make the [-1, 1] scaling
        assert fast.normalization.mean == pytest.approx((0.5,) * 3)
        assert fast.normalization.std == pytest.approx((0.5,) * 3)
    x = torch.rand(1, 3, 96, 112, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want = model.features(x, [layer])[layer]
        got = fast.features(x.contiguous(memory_format=torch.channels_last), [layer])[layer]
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-5 * want.abs().max())
    vgg = DreamNet(get_spec("vgg16").build(), spec.normalization)
    assert absorb_input_transform(vgg.net, spec.normalization) == (vgg.net, spec.normalization)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("name,pairs,layers", [
    ("googlenet", ("conv1", "conv3"), ["inception3a"]),
    ("googlenet", ("conv1", "conv3"), ["conv1", "maxpool2"]),
    ("inception_v3", ("Conv2d_2b_3x3", "Conv2d_4a_3x3"), ["maxpool1", "Mixed_5b"])])
def test_a_max_pool_before_the_activation_gives_the_same_bits(name, pairs, layers, precision,
                                                              one_thread):
    """A ReLU convolution stage and the max pool stage after it, run as one module that
    pools first: the same layer outputs (values: in bfloat16 a zero may come out +0 for
    -0) and the same input gradient, bit for bit, as the two stages one after the other;
    and a requested convolution layer still gets its own output."""
    from inceptionism.engine.loop import _autocast
    from inceptionism.models.fused import ConvThenMaxPool

    fast = optimize(synthetic(name))
    names = fast.net.stage_names
    assert sorted(names[int(i)] for i in fast.net.pairs) == sorted(pairs)
    assert all(isinstance(m, ConvThenMaxPool) for m in fast.net.pairs.children())
    x = torch.rand(1, 3, 101, 117, generator=torch.Generator().manual_seed(8))
    results, calls = [], []
    hooks = [m.register_forward_hook(lambda *_: calls.append(1)) for m in fast.net.pairs.children()]
    for pairs_on in (True, False):
        if not pairs_on:
            kept, fast.net.pairs = fast.net.pairs, torch.nn.ModuleDict()
        xi = x.contiguous(memory_format=torch.channels_last).requires_grad_(True)
        with _autocast(x.device, precision):
            acts = fast.features(xi, layers)
        loss = sum(a.float().pow(2).mean() for a in acts.values())
        results.append(({k: v.detach() for k, v in acts.items()}, torch.autograd.grad(loss, xi)[0]))
    fast.net.pairs = kept
    for h in hooks:
        h.remove()
    (acts0, g0), (acts1, g1) = results
    assert all(torch.equal(acts0[k], acts1[k]) for k in layers)
    assert torch.equal(g0.view(torch.int32), g1.view(torch.int32))
    assert len(calls) == (1 if "conv1" in layers else 2)  # conv1 asked for: its pair unused


@pytest.mark.parametrize("act", ["relu", "relu6"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("side", [37, 190])  # bfloat16 planes pooled as int16 bits, and too large for that
def test_a_max_pool_then_its_activation_as_one_function(act, dtype, side):
    """``act(max_pool(z))`` as one autograd function that keeps indices, not ``z``: the
    values of PyTorch's max pool and activation (in bfloat16 a zero's sign may differ) and
    its gradient bit for bit, with ties, zeros and negative windows."""
    from inceptionism.models.fused import ConvThenMaxPool, FusedConv, _MaxPoolAct

    g = torch.Generator().manual_seed(6)
    pool = torch.nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
    module = ConvThenMaxPool(FusedConv(torch.nn.Conv2d(2, 2, 1), act), pool)
    z = (torch.randn(1, 2, side, side + 1, generator=g) * 4).round().to(dtype)  # many ties
    z[:, :, :9] = -z[:, :, :9].abs()  # windows with nothing positive
    z[:, :, :3, :3] = 0.0
    z = z.contiguous(memory_format=torch.channels_last)
    up = torch.randn(pool(z).shape, generator=g).to(dtype)
    activation = torch.nn.ReLU() if act == "relu" else torch.nn.ReLU6()
    results = []
    for fn in (lambda t: activation(pool(t)), lambda t: _MaxPoolAct.apply(t, module._pool_args, act)):
        zi = z.clone().requires_grad_(True)
        y = fn(zi)
        results.append((y.detach(), torch.autograd.grad((y * up).sum(), zi)[0]))
    (y0, g0), (y1, g1) = results
    bits = torch.int32 if dtype == torch.float32 else torch.int16
    assert torch.equal(y1, y0) and torch.equal(g1.view(bits), g0.view(bits))
    if dtype == torch.float32:
        assert torch.equal(y1.view(bits), y0.view(bits))


@pytest.mark.parametrize("act", ["relu", "relu6", None])
@pytest.mark.parametrize("bias", [True, False])
def test_a_pool_moved_after_its_1x1_convolution_computes_the_same(act, bias, one_thread):
    """act(pool(W x) + b) against the 1x1 convolution of the pooled input: output and
    input gradient, float32 within rounding and bfloat16 within its own."""
    from inceptionism.models.fused import FusedConv, PooledPointwise
    from inceptionism.models.optimize import box_filter

    g = torch.Generator().manual_seed(5)
    conv = torch.nn.Conv2d(24, 8, 1, bias=bias).requires_grad_(False)
    with torch.no_grad():
        conv.weight.normal_(generator=g)
        if bias:
            conv.bias.normal_(generator=g)
    fused = FusedConv(conv, act)
    pooled = PooledPointwise(lambda t: box_filter(t, 3), fused)
    x = torch.randn(1, 24, 13, 17, generator=g).mul(3).contiguous(memory_format=torch.channels_last)
    up = torch.randn(1, 8, 13, 17, generator=g)
    for dtype in (torch.float32, torch.bfloat16):
        results = []
        for f in (lambda t: fused(box_filter(t, 3)), pooled):
            xi = x.to(dtype).requires_grad_(True)
            y = f(xi)
            assert y.dtype == dtype and y.is_contiguous(memory_format=torch.channels_last)
            (grad,) = torch.autograd.grad((y.float() * up).sum(), xi)
            results.append((y.float(), grad.float()))
        (y0, g0), (y1, g1) = results
        tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=3e-2, atol=6e-2)
        torch.testing.assert_close(y1, y0, **tol)
        if dtype == torch.float32:  # bfloat16 may round an output across the ReLU's cut
            torch.testing.assert_close(g1, g0, **tol)
    with pytest.raises(ValueError, match="1x1"):
        PooledPointwise(lambda t: t, FusedConv(torch.nn.Conv2d(4, 4, 3)))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_inception_v3_with_its_pools_after_the_convolutions(precision, monkeypatch, one_thread):
    """Inception v3's pooling branches, pooled after their 1x1 convolution, against the
    same optimized network without that move: the same input gradient within rounding."""
    from inceptionism.models import optimize as optimize_module
    from inceptionism.models.fused import PooledPointwise

    model = synthetic("inception_v3")
    moved = optimize(model)
    monkeypatch.setattr(optimize_module, "pools_after_pointwise", lambda stage: 0)
    kept = optimize(model)
    assert sum(isinstance(m, PooledPointwise) for m in moved.modules()) == 9
    assert not any(isinstance(m, PooledPointwise) for m in kept.modules())
    x = torch.rand(1, 3, 120, 136, generator=torch.Generator().manual_seed(2))
    assert_same_input_gradient(kept, moved, x, ["Mixed_5d", "Mixed_6c"], precision)


@pytest.mark.parametrize("act", ["relu", "relu6", None])
def test_sibling_1x1_convolutions_as_one_product_compute_the_same(act, one_thread):
    """Three 1x1 convolutions of one input, run as one matrix product: each output, and the
    input gradient of a loss on all three, equal the separate convolutions' (float32 within
    rounding, bfloat16 within its own); the outputs a windowed convolution reads come out
    channels-last, the others are views; mismatched convolutions are refused."""
    from inceptionism.models.fused import FusedConv, SiblingPointwise

    g = torch.Generator().manual_seed(6)
    convs = []
    for out in (8, 5, 7):
        conv = torch.nn.Conv2d(24, out, 1).requires_grad_(False)
        with torch.no_grad():
            conv.weight.normal_(generator=g)
            conv.bias.normal_(generator=g)
        convs.append(FusedConv(conv, act))
    merged = SiblingPointwise(convs, dense=[False, True, False])
    x = torch.randn(1, 24, 13, 17, generator=g).mul(2).contiguous(memory_format=torch.channels_last)
    ups = [torch.randn(1, c.weight.shape[0], 13, 17, generator=g) for c in convs]
    for dtype in (torch.float32, torch.bfloat16):
        results = []
        for f in (lambda t: [c(t) for c in convs], merged):
            xi = x.to(dtype).requires_grad_(True)
            ys = list(f(xi))
            assert [y.shape[1] for y in ys] == [8, 5, 7] and all(y.dtype == dtype for y in ys)
            loss = sum((y.float() * up).sum() for y, up in zip(ys, ups))
            (grad,) = torch.autograd.grad(loss, xi)
            results.append(([y.float() for y in ys], grad.float()))
        (y0, g0), (y1, g1) = results
        tol = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=3e-2, atol=6e-2)
        for want, got in zip(y0, y1):
            torch.testing.assert_close(got, want, **tol)
        if dtype == torch.float32:  # bfloat16 may round an output across the ReLU's cut
            torch.testing.assert_close(g1, g0, **tol)
    ys = merged(x)
    assert ys[1].is_contiguous(memory_format=torch.channels_last)
    assert ys[0]._base is not None and ys[2]._base is not None
    assert merged(x[:, :, :1, :1])[1]._base is None  # a copy even where a view would do
    # An output nobody reads: the others' gradient through the product, as before.
    grads = []
    for f in (lambda t: [c(t) for c in convs], merged):
        xi = x.clone().requires_grad_(True)
        ys = f(xi)
        grads.append(torch.autograd.grad((ys[0] * ups[0]).sum() + (ys[2] * ups[2]).sum(), xi)[0])
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="same activation"):
        SiblingPointwise([convs[0], FusedConv(torch.nn.Conv2d(24, 4, 1), "relu6" if act != "relu6" else None)],
                         [False, False])


def test_1x1_convolutions_of_a_tensor_written_in_place_stay_apart(one_thread):
    """Where the shared input is changed in place between the convolutions, each must read
    it where it stands: no merge, and the in-place call is kept; the fused stage computes
    what the module computes."""
    from inceptionism.models.fused import fuse_convolutions
    from inceptionism.models.optimize import merge_pointwise_siblings

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Conv2d(4, 3, 1), torch.nn.Conv2d(4, 5, 1)
            self.act = torch.nn.ReLU(inplace=True)

        def forward(self, x):
            x = x - 0.5
            a = self.a(x)
            x.mul_(2)  # its result is not used: the call matters for what it writes
            return torch.cat([a, self.b(x), self.act(x)], 1)

    block = Block().eval().requires_grad_(False)
    x = torch.randn(1, 4, 5, 6, generator=torch.Generator().manual_seed(3))
    stage = torch.fx.symbolic_trace(block)
    fuse_convolutions(stage)
    assert merge_pointwise_siblings(stage) == 0
    torch.testing.assert_close(stage(x), block(x))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("name,layers,merged", [("inception_v3", ["Mixed_5d", "Mixed_6c"], 10),
                                                ("googlenet", ["inception4c"], 9)])
def test_inception_blocks_with_their_1x1_convolutions_merged(name, layers, merged, precision,
                                                             monkeypatch, one_thread):
    """Each Inception block's 1x1 convolutions of the block's input, run as one matrix
    product, against the same optimized network without that merge: the same input
    gradient within rounding; and every block was merged."""
    from inceptionism.models import optimize as optimize_module
    from inceptionism.models.fused import SiblingPointwise

    model = synthetic(name)
    fast = optimize(model)
    monkeypatch.setattr(optimize_module, "merge_pointwise_siblings", lambda stage: 0)
    kept = optimize(model)
    assert sum(isinstance(m, SiblingPointwise) for m in fast.modules()) == merged
    assert not any(isinstance(m, SiblingPointwise) for m in kept.modules())
    x = torch.rand(1, 3, 120, 136, generator=torch.Generator().manual_seed(2))
    assert_same_input_gradient(kept, fast, x, layers, precision)


@pytest.mark.parametrize("device", [pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device here"))])
@pytest.mark.parametrize("name,layers", [("googlenet", ["inception4c"]), ("googlenet", ["guide"]),
                                         ("inception_v3", ["Mixed_5b", "Mixed_6a"])])
def test_tiles_in_batches_give_each_tile_its_own_gradient(name, layers, device, one_thread):
    """On a GPU the optimized network runs tiles of one shape two at a time; every tile's
    gradient, and the objective's value, are those of the tiles run one by one (uneven tile
    sizes, a jittered grid, a sum of two layers, blur on). On the CPU tiles always go one by
    one, side by side on the tile workers, so there is nothing to compare there."""
    from inceptionism.api import resolve_device
    from inceptionism.models import get_spec
    from inceptionism.models.base import DreamNet
    from inceptionism.models.optimize import TILE_BATCH

    from ..torchvision_parity import synthetic_state_dict

    spec = get_spec(name)
    net = spec.build()
    net.load_state_dict(synthetic_state_dict(name))
    fast = optimize(DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False))
    assert fast.tile_batch == TILE_BATCH == 2
    one_by_one = optimize(DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False))
    one_by_one.tile_batch = 1
    dev = resolve_device(device)  # on CUDA: deterministic cuDNN, TF32 off, as dreams run
    fast, one_by_one = fast.to(dev), one_by_one.to(dev)
    if layers == ["guide"]:  # reads only the first image of what it is given
        target = torch.randn(1, 512, 5, 7, generator=torch.Generator().manual_seed(2))
        objective = guide("inception4c", target.to(dev))
    else:
        objective = sum((layer(n) for n in layers[1:]), layer(layers[0]))
    x = torch.rand(1, 3, 241, 322, generator=torch.Generator().manual_seed(5)).to(dev)  # 3 x 4 tiles
    config = DreamConfig(tile_size=90 if name == "googlenet" else 160, smoothing=0.5)
    results = [objective_gradient(m, x, objective, config, shift=(13, -40)) for m in (one_by_one, fast)]
    (want, want_value, want_abs), (got, got_value, got_abs) = results
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-5 * want.abs().max())
    assert got_value == pytest.approx(want_value, rel=1e-5)
    assert got_abs == pytest.approx(want_abs, rel=1e-5)


def test_graph_files_and_user_modules_are_never_batched(tiny_model):
    """Their heads may reshape across the batch (inception5h's classifier does), so only the
    registry's own architectures get tile batches."""
    from inceptionism import Dreamer
    from inceptionism.models.base import DreamNet
    from inceptionism.models.module_net import ModuleNet

    from pathlib import Path

    assert optimize(tiny_model).tile_batch == 2  # a LayeredNet of stage modules: ours
    graph = Path(__file__).parent.parent / "fixtures" / "inception5h_synthetic.pb.gz"
    assert Dreamer("inception5h", weights=graph).model.tile_batch == 1  # optimized, not batched
    wrapped = DreamNet(ModuleNet(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))), tiny_model.normalization)
    assert optimize(wrapped).tile_batch == 1


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("name,layers", [("efficientnet_lite0", ["b4", "b10"]),
                                         ("googlenet", ["inception4c"]),
                                         ("inception_v3", ["Mixed_6a"]),
                                         ("vgg16", ["features.22"]),
                                         ("resnet50", ["layer2"])])
def test_fused_convolutions_give_the_plain_networks_input_gradient(name, layers, precision,
                                                                   monkeypatch, one_thread):
    """Every registered architecture optimized for the CPU (convolutions fused with their
    activations, input-gradient-only backward) against the same optimization without the
    fusion: the input gradient at the tapped layers agrees within float rounding (float32)
    or bfloat16's (cosine), on a small input; and the fusion did happen."""
    from inceptionism.models import get_spec
    from inceptionism.models import optimize as optimize_module
    from inceptionism.models.base import DreamNet
    from inceptionism.models.fused import FusedConv

    from ..torchvision_parity import synthetic_state_dict

    spec = get_spec(name)
    net = spec.build()
    if name != "efficientnet_lite0":
        net.load_state_dict(synthetic_state_dict(name))
    else:
        from inceptionism.models import load_model

        net = load_model(name).net
    model = DreamNet(net, spec.normalization, spec.min_input_size).eval().requires_grad_(False)
    fused = optimize(model)
    monkeypatch.setattr(optimize_module, "fused_stage", lambda original, folded: folded)
    plain = optimize(model)
    # VGG's convolutions and ReLUs are layers of their own: nothing to fuse, but the
    # convolutions still get the input-gradient-only backward.
    assert any(isinstance(m, FusedConv) and (m.act or name == "vgg16") for m in fused.modules())
    assert not any(isinstance(m, FusedConv) for m in plain.modules())
    x = torch.rand(1, 3, 96, 112, generator=torch.Generator().manual_seed(4))
    assert_same_input_gradient(plain, fused, x, layers, precision)


@pytest.mark.parametrize("kind", ["3x3", "1x7", "strided", "depthwise"])
def test_packed_kernels_give_the_plain_kernels_gradient(kind, one_thread):
    """A frozen FusedConv runs on kernels packed into oneDNN's layout (a stride-1 one's
    input gradient as a forward convolution with transposed, flipped kernels): output and
    input gradient as with the plain kernels, which a FusedConv whose weights still take
    gradients uses."""
    from inceptionism.models.fused import FusedConv

    g = torch.Generator().manual_seed(3)
    conv = {"3x3": torch.nn.Conv2d(16, 24, 3, padding=1),
            "1x7": torch.nn.Conv2d(16, 24, (1, 7), padding=(0, 3)),
            "strided": torch.nn.Conv2d(16, 24, 3, stride=2),
            "depthwise": torch.nn.Conv2d(16, 16, 3, padding=1, groups=16)}[kind]
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.randn(1, 16, 23, 29, generator=g).contiguous(memory_format=torch.channels_last)
    up = torch.randn(conv(x).shape, generator=g)
    for dtype in (torch.float32, torch.bfloat16):
        results = []
        for frozen in (False, True):
            fused = FusedConv(conv, "relu").requires_grad_(not frozen)
            xi = x.to(dtype).requires_grad_(True)
            y = fused(xi)
            (grad,) = torch.autograd.grad((y.float() * up).sum(), xi)
            results.append((y.float(), grad.float()))
            assert bool(fused._packed) == frozen
        (y0, g0), (y1, g1) = results
        tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-2)
        torch.testing.assert_close(y1, y0, **tol)
        torch.testing.assert_close(g1, g0, **tol)


def test_packed_kernels_are_kept_for_a_few_shapes_and_never_pickled(one_thread):
    import pickle

    from inceptionism.models.fused import PACKED_SHAPES, FusedConv

    fused = FusedConv(torch.nn.Conv2d(8, 8, 3, padding=1), "relu").requires_grad_(False)
    for side in range(10, 12 + PACKED_SHAPES):
        fused(torch.rand(1, 8, side, side).contiguous(memory_format=torch.channels_last))
    assert len(fused._packed) == PACKED_SHAPES
    copy = pickle.loads(pickle.dumps(fused))
    assert not copy._packed
    x = torch.rand(1, 8, 9, 9).contiguous(memory_format=torch.channels_last)
    assert torch.equal(copy(x), fused(x))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_relu_backward_gives_threshold_backwards_bits(dtype):
    """The ReLU's backward, which runs half-precision floats as int16: bit for bit
    ``threshold_backward``'s result, with +0, -0, tiny, huge, infinite and (never a ReLU's)
    negative outputs, into a new tensor or into columns of a channels-last one (the others
    untouched). A NaN output passes the gradient, except, in half precision, one with its
    sign bit set, which cuts it (documented)."""
    from inceptionism.models.fused import relu_backward

    g = torch.Generator().manual_seed(5)
    info = torch.finfo(dtype)
    y = torch.randn(2, 6, 5, 7, generator=g).clamp_min(0).to(dtype)
    y.view(-1)[:8] = torch.tensor([0.0, -0.0, info.tiny, info.smallest_normal / 4, info.max,
                                   float("inf"), -1.0, -info.tiny], dtype=dtype)
    y = y.contiguous(memory_format=torch.channels_last)
    grad = torch.randn(y.shape, generator=g).to(dtype).contiguous(memory_format=torch.channels_last)
    bits = torch.int16 if dtype != torch.float32 else torch.int32
    want = torch.ops.aten.threshold_backward(grad, y, 0).view(bits)
    got = relu_backward(grad, y)
    assert got.dtype == dtype and got.stride() == grad.stride()
    assert torch.equal(got.view(bits), want)
    whole = torch.full((2, 10, 5, 7), 7.0, dtype=dtype).contiguous(memory_format=torch.channels_last)
    into = whole[:, 2:8]
    assert relu_backward(grad, y, into) is into
    assert torch.equal(into.view(bits), want)
    assert whole[:, :2].eq(7).all() and whole[:, 8:].eq(7).all()
    nan = torch.tensor([float("nan")], dtype=dtype).view(bits)
    y[0, 0, 0, :2] = torch.cat([nan, nan | torch.iinfo(bits).min]).view(dtype)  # +NaN, -NaN
    passed = relu_backward(torch.ones_like(grad), y)[0, 0, 0, :2].tolist()
    assert passed == [1, 0 if bits == torch.int16 else 1]


def test_an_objectives_gradient_enters_a_channels_last_network_channels_last(tiny_model):
    """``mean``'s backward hands back a planar gradient; a channels-last network gets it in
    its own layout, so its backward never mixes the two (the same values either way)."""
    fast = optimize(tiny_model)
    assert fast.memory_format is torch.channels_last
    seen = []

    def record(module, inputs, output):
        output.register_hook(lambda g: seen.append(g.is_contiguous(memory_format=torch.channels_last)))

    hook = fast.net.stage("c2").register_forward_hook(record)
    try:
        x = torch.rand(1, 3, 32, 40).contiguous(memory_format=torch.channels_last).requires_grad_(True)
        acts = fast.features(x, ["c2"])
        (grad,) = torch.autograd.grad(acts["c2"].pow(2).mean(), x)
    finally:
        hook.remove()
    assert seen == [True]
    with torch.no_grad():
        want = torch.autograd.functional.vjp(
            lambda t: fast.net.features(fast.normalize(t), ["c2"])["c2"].pow(2).mean(), x)[1]
    torch.testing.assert_close(grad, want)

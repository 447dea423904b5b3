"""Objectives: the string form, composition, ImageNet classes, and what they do to a dream."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ..conftest import to_tensor

from inceptionism import DreamConfig, Dreamer, channel, channels, dream, imagenet_class, layer, parse
from inceptionism.classes import class_index, imagenet_classes
from inceptionism.engine.tour import shrink
from inceptionism.errors import InceptionismError


@pytest.fixture
def acts() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "a": torch.randn(1, 4, 5, 6, generator=g),
        "b": torch.randn(1, 8, 3, 3, generator=g),
        "logits": torch.randn(1, 1000, generator=g),
    }


def np_msq(x: torch.Tensor) -> float:
    return float(np.mean(x.double().numpy() ** 2))


def test_parse_reads_each_form(acts):
    a, b, logits = acts["a"], acts["b"], acts["logits"]
    assert parse("a")(acts).item() == pytest.approx(np_msq(a))
    assert parse("b/5")(acts).item() == pytest.approx(np_msq(b[:, 5]))
    assert parse("b/1+6")(acts).item() == pytest.approx(np_msq(b[:, [1, 6]]))
    assert parse("class=jellyfish")(acts).item() == pytest.approx(logits[0, 107].item())
    assert parse("class=107")(acts).item() == pytest.approx(logits[0, 107].item())
    mixed = parse("a:0.7, b/2:-0.25, class=Egyptian cat:2")(acts).item()
    expected = 0.7 * np_msq(a) - 0.25 * np_msq(b[:, 2]) + 2 * logits[0, 285].item()
    assert mixed == pytest.approx(expected, rel=1e-6)


def test_parse_names_the_layers_needed():
    assert parse("b12/3,b10:0.5,b12").layers == ("b12", "b10")
    assert parse("class=espresso", logits_layer="fc8").layers == ("fc8",)


@pytest.mark.parametrize(
    "spec", ["a", "b/5", "b/1+6", "class=jellyfish", "a:0.7,b/2:-0.25,class=Egyptian cat:2"]
)
def test_spec_reads_back_as_the_same_objective(spec, acts):
    once = parse(spec)
    again = parse(once.spec)
    assert again.spec == once.spec
    assert torch.equal(again(acts), once(acts))


def test_composed_objectives_have_a_spec_that_computes_the_same(acts):
    composed = 0.5 * (layer("a") + 3 * channel("b", 2)) - imagenet_class(285)
    assert composed.spec == "a:0.5,b/2:1.5,class=Egyptian cat:-1.0"
    assert torch.equal(parse(composed.spec)(acts), composed(acts))
    assert composed(acts).item() == pytest.approx(
        0.5 * np_msq(acts["a"]) + 1.5 * np_msq(acts["b"][:, 2]) - acts["logits"][0, 285].item(),
        rel=1e-6,
    )
    assert sum([layer("a"), layer("b")]).spec == "a,b"


def test_class_names_are_torchvisions_in_index_order():
    names = imagenet_classes()
    assert len(names) == 1000 == len(set(names))
    assert (names[0], names[107], names[285], names[967]) == (
        "tench", "jellyfish", "Egyptian cat", "espresso")


@pytest.mark.parametrize("query", ["Egyptian cat", "egyptian_cat", "  EGYPTIAN   Cat ", "285", 285])
def test_class_lookup_by_name_or_index(query):
    assert class_index(query) == 285


def test_unknown_class_lists_close_matches():
    with pytest.raises(InceptionismError) as info:
        class_index("jelyfish")
    assert "jellyfish (107)" in str(info.value)
    with pytest.raises(InceptionismError, match="Siamese cat"):
        class_index("cat")  # not a class itself: the classes that contain it are listed
    with pytest.raises(InceptionismError, match="0 to 999"):
        class_index(1000)


@pytest.mark.parametrize("bad", ["", "a,,b", "a:x", "b/x", "b/3+", "b/-1", "foo=bar"])
def test_malformed_specs_are_refused(bad):
    with pytest.raises(InceptionismError):
        parse(bad)


def test_a_missing_channel_is_named(acts):
    with pytest.raises(InceptionismError, match="channels 0 to 7"):
        channels("b", [2, 8])(acts)


def test_channel_objective_raises_that_channel_more_than_the_others(lite0, chelsea):
    photo = shrink(to_tensor(chelsea), 128)
    config = DreamConfig(octaves=2, steps=10, step_size=0.02)

    def energy(x):  # mean squared activation of each channel of b10
        with torch.no_grad():
            return lite0.features(x, ["b10"])["b10"].pow(2).mean((0, 2, 3))

    before = energy(photo)
    for k in (5, 60):
        gain = energy(dream(lite0, photo, channel("b10", k), config)) / before
        assert gain.argmax().item() == k, f"channel {k} rose {gain[k]:.2f}x, max {gain.max():.2f}x"


def test_class_objective_raises_that_class_probability(lite0, chelsea):
    photo = shrink(to_tensor(chelsea), 128)
    config = DreamConfig(octaves=2, steps=5, step_size=0.02)

    def p_jellyfish(x):
        with torch.no_grad():
            return torch.softmax(lite0(x), 1)[0, 107].item()

    jelly = dream(lite0, photo, imagenet_class("jellyfish"), config)
    espresso = dream(lite0, photo, imagenet_class("espresso"), config)
    assert p_jellyfish(jelly) > 1000 * p_jellyfish(photo)
    # Specific to the class asked for: dreaming of another class does not do the same.
    assert p_jellyfish(jelly) > 10 * p_jellyfish(espresso)


def test_dreamer_reads_class_terms_from_the_models_logits_layer(chelsea):
    dreamer = Dreamer()
    objective = dreamer.objective("b10,class=goldfish:0.1")
    assert objective.layers == ("b10", dreamer.spec.logits_layer)
    x = shrink(to_tensor(chelsea), 64)
    with torch.no_grad():
        value = objective(dreamer.model.features(x, objective.layers)).item()
        logit = dreamer.model(x)[0, 1].item()
        b10 = dreamer.model.features(x, ["b10"])["b10"].pow(2).mean().item()
    assert value == pytest.approx(b10 + 0.1 * logit, rel=1e-5)


@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.contiguous_format])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_mean_square_is_autograds_pow_mean_bit_for_bit_in_the_inputs_layout(memory_format, dtype):
    """The layer and channel objectives' mean square: the value and the gradient of
    ``x.pow(2).mean()`` exactly, the gradient laid out like ``x``."""
    from inceptionism.engine.objectives import mean_square

    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 40, 9, 13, generator=g).to(dtype).contiguous(memory_format=memory_format)
    results = []
    for f in (lambda t: t.pow(2).mean(), mean_square):
        xi = x.clone().requires_grad_(True)
        value = f(xi) * 0.37
        results.append((value.detach(), torch.autograd.grad(value, xi)[0]))
    (v0, g0), (v1, g1) = results
    assert torch.equal(v1, v0) and torch.equal(g1, g0)
    assert g1.dtype == dtype and g1.is_contiguous(memory_format=memory_format)

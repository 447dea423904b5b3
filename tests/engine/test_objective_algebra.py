import pytest
import torch

from inceptionism.engine.objectives import channel, layer, parse
from inceptionism.errors import InceptionismError


@pytest.fixture
def acts():
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(1, 4, 3, 3, generator=g), "b": torch.randn(1, 2, 5, 5, generator=g)}


def test_layer_is_mean_of_squares(acts):
    expected = float((acts["a"].numpy().astype("float64") ** 2).mean())
    assert abs(layer("a")(acts).item() - expected) < 1e-6


def test_channel_uses_only_that_channel(acts):
    assert torch.isclose(channel("a", 2)(acts), torch.tensor((acts["a"][0, 2].numpy() ** 2).mean()))
    with pytest.raises(InceptionismError, match="channels 0 to 3"):
        channel("a", 4)(acts)


def test_objectives_compose_as_values(acts):
    combo = layer("a") + 0.5 * channel("b", 1) - layer("b")
    expected = layer("a")(acts) + 0.5 * channel("b", 1)(acts) - layer("b")(acts)
    assert torch.isclose(combo(acts), expected)
    assert combo.layers == ("a", "b")
    assert "a" in combo.name and "b/1" in combo.name
    assert torch.isclose(sum([layer("a"), layer("b")])(acts), layer("a")(acts) + layer("b")(acts))


def test_parse_forms(acts):
    assert torch.isclose(parse("a")(acts), layer("a")(acts))
    assert torch.isclose(parse("b/1")(acts), channel("b", 1)(acts))
    weighted = parse("a:0.7, b:0.3")
    assert weighted.layers == ("a", "b")
    assert torch.isclose(weighted(acts), 0.7 * layer("a")(acts) + 0.3 * layer("b")(acts))


@pytest.mark.parametrize("bad", ["", "a,,b", "a:x", "a/x", " , "])
def test_parse_refuses_malformed(bad):
    with pytest.raises(InceptionismError):
        parse(bad)

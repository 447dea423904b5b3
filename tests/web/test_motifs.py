"""The Dream tab's model and layer lists: every registered model gets its layers, the page
offers only the models that run here, and each offered model's layers say what they dream."""

from __future__ import annotations

import pytest

from inceptionism.models import get_spec, list_models
from inceptionism.web.motifs import layer_choices, model_names


@pytest.mark.parametrize("model", list_models())
def test_every_model_gets_a_layer_list_with_its_defaults(model):
    choices = layer_choices(model)
    values = [value for _, value in choices]
    assert values and set(get_spec(model).default_layers) <= set(values)


def test_lite0_layers_say_what_they_dream():
    labels = dict((value, label) for label, value in layer_choices("efficientnet_lite0"))
    assert labels["b10"] == "b10: dog faces, snouts, eyes"


def test_only_models_whose_weights_are_here_are_offered():
    offered = model_names()
    assert "efficientnet_lite0" in offered  # embedded in an installed package
    for name in list_models():
        ready = get_spec(name).weights.status() in ("embedded", "cached")
        assert (name in offered) == ready, name


def test_a_model_whose_weights_are_missing_is_not_offered(monkeypatch):
    weights = type(get_spec("efficientnet_lite1").weights)
    monkeypatch.setattr(weights, "status", lambda self: "not installed")
    assert "efficientnet_lite1" not in model_names()


@pytest.mark.parametrize("model", model_names())
def test_every_offered_models_layers_say_what_they_dream(model):
    for label, value in layer_choices(model):
        assert label.startswith(f"{value}: ") and len(label) > len(value) + 4, label

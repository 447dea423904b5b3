"""The Dream tab's layer list works for every registered model, and says what Lite0's dream."""

from __future__ import annotations

import pytest

from inceptionism.models import get_spec, list_models
from inceptionism.web.motifs import layer_choices


@pytest.mark.parametrize("model", list_models())
def test_every_model_gets_a_layer_list_with_its_defaults(model):
    choices = layer_choices(model)
    values = [value for _, value in choices]
    assert values and set(get_spec(model).default_layers) <= set(values)


def test_lite0_layers_say_what_they_dream():
    labels = dict((value, label) for label, value in layer_choices("efficientnet_lite0"))
    assert labels["b10"] == "b10: dog faces, snouts, eyes"
    assert all(label.startswith(f"{value}: ") for value, label in labels.items())

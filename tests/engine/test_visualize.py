"""Feature visualization: the new objectives' gradients, lapnorm, the optimizer loop,
top channels and the channel atlas (resumed after a kill)."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from torch import nn

from inceptionism.jobs.atlas import MANIFEST, AtlasRecipe, atlas, cell_path, layer_channels
from inceptionism.errors import InceptionismError
from inceptionism.models import DreamNet, Normalization
from inceptionism.models.module_net import ModuleNet
from inceptionism.engine.objectives import (caricature, channel, channel_mean, direction, diversity,
                                     layer, neuron, parse)
from inceptionism.engine.param import PIXEL, READABLE, high_frequency_share
from inceptionism.engine.robustness import parse_transforms, standard, transforms_spec
from inceptionism.engine.transforms import lap_merge, lap_split, lapnorm
from inceptionism.engine.visualize import top_channels, visualize


@pytest.fixture(scope="module")
def tiny64(tiny_model):
    return copy.deepcopy(tiny_model).double()


def _image(n=1, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g, dtype=torch.float64)


def _objectives(tiny64):
    photo = tiny64.features(_image(seed=9), ["c2"])["c2"]
    return {
        "mean": channel_mean("c2", 3),
        "neuron": neuron("c2", 4),
        "neuron_at": neuron("c3", 3, 1, 2),
        "direction": direction("c2", torch.randn(16, generator=torch.Generator().manual_seed(2))),
        "diversity": diversity("c1"),
        "caricature": caricature("c2", photo),
        "caricature_resized": caricature("c2", photo[:, :, :4, :5], cossim_pow=2.0),
        "sum": neuron("c3", 1) + 0.5 * diversity("c2") - 2 * direction("c1", [1.0] * 8),
    }


@pytest.mark.parametrize("name", ["mean", "neuron", "neuron_at", "direction", "diversity",
                                  "caricature", "caricature_resized", "sum"])
def test_gradient_matches_finite_differences(tiny64, name, one_thread):
    objective = _objectives(tiny64)[name]
    x = _image(n=2, seed=1).requires_grad_(True)

    def f(t):
        return objective(tiny64.features(t, objective.layers))

    assert f(x).abs().item() > 0  # a zero objective would pass any gradient check
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6)


def test_objective_values_are_what_the_docs_say(tiny64):
    x = _image(n=2, seed=3)
    acts = tiny64.features(x, ["c1", "c2"])
    c2 = acts["c2"]
    assert channel_mean("c2", 3)(acts).item() == pytest.approx(c2[:, 3].mean().item())
    assert neuron("c2", 4)(acts).item() == pytest.approx(c2[:, 4, 3, 3].mean().item())
    v = torch.zeros(16, dtype=torch.float64)
    v[4] = 3.0  # scaled to unit length: the mean of channel 4
    assert direction("c2", v)(acts).item() == pytest.approx(c2[:, 4].mean().item())
    one = tiny64.features(x[:1], ["c1"])
    assert diversity("c1")(one).item() == 0
    same = tiny64.features(torch.cat([x[:1], x[:1]]), ["c1"])
    assert diversity("c1")(same).item() == pytest.approx(-1.0)  # identical Gram matrices
    assert diversity("c1")(acts).item() > -1.0


def test_string_forms_round_trip(tiny64):
    acts = tiny64.features(_image(n=2, seed=4), ["c1", "c2", "c3"])
    built = [channel_mean("c2", 3), neuron("c2", 5), neuron("c3", 2, 1, 2), neuron("c3", 2, None, 0),
             direction("c2", [0.5, -0.25] + [0.0] * 13 + [1e-5]), diversity("c1"),
             0.5 * neuron("c3", 1) + layer("c1") - 2 * diversity("c2") + channel("c2", 1)]
    for objective in built:
        again = parse(objective.spec)
        assert again.spec == objective.spec
        assert torch.equal(again(acts), objective(acts)), objective.spec


@pytest.mark.parametrize("spec", ["mean=c2", "mean=c2/x", "neuron=c2/1@1", "neuron=c2/1@a;b",
                                  "direction=c2@", "direction=c2@1;x", "diversity="])
def test_bad_string_forms_are_refused(spec):
    with pytest.raises(InceptionismError, match="form"):
        parse(spec)


def test_out_of_range_targets_are_refused(tiny64):
    acts = tiny64.features(_image(), ["c2", "c3"])
    with pytest.raises(InceptionismError, match="outside"):
        neuron("c3", 0, 9, 0)(acts)
    with pytest.raises(InceptionismError, match="does not exist"):
        channel_mean("c2", 16)(acts)
    with pytest.raises(InceptionismError, match="components"):
        direction("c2", [1.0, 2.0])(acts)
    with pytest.raises(InceptionismError, match="non-zero"):
        direction("c2", [0.0] * 16)


# --- lapnorm --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(16, 16), (17, 23), (5, 3)])
def test_laplacian_pyramid_merges_back_exactly(size):
    x = torch.randn((2, 3) + size, dtype=torch.float64)
    bands = lap_split(x, 4)
    assert bands[0].shape == x.shape and bands[-1].shape[2] < size[0]
    assert torch.allclose(lap_merge(bands), x, atol=1e-12)


def test_lapnorm_is_scale_free_and_balances_the_bands():
    g = torch.Generator().manual_seed(0)
    _, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    low = 100 * torch.sin(xx * torch.pi / 8).expand(1, 3, 32, 32)  # huge, slowly varying
    grad = (low + 0.1 * torch.randn(1, 3, 32, 32, generator=g)).double()
    out = lapnorm(grad, 4)
    assert torch.allclose(lapnorm(7 * grad, 4), out, atol=1e-9)
    # The fine part of the gradient, drowned out before, gains orders of magnitude in share;
    # plain RMS normalization (no levels) leaves the shares as they were.
    assert high_frequency_share(out) > 100 * high_frequency_share(grad)
    assert high_frequency_share(lapnorm(grad, 0)) == pytest.approx(high_frequency_share(grad))
    # Each image of a batch is normalized on its own.
    both = lapnorm(torch.cat([grad, 1000 * grad]), 4)
    assert torch.allclose(both[0], both[1], atol=1e-9)
    plain = lapnorm(grad, 0)
    assert plain.pow(2).mean().sqrt().item() == pytest.approx(1.0)


# --- visualize ------------------------------------------------------------------------------

def test_visualize_raises_the_objective_and_is_seeded(tiny_model):
    objective = channel_mean("c3", 4)
    seen = []
    r = visualize(tiny_model, objective, 24, 12, seed=3, lr=0.1, callback=seen.append)
    again = visualize(tiny_model, objective, 24, 12, seed=3, lr=0.1)
    assert torch.equal(r.image, again.image)
    assert [s.step for s in seen] == list(range(1, 13)) and seen[0].steps == 12
    assert r.image.shape == (1, 3, 24, 24) and 0 < r.image.min() and r.image.max() < 1
    start = visualize(tiny_model, objective, 24, 0, seed=3)
    with torch.no_grad():
        before = objective(tiny_model.features(start.image, ["c3"])).item()
        after = objective(tiny_model.features(r.image, ["c3"])).item()
    assert after > before + 0.5
    assert not torch.equal(visualize(tiny_model, objective, 24, 12, seed=4, lr=0.1).image, r.image)


@pytest.mark.parametrize("param", [PIXEL, READABLE], ids=lambda c: c.name)
def test_visualize_with_lapnorm_and_lucid_transforms(tiny_model, param):
    objective = neuron("c2", 1) + 0.1 * diversity("c2")
    r = visualize(tiny_model, objective, 32, 6, param=param, seed=0, batch=2, lapnorm_levels=3,
                  transforms=parse_transforms("pad=4,jitter=4,scale=0.9:1.1,rotate=10,jitter=2"))
    assert r.image.shape == (2, 3, 32, 32)
    assert torch.isfinite(r.image).all()


def test_visualize_any_module():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 3, padding=1))
    model = DreamNet(ModuleNet(module, ["1", "2"]), Normalization((0.5,) * 3, (0.5,) * 3)).eval()
    model.requires_grad_(False)
    objective = channel_mean("2", 1)
    r = visualize(model, objective, 16, 10, seed=0, lr=0.1)
    start = visualize(model, objective, 16, 0, seed=0)
    with torch.no_grad():
        assert objective(model.features(r.image, ["2"])) > objective(model.features(start.image, ["2"]))


def test_bad_arguments_are_refused(tiny_model):
    with pytest.raises(InceptionismError, match="size"):
        visualize(tiny_model, layer("c1"), 0, 1)
    with pytest.raises(InceptionismError, match="Steps"):
        visualize(tiny_model, layer("c1"), 8, -1)


def test_top_channels(tiny_model):
    photo = _image(size=16, seed=5).float()
    means = tiny_model.features(photo, ["c2"])["c2"].mean((0, 2, 3))
    order = torch.argsort(means, descending=True).tolist()
    assert top_channels(tiny_model, "c2", photo, 4) == order[:4]
    assert top_channels(tiny_model, "c2", photo, 3, strongest=False) == order[::-1][:3]
    assert len(top_channels(tiny_model, "c2", photo, 99)) == 16


# --- atlas ----------------------------------------------------------------------------------

class Killed(Exception):
    """Stands for the process being killed in the middle of a cell."""


def _recipe(**changes):
    base = dict(model="tiny", layer="c2", channels=(0, 3, 5, 7), size=20, steps=5, seed=2, lr=0.1)
    base.update(changes)
    return AtlasRecipe(**base)


def test_atlas_resumes_after_a_kill_with_identical_cells(tiny_model, tmp_path):
    recipe = _recipe()
    fresh = atlas(tiny_model, recipe, tmp_path / "fresh")
    assert (fresh.made, fresh.skipped) == (4, 0)

    def kill(step):
        if step.channel == 5 and step.step.step == 3:  # the third cell, mid-way
            raise Killed

    with pytest.raises(Killed):
        atlas(tiny_model, recipe, tmp_path / "killed", callback=kill)
    done = sorted(p.name for p in (tmp_path / "killed").glob("channel-*.png"))
    assert done == ["channel-00000.png", "channel-00003.png"]
    assert not list((tmp_path / "killed").glob(".*.part"))  # no half-written cell

    computed = []
    resumed = atlas(tiny_model, recipe, tmp_path / "killed",
                    callback=lambda s: computed.append(s.channel))
    assert (resumed.made, resumed.skipped) == (2, 2)
    assert sorted(set(computed)) == [5, 7]
    for a, b in zip(fresh.cells, resumed.cells):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert fresh.sheet.read_bytes() == resumed.sheet.read_bytes()
    again = atlas(tiny_model, recipe, tmp_path / "killed")
    assert (again.made, again.skipped) == (0, 4)


def test_atlas_refuses_another_recipe_or_restarts(tiny_model, tmp_path):
    folder = tmp_path / "a"
    atlas(tiny_model, _recipe(channels=(1, 2)), folder)
    with pytest.raises(InceptionismError, match="steps 5 there, 6 now"):
        atlas(tiny_model, _recipe(channels=(1, 2), steps=6), folder)
    other = atlas(tiny_model, _recipe(channels=(2,), steps=6), folder, restart=True)
    assert (other.made, other.skipped) == (1, 0)
    assert not cell_path(folder, 1).exists()
    assert json.loads((folder / MANIFEST).read_text())["recipe"]["steps"] == 6
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "photo.jpg").write_bytes(b"x")
    with pytest.raises(InceptionismError, match="not empty"):
        atlas(tiny_model, _recipe(), tmp_path / "busy")


def test_atlas_recipe_round_trips_and_checks(tiny_model):
    recipe = _recipe(param=PIXEL, transforms="pad=2,jitter=2")
    assert AtlasRecipe.from_json(json.loads(json.dumps(recipe.to_json()))) == recipe
    assert _recipe().transforms == transforms_spec(standard(20))  # the stored default
    with pytest.raises(InceptionismError):
        _recipe(channels=(1, 1))
    with pytest.raises(InceptionismError):
        _recipe(transforms="blur=3")
    assert layer_channels(tiny_model, "c2") == list(range(16))


def test_a_direction_as_wide_as_a_head_layer_round_trips():
    v = torch.linspace(-1, 1, 1280)
    objective = direction("head", v)
    assert parse(objective.spec).spec == objective.spec
    with pytest.raises(InceptionismError, match="at most"):
        direction("head", torch.ones(100_001))

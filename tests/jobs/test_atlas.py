"""The atlas job: the same cells whatever the number of workers, resumed after an interruption,
channels picked from a photo, and refusals in one sentence before any work."""

from __future__ import annotations

import pytest
from PIL import Image

from inceptionism.errors import InceptionismError
from inceptionism.jobs import Hooks
from inceptionism.jobs.atlas import AtlasRequest, default_cells, parse_channels, run_atlas

from ..conftest import sample_path

SMALL = dict(layer="b1", channels="0-3", size=24, steps=24)


def test_cells_are_the_same_whatever_the_worker_count(tmp_path):
    one = run_atlas(AtlasRequest(output=tmp_path / "one.png", **SMALL))
    two = run_atlas(AtlasRequest(output=tmp_path / "two.png", workers=2, **SMALL))
    assert (one.made, two.made) == (4, 4)
    for a, b in zip(one.cells, two.cells):
        assert a.name == b.name and a.read_bytes() == b.read_bytes(), a.name
    # ... and the cells differ from channel to channel: the comparison could fail.
    assert len({c.read_bytes() for c in one.cells}) == 4
    assert one.sheet == tmp_path / "one.png" and default_cells(one.sheet).is_dir()
    with Image.open(one.sheet) as sheet:
        assert sheet.width >= 2 * 24


class Stop(Exception):
    pass


def test_an_interrupted_atlas_resumes_with_identical_cells(tmp_path):
    fresh = run_atlas(AtlasRequest(output=tmp_path / "fresh.png", **SMALL))

    def interrupt(step):
        if step.step is None and step.cell == 1:  # after the second cell is stored
            raise Stop

    with pytest.raises(Stop):
        run_atlas(AtlasRequest(output=tmp_path / "cut.png", **SMALL), Hooks(on_step=interrupt))
    assert not (tmp_path / "cut.png").exists()
    resumed = run_atlas(AtlasRequest(output=tmp_path / "cut.png", **SMALL))
    assert (resumed.made, resumed.skipped) == (2, 2)
    for a, b in zip(fresh.cells, resumed.cells):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert (tmp_path / "cut.png").read_bytes() != b""


def test_top_and_bottom_channels_of_a_photo(tmp_path):
    top = run_atlas(AtlasRequest(output=tmp_path / "top.png", layer="b1", top=2, size=16,
                                 steps=1, photo=sample_path("chelsea")))
    bottom = run_atlas(AtlasRequest(output=tmp_path / "bottom.png", layer="b1", bottom=2,
                                    size=16, steps=1, photo=sample_path("chelsea")))
    top_channels = [int(p.stem.split("-")[1]) for p in top.cells]
    bottom_channels = [int(p.stem.split("-")[1]) for p in bottom.cells]
    assert len(top_channels) == 2 and not set(top_channels) & set(bottom_channels)


def test_channel_lists():
    assert parse_channels("all") is None
    assert parse_channels(" 0-3, 7,2 ,3") == (0, 1, 2, 3, 7)
    for bad in ("", "x", "1-", "3-1", "1;2", "-2", "²"):
        with pytest.raises(InceptionismError):
            parse_channels(bad)


@pytest.mark.parametrize("changes, words", [
    (dict(layer="b99"), "Unknown layer 'b99'"),
    (dict(channels="0,24"), "Layer b1 has channels 0 to 23; 24 is not one of them."),
    (dict(channels="all", top=3), "give the photo"),
    (dict(channels="0", top=3, photo=sample_path("chelsea")), "not both"),
    (dict(channels="all", top=3, bottom=3, photo=sample_path("chelsea")), "not both"),
    (dict(size=8), "Cell size must be"),
    (dict(steps=0), "Steps must be"),
    (dict(lr=0.0), "Learning rate must be"),
    (dict(transforms="blur=3"), "blur"),
])
def test_bad_requests_are_refused_in_one_sentence(tmp_path, changes, words):
    request = AtlasRequest(output=tmp_path / "a.png", **{**SMALL, **changes})
    with pytest.raises(InceptionismError) as e:
        run_atlas(request)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_ray_actors_draw_the_same_cells_from_the_weights_bytes(ray_cluster, tmp_path):
    from inceptionism.models import get_spec

    weights = get_spec("efficientnet_lite0").weights.resolve(progress=False)
    one = run_atlas(AtlasRequest(output=tmp_path / "one.png", **SMALL))
    on_ray = run_atlas(AtlasRequest(output=tmp_path / "ray.png", workers=2, ray="",
                                    weights=weights, **SMALL))
    assert on_ray.made == 4
    for a, b in zip(one.cells, on_ray.cells):
        assert a.read_bytes() == b.read_bytes(), a.name

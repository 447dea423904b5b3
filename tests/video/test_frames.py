"""The fingerprint that guards a frames folder: settings added later leave it unchanged while
they are off, so renders made before them still resume."""

from __future__ import annotations

import dataclasses

from inceptionism import Dreamer
from inceptionism.settings import FRAME_CONFIG
from inceptionism.video.frames import Cycle, fingerprint


def test_lapnorm_joins_the_fingerprint_only_when_on():
    dreamer = Dreamer()
    cycle = Cycle.spread([dreamer.objective("b3")], 4)
    off = fingerprint("zoom", dreamer, "abc", cycle, FRAME_CONFIG)
    on = fingerprint("zoom", dreamer, "abc", cycle, dataclasses.replace(FRAME_CONFIG, lapnorm=4))
    assert "lapnorm" not in off["config"] and on["config"]["lapnorm"] == 4
    assert {k: v for k, v in on["config"].items() if k != "lapnorm"} == off["config"]

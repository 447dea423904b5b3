"""Named looks: small, frozen sets of :class:`DreamConfig` overrides.

A preset changes only the fields it names; options given explicitly on the command line
(or fields set in Python afterwards) override it::

    config = get_preset("subtle").apply(DreamConfig(seed=3))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

from .settings import DreamConfig
from .errors import InceptionismError


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one line for --help and the README
    overrides: Mapping[str, object]

    def __post_init__(self) -> None:
        known = {f.name for f in fields(DreamConfig)}
        unknown = set(self.overrides) - known
        if unknown:
            raise ValueError(f"preset {self.name!r} sets unknown fields {sorted(unknown)}")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def apply(self, config: DreamConfig) -> DreamConfig:
        return replace(config, **self.overrides)


def _presets(*presets: Preset) -> Mapping[str, Preset]:
    return MappingProxyType({p.name: p for p in presets})


PRESETS: Mapping[str, Preset] = _presets(
    Preset(
        "classic",
        "the deepdream notebook's look: 4 octaves of 10 steps, detail re-injected",
        dict(octaves=4, octave_scale=1.4, steps=10, step_size=0.012, jitter=32, smoothing=0.5,
             smoothing_growth=0.0, smoothing_cascade=False, pyramid="octave"),
    ),
    Preset(
        "subtle",
        "a light touch: the photo stays clear, with faint patterns in it",
        dict(octaves=3, octave_scale=1.4, steps=6, step_size=0.006, jitter=32, smoothing=1.0,
             smoothing_growth=0.0, smoothing_cascade=False, pyramid="octave"),
    ),
    Preset(
        "painterly",
        "soft and smooth: recursive blending and growing, cascaded gradient smoothing",
        dict(octaves=5, octave_scale=1.4, steps=10, step_size=0.012, jitter=32, smoothing=0.5,
             smoothing_growth=2.0, smoothing_cascade=True, pyramid="recursive", blend=0.6),
    ),
)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InceptionismError(
            f"Unknown preset '{name}'; choose one of: {', '.join(PRESETS)}."
        ) from None

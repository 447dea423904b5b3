"""A dream's parameters as stored with its output, and read back for ``--params-from``.

:class:`Recipe` is everything that decides a dream's pixels, given the input photo: model,
weights, objective (in the string form :func:`inceptionism.objectives.parse` reads), guide
image, the full :class:`DreamConfig` (variants and seed included) and device. Re-running a
recipe on the same photo with the same version of inceptionism and PyTorch on the same
device gives a bit-identical image. Files named in a recipe are stored as absolute paths
with their SHA-256, so a re-run can tell when one has changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..dream import DreamConfig
from ..errors import InceptionismError
from ..io.files import file_sha256 as sha256_of

REQUIRED = ("model", "objective", "config")


@dataclass(frozen=True)
class Recipe:
    model: str
    objective: str  # parse()-able objective spec
    config: DreamConfig
    weights_file: str | None = None  # a state-dict file used instead of the registry's weights
    guide: str | None = None  # the guide image of a guided dream
    device: str = "cpu"
    preset: str | None = None  # informational: the config already holds its values
    # The SHA-256 the files above had when a stored recipe was made (None: not checked).
    weights_sha256: str | None = None
    guide_sha256: str | None = None

    def to_metadata(self, weights_description: str) -> dict:
        """The JSON-ready dict stored in an output (paths made absolute, files hashed)."""
        meta: dict = {
            "model": self.model,
            "weights": weights_description,
            "weights_file": None,
            "objective": self.objective,
            "guide": None,
            "config": dataclasses.asdict(self.config),
            "preset": self.preset,
            "device": self.device,
        }
        if self.weights_file is not None:
            path = Path(self.weights_file).resolve()
            meta["weights_file"] = {"file": str(path), "sha256": sha256_of(path)}
        if self.guide is not None:
            path = Path(self.guide).resolve()
            meta["guide"] = {"file": str(path), "sha256": sha256_of(path)}
        return meta

    @classmethod
    def from_metadata(cls, meta: dict, source: Path) -> Recipe:
        """Rebuild a recipe from an output's metadata; refuse what cannot be reproduced.

        Call :meth:`verify_files` before using the files it names.
        """
        missing = [key for key in REQUIRED if key not in meta]
        if missing:
            raise InceptionismError(
                f"{source} holds no dream parameters to re-run ({', '.join(missing)} missing); "
                "a layer-tour sheet cannot be re-run, but its tiles can."
            )
        if not isinstance(meta["config"], dict):
            raise InceptionismError(f"The parameters stored in {source} are damaged (config).")
        stored = dict(meta["config"])
        known = {f.name for f in dataclasses.fields(DreamConfig)}
        unknown = sorted(set(stored) - known)
        if unknown:
            raise InceptionismError(
                f"{source} was made by inceptionism {meta.get('inceptionism', '?')} with settings "
                f"this version does not know ({', '.join(unknown)})."
            )
        config = DreamConfig(**stored)
        try:
            config.validate()  # also catches wrong types: "3" >= 0 raises TypeError
        except TypeError:
            raise InceptionismError(
                f"The parameters stored in {source} are damaged (a setting has the wrong type)."
            ) from None
        weights = meta.get("weights_file") or {}
        guide = meta.get("guide") or {}
        return cls(
            model=meta["model"],
            objective=meta["objective"],
            config=config,
            weights_file=weights.get("file"),
            guide=guide.get("file"),
            device=meta.get("device", "cpu"),
            preset=meta.get("preset"),
            weights_sha256=weights.get("sha256"),
            guide_sha256=guide.get("sha256"),
        )

    def verify_files(self, source: Path) -> None:
        """Refuse when a file this recipe was made with is gone or has changed."""
        for what, path, digest in (("weights file", self.weights_file, self.weights_sha256),
                                   ("guide image", self.guide, self.guide_sha256)):
            if path is None or digest is None:
                continue
            if not Path(path).is_file():
                raise InceptionismError(
                    f"The {what} {path} that {source} was made with no longer exists."
                )
            if sha256_of(Path(path)) != digest:
                raise InceptionismError(
                    f"The {what} {path} has changed since {source} was made, so the result would differ."
                )


def output_metadata(recipe: Recipe, weights_description: str, input: Path) -> dict:
    """What an output stores: the recipe, plus the version and the photo it was made from."""
    weights = recipe.weights_file or weights_description
    return {"inceptionism": __version__, **recipe.to_metadata(weights),
            "input": input.name, "input_sha256": sha256_of(input)}

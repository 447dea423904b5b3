"""A dream's parameters as stored with its output, and read back for ``--params-from``.

:class:`Recipe` is everything that decides a dream's pixels, given the input photo: model,
weights, objective (in the string form :func:`inceptionism.engine.objectives.parse` reads), guide
image, the full :class:`DreamConfig` (variants and seed included) and device. Re-running a
recipe on the same photo with the same version of inceptionism and PyTorch on the same
device gives a bit-identical image. Files named in a recipe are stored as absolute paths
with their SHA-256, so a re-run can tell when one has changed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from ..engine.objectives import ANY_LAYER_NAMES, parse
from ..errors import InceptionismError
from ..io.files import file_sha256 as sha256_of
from ..settings import DreamConfig
from ..version import __version__

REQUIRED = ("model", "objective", "config")
# A stored objective of more than a million characters is no objective (its 1000 terms fit
# in far less); nor is a path or name that long.
MAX_TEXT = 1_000_000
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _kind(value: object) -> str:
    """How a message names what was found instead: 'a number', 'a list', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {"str": "text", "list": "a list", "dict": "an object"}.get(type(value).__name__,
                                                                      type(value).__name__)


def _valid(config: DreamConfig, field: str) -> bool:
    """Whether ``config``'s ``field`` alone passes validation."""
    try:
        dataclasses.replace(DreamConfig(), **{field: getattr(config, field)}).validate()
    except InceptionismError:
        return False
    return True


def _lower(message: str) -> str:
    """A one-sentence message as a clause: 'Octaves must be ... (got 2.5).' ->
    'octaves must be ... (got 2.5)'."""
    return (message[:1].lower() + message[1:]).rstrip(".")


@dataclass(frozen=True)
class Recipe:
    model: str
    objective: str  # parse()-able objective spec
    config: DreamConfig
    weights_file: str | None = None  # a state-dict file used instead of the registry's weights
    guide: str | None = None  # the guide image of a guided dream
    device: str = "cpu"
    mask: str | None = None  # where the dream may change the photo (white) and where not
    preset: str | None = None  # informational: the config already holds its values
    # The SHA-256 the files above had when a stored recipe was made (None: not checked).
    weights_sha256: str | None = None
    guide_sha256: str | None = None
    mask_sha256: str | None = None
    # The input convention given instead of the model's own (models/preprocess.py); None: the
    # model's. Stored so that a model file dreamed with --preprocess caffe re-runs the same.
    preprocess: str | None = None

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
        if self.preprocess is not None:
            meta["preprocess"] = self.preprocess
        if self.weights_file is not None:
            path = Path(self.weights_file).resolve()
            meta["weights_file"] = {"file": str(path), "sha256": sha256_of(path)}
        if self.guide is not None:
            path = Path(self.guide).resolve()
            meta["guide"] = {"file": str(path), "sha256": sha256_of(path)}
        if self.mask is not None:  # absent without a mask, as in outputs made before masks
            path = Path(self.mask).resolve()
            meta["mask"] = {"file": str(path), "sha256": sha256_of(path)}
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

        def damaged(field: str, why: str) -> InceptionismError:
            return InceptionismError(
                f"The parameters stored in {source} are damaged ({field}: {why}).")

        def text(field: str, optional: bool = False, limit: int = MAX_TEXT) -> str | None:
            value = meta.get(field)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise damaged(field, f"text expected, found {_kind(value)}")
            if len(value) > limit:
                raise damaged(field, f"{len(value)} characters, more than {limit}")
            return value

        def stored_file(field: str) -> tuple[str | None, str | None]:
            value = meta.get(field)
            if value is None:
                return None, None
            if not isinstance(value, dict):
                raise damaged(field, f"an object with file and sha256 expected, found {_kind(value)}")
            path, digest = value.get("file"), value.get("sha256")
            if not isinstance(path, str) or not path or len(path) > MAX_TEXT:
                raise damaged(f"{field}.file", f"a file name expected, found {_kind(path)}")
            if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
                raise damaged(f"{field}.sha256", "64 hexadecimal digits expected")
            return path, digest

        model = text("model", limit=200)
        objective = text("objective")
        try:  # the same reader a re-run uses (layer names are checked by the model later)
            parse(objective, layer_names=ANY_LAYER_NAMES)  # graph layers have '/' in names
        except InceptionismError as exc:
            raise damaged("objective", _lower(str(exc))) from None
        device = text("device", optional=True, limit=200) or "cpu"
        preset = text("preset", optional=True, limit=200)
        weights_file, weights_sha256 = stored_file("weights_file")
        guide, guide_sha256 = stored_file("guide")
        mask, mask_sha256 = stored_file("mask")
        if not isinstance(meta["config"], dict):
            raise damaged("config", f"an object expected, found {_kind(meta['config'])}")
        stored = dict(meta["config"])
        known = {f.name for f in dataclasses.fields(DreamConfig)}
        unknown = sorted(str(k) for k in set(stored) - known)
        if unknown:
            raise InceptionismError(
                f"{source} was made by inceptionism {meta.get('inceptionism', '?')} with settings "
                f"this version does not know ({', '.join(unknown)[:200]})."
            )
        config = DreamConfig(**stored)
        try:
            config.validate()  # the same rule as every other way in: type, finite, range
        except InceptionismError as exc:
            field = next((f for f in known if not _valid(config, f)), None)
            raise damaged(f"config.{field}" if field else "config", _lower(str(exc))) from None
        return cls(model=model, objective=objective, config=config, weights_file=weights_file,
                   guide=guide, device=device, preset=preset, weights_sha256=weights_sha256,
                   guide_sha256=guide_sha256, mask=mask, mask_sha256=mask_sha256,
                   preprocess=text("preprocess", optional=True, limit=1000))

    def verify_files(self, source: Path) -> None:
        """Refuse when a file this recipe was made with is gone or has changed."""
        for what, path, digest in (("weights file", self.weights_file, self.weights_sha256),
                                   ("guide image", self.guide, self.guide_sha256),
                                   ("mask", self.mask, self.mask_sha256)):
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

"""Reading and writing images safely.

Reading: any format Pillow reads (JPEG, PNG, WebP, TIFF, BMP, GIF's first frame, ...), with
the EXIF orientation applied; grayscale, palette, CMYK and 16-bit images become RGB floats in
[0, 1] (16-bit grayscale keeps its precision until the output is written; Pillow reads
16-bit colour PNGs as 8-bit); an alpha channel is set aside
unchanged and put back on output. Every way a file can be unreadable becomes an
:class:`ImageError` whose message names the file and the problem.

Writing: the format follows the extension; the image goes to a temporary file in the output
folder, then is renamed into place, so a crash never leaves a partial output. The dream's
parameters travel with the image: a PNG text chunk, or a ``<output>.json`` sidecar for
formats that cannot hold one.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from ..checks import megapixels
from ..errors import ImageError
from .files import atomic_write

# Largest image accepted by default: ~100 megapixels (an 8K frame is 33 MP). Guards against
# decompression bombs: tiny files that claim billions of pixels.
DEFAULT_MAX_PIXELS = 100_000_000

# extension -> (Pillow format, keeps alpha, holds our metadata inside the file)
OUTPUT_FORMATS = {
    ".png": ("PNG", True, True),
    ".jpg": ("JPEG", False, False),
    ".jpeg": ("JPEG", False, False),
    ".webp": ("WEBP", True, False),
    ".tif": ("TIFF", True, False),
    ".tiff": ("TIFF", True, False),
    ".bmp": ("BMP", False, False),
    ".gif": ("GIF", True, False),
}
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
MAX_SIDE = {"JPEG": 65500, "WEBP": 16383, "GIF": 65535}  # what each format can encode
METADATA_KEY = "inceptionism"


@dataclass
class LoadedImage:
    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1]
    alpha: Image.Image | None  # the original alpha channel (mode "L"), untouched
    path: Path

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow reports sizes."""
        return self.rgb.shape[1], self.rgb.shape[0]


def check_input_file(path: Path, kind: str = "image", error: type[Exception] = ImageError) -> None:
    """Refuse, with one sentence, an input ``path`` that is missing, a folder, empty or
    unreadable. ``kind`` names what it should be ("image", "video")."""
    try:
        if not path.exists():
            raise error(f"Input file {path} does not exist.")
        if path.is_dir():
            raise error(f"Input {path} is a directory, not {'an' if kind[0] in 'aeiou' else 'a'} "
                        f"{kind} file.")
        if not path.is_file():  # a pipe would block, a device never end
            raise error(f"Input {path} is a pipe, socket or device, not a regular {kind} file.")
        if path.stat().st_size == 0:
            raise error(f"Input file {path} is empty (0 bytes).")
    except PermissionError:
        raise error(f"Input {path} cannot be read: permission denied.") from None


def _check_input_path(path: Path) -> None:
    check_input_file(path, "image")


def pil_to_rgb(img: Image.Image) -> tuple[np.ndarray, Image.Image | None]:
    """Convert any Pillow mode to (RGB float array in [0, 1], alpha band or None)."""
    alpha = None
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        alpha = img.getchannel("A")
        img = img.convert("RGB") if img.mode != "LA" else img.convert("L")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit grayscale ("I;16*", or "I" as older Pillows open it) spans 0..65535;
        # float images are taken as 0..1.
        a = np.asarray(img, dtype=np.float64)
        a = np.clip(a if img.mode == "F" else a / 65535.0, 0, 1).astype(np.float32)
        return np.repeat(a[..., None], 3, axis=2), alpha
    if img.mode != "RGB":
        img = img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
    rgb = np.asarray(img, dtype=np.float32)  # a new array: dividing in place saves a copy
    rgb /= 255.0
    return rgb, alpha


def _open_unguarded(fp, path: Path) -> Image.Image:
    """Identify an image from its header, as ``Image.open`` does, without Pillow's global
    decompression-bomb check: the caller checks the size against its own per-call limit.

    Pillow's guard reads the process-wide ``Image.MAX_IMAGE_PIXELS``; switching that off and
    on per call would leave other threads unguarded meanwhile, so it is never touched here.
    """
    prefix = fp.read(16)
    for loader in (Image.preinit, Image.init):  # the common formats first, then every plugin
        loader()
        for fmt in list(Image.ID):
            factory, accept = Image.OPEN[fmt]
            result = not accept or accept(prefix)
            if result and not isinstance(result, str):
                fp.seek(0)
                try:
                    return factory(fp, str(path))
                except (SyntaxError, IndexError, TypeError, struct.error):
                    continue
    raise UnidentifiedImageError(f"cannot identify image file {str(path)!r}")


def load_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file as RGB floats in [0, 1], plus its alpha channel if it has one.

    Inputs of more than ``max_pixels`` pixels are refused from the header, before any pixel
    is decoded. Safe to call from several threads at once (no global state is changed).
    """
    path = Path(path)
    _check_input_path(path)
    try:
        with open(path, "rb") as fp, _open_unguarded(fp, path) as img:
            width, height = img.size
            if width * height > max_pixels:
                problem = (f"Input {path} is {width}x{height} ({megapixels(width * height)} "
                           f"megapixels), more than the limit of {megapixels(max_pixels)} "
                           "megapixels")
                raise ImageError(f"{problem}.", remedy="pixel_limit", problem=problem)
            img.seek(0)  # first frame of an animation
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb, alpha = pil_to_rgb(img)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"Input {path} is not an image file that can be read.") from None
    except PermissionError:
        raise ImageError(f"Input {path} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ImageError(f"Input {path} is truncated or corrupt ({exc}).") from None
    return LoadedImage(rgb=np.ascontiguousarray(rgb), alpha=alpha, path=path)


def output_format(path: Path) -> tuple[str, bool, bool]:
    try:
        return OUTPUT_FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(OUTPUT_FORMATS))
        raise ImageError(
            f"Cannot tell the output format from '{path.name}'; use one of: {known}."
        ) from None


def check_output_size(path: str | Path, width: int, height: int) -> None:
    """Refuse, before any work, an image too large for the output's format."""
    fmt, _, _ = output_format(Path(path))
    limit = MAX_SIDE.get(fmt)
    if limit is not None and max(width, height) > limit:
        raise ImageError(
            f"{fmt} cannot hold a {width}x{height} image (at most {limit} pixels a side); "
            "write a .png or .tif instead."
        )


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def check_output_path(path: str | Path, force: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    """Refuse, before any work is done, an output that cannot or must not be written."""
    path = Path(path)
    try:
        return _check_output_path(path, force, inputs)
    except PermissionError:
        raise ImageError(f"Output {path} cannot be reached: permission denied.") from None


def _check_output_path(path: Path, force: bool, inputs: tuple[Path, ...]) -> Path:
    _, _, embeds = output_format(path)
    targets = [path] if embeds else [path, sidecar_path(path)]
    return check_destination(path, force, inputs, targets)


def check_destination(
    path: Path, force: bool, inputs: tuple[Path, ...] = (), targets: list[Path] | None = None
) -> Path:
    """Refuse ``path`` (and the ``targets`` written with it) if its folder is missing or not
    writable, if it is a directory or one of ``inputs``, or if a target exists without
    ``force``. Shared by every kind of output (images, videos)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise ImageError(f"Output folder {parent} does not exist.")
    if not parent.is_dir():
        raise ImageError(f"Output folder {parent} is not a folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ImageError(f"Output folder {parent} is not writable.")
    if path.is_dir():
        raise ImageError(f"Output {path} is a directory.")
    for source in inputs:
        if path.exists() and source.exists() and os.path.samefile(path, source):
            raise ImageError(f"Output {path} is the input file; the input is never overwritten.")
    if not force:
        for target in targets or [path]:
            if target.exists():
                raise ImageError(f"Output {target} already exists; allow overwriting to replace it.",
                                 remedy="overwrite", problem=f"Output {target} already exists")
    return path


def to_pil(rgb: np.ndarray, alpha: Image.Image | None = None) -> Image.Image:
    """RGB floats in [0, 1] (H, W, 3) -> 8-bit Pillow image, with ``alpha`` re-attached."""
    out = np.empty(rgb.shape, np.uint8)
    rows = max(1, (1 << 22) // max(1, rgb[0].size))  # ~4M values a slice: no full-size temporaries
    for r in range(0, rgb.shape[0], rows):
        out[r:r + rows] = (np.clip(rgb[r:r + rows], 0, 1) * 255).round()
    img = Image.fromarray(out, "RGB")
    if alpha is not None:
        img.putalpha(alpha)
    return img


def save_image(
    path: str | Path,
    image: Image.Image,
    metadata: dict | None = None,
    force: bool = False,
) -> list[str]:
    """Write ``image`` (and its metadata) atomically; return notes for the user, if any."""
    path = check_output_path(path, force)
    check_output_size(path, *image.size)
    fmt, keeps_alpha, embeds = output_format(path)
    notes = []
    if image.mode == "RGBA" and not keeps_alpha:
        notes.append(f"{fmt} cannot store transparency; the alpha channel was dropped in {path.name}.")
        image = image.convert("RGB")
    options = dict(SAVE_OPTIONS.get(fmt, {}))
    text = json.dumps(metadata, indent=1, sort_keys=True) if metadata is not None else None
    if text is not None and embeds:
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, text)
        options["pnginfo"] = info
    try:
        atomic_write(path, lambda tmp: image.save(tmp, format=fmt, **options))
        if text is not None and not embeds:
            atomic_write(sidecar_path(path), lambda tmp: tmp.write_text(text + "\n"))
    except OSError as exc:
        raise ImageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except (ValueError, OverflowError) as exc:  # an encoder's own limits
        raise ImageError(f"Cannot write {path} as {fmt}: {exc}.") from None
    if text is None or embeds:  # a sidecar from an earlier output would now be stale
        sidecar_path(path).unlink(missing_ok=True)
    return notes


def read_metadata(path: str | Path) -> dict:
    """The parameters stored with an output of ours (PNG text chunk or JSON sidecar)."""
    path = Path(path)
    _check_input_path(path)
    sidecar = sidecar_path(path)
    try:
        if sidecar.is_file():
            text = sidecar.read_text()
        else:
            with Image.open(path) as img:
                text = img.info.get(METADATA_KEY) if hasattr(img, "info") else None
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        raise ImageError(f"Cannot read parameters from {path} ({exc}).") from None
    if text is None:
        raise ImageError(f"{path} holds no inceptionism parameters.")
    try:
        meta = json.loads(text)
    except ValueError:
        raise ImageError(f"The parameters stored in {path} are damaged (not valid JSON).") from None
    if not isinstance(meta, dict):
        raise ImageError(f"The parameters stored in {path} are damaged (not a JSON object).")
    return meta

"""Reading and writing images safely.

Reading: any format Pillow reads (JPEG, PNG, WebP, TIFF, BMP, GIF's first frame, ...), with
the EXIF orientation applied; grayscale, palette, CMYK and 16-bit images become RGB floats in
[0, 1]; an alpha channel is set aside unchanged and put back on output. Every way a file can
be unreadable becomes an :class:`ImageError` whose message names the file and the problem.

Colour and depth, as a photographer expects them (:func:`load_image` and :func:`save_photo`):

- An ICC profile other than sRGB (an iPhone's Display P3, Adobe RGB, ProPhoto, CMYK) is
  converted to sRGB for the network with LittleCMS (Pillow's ImageCms, relative colorimetric),
  and the output is converted back and tagged with the same profile. What the dream changed
  is converted back and added to the file's own pixels, so a pixel the dream left alone comes
  back bit for bit, even a saturated P3 colour that sRGB cannot hold.
- 16-bit PNG and TIFF are read at 16 bits (Pillow reads 16-bit colour as 8-bit, so the pixels
  come from pypng and tifffile, both small pure-Python libraries) and written at 16 bits to PNG
  or TIFF unless another depth is asked for.
- EXIF (camera, lens, date, GPS) is kept, with the orientation tag reset to 1 since the
  rotation has been applied to the pixels. 16-bit TIFFs are written without EXIF (tifffile
  does not write an EXIF directory).

Writing: the format follows the extension; the image goes to a temporary file in the output
folder, then is renamed into place, so a crash never leaves a partial output. The dream's
parameters travel with the image: a PNG text chunk, or a ``<output>.json`` sidecar for
formats that cannot hold one.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from ..errors import ImageError
from ..settings import DEFAULT_MAX_PIXELS, megapixels
from .files import atomic_write
from .metadata import EXIF_GPS_IFDS, exif_problem, icc_problem, quiet_pillow_exif_warnings

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
DEPTHS = (8, 16)
DEEP_FORMATS = ("PNG", "TIFF")  # formats we write at 16 bits per channel
ORIENTATION = 0x0112  # EXIF tag
EXIF_IFD, GPS_IFD = EXIF_GPS_IFDS


@dataclass
class LoadedImage:
    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1], sRGB
    alpha: Image.Image | None  # the original alpha channel (mode "L"), untouched
    path: Path
    depth: int = 8  # bits per channel in the file: 8 or 16
    icc_profile: bytes | None = None  # the file's profile, given back to the output
    exif: bytes | None = None  # the file's EXIF, orientation reset (already applied)
    # The file's own pixels in its profile's space (uint8 or uint16), where ``rgb`` was
    # converted from another profile: what a dream leaves alone is given back from these.
    source: np.ndarray | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)  # for the user, e.g. what could not be kept

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


def is_still_image(path: str | Path) -> bool:
    """Whether ``path`` is an image file of one frame (not a video, not an animation)."""
    try:
        with open(path, "rb") as fp, _open_unguarded(fp, Path(path)) as img:
            return getattr(img, "n_frames", 1) == 1
    except (OSError, SyntaxError, ValueError, struct.error, UnidentifiedImageError):
        return False


def load_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file as sRGB floats in [0, 1], plus its alpha channel, depth, ICC
    profile and EXIF (see the module's docstring).

    Inputs of more than ``max_pixels`` pixels are refused from the header, before any pixel
    is decoded. A damaged EXIF block or an ICC profile LittleCMS refuses is dropped with a
    note in ``notes`` (:mod:`inceptionism.io.metadata`); the pixels are read all the same.
    Safe to call from several threads at once (the one global change, a warnings filter
    against Pillow's repeat of that note, is idempotent).
    """
    path = Path(path)
    _check_input_path(path)
    quiet_pillow_exif_warnings()  # a damaged EXIF block gets our one note instead
    try:
        with open(path, "rb") as fp, _open_unguarded(fp, path) as img:
            _refuse_over_limit("Input", path, img.size, max_pixels)
            img.seek(0)  # first frame of an animation
            deep = _deep_colour_reader(img)
            icc, icc_damage = _usable_profile(img.info.get("icc_profile") or None)
            orientation, exif_damage = _read_exif(img)
            img.load()
            if exif_damage is None:
                img = ImageOps.exif_transpose(img)
            exif = _exif_bytes(img, orientation) if exif_damage is None else None
            loaded = LoadedImage(rgb=None, alpha=None, path=path, exif=exif)  # type: ignore[arg-type]
            for what, damage, then in (("EXIF block", exif_damage, "dreamed as they are"),
                                       ("ICC profile", icc_damage, "taken as sRGB")):
                if damage is not None:
                    loaded.notes.append(f"the {what} of {path.name} is damaged ({damage[:120]}) "
                                        f"and was dropped; its pixels are {then}.")
            if deep is not None:
                pixels = _oriented(deep(path), orientation)
                loaded.depth = 16
                loaded.alpha = img.getchannel("A") if pixels.shape[2] == 4 else None
                pixels = pixels[..., :3]
            elif img.mode.startswith("I;16") or img.mode == "I":
                loaded.depth = 16
            if icc is not None and not _is_srgb(icc):
                _to_srgb(loaded, img if deep is None else pixels, icc)
            else:
                loaded.icc_profile = icc
                if deep is not None:
                    loaded.rgb = (pixels / np.float32(65535)).astype(np.float32)
                else:
                    loaded.rgb, loaded.alpha = pil_to_rgb(img)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"Input {path} is not an image file that can be read.") from None
    except PermissionError:
        raise ImageError(f"Input {path} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, struct.error, ImageCms.PyCMSError) as exc:
        raise ImageError(f"Input {path} is truncated or corrupt ({exc}).") from None
    loaded.rgb = np.ascontiguousarray(loaded.rgb)
    return loaded


def _deep_colour_reader(img: Image.Image):
    """For a 16-bit colour PNG or TIFF (which Pillow reads as 8-bit), a function reading its
    pixels as (H, W, 3 or 4) uint16; else None."""
    if img.mode not in ("RGB", "RGBA"):
        return None
    if img.format == "PNG" and img.tile and img.tile[0].args and ";16" in str(img.tile[0].args):
        return _read_png16
    if img.format == "TIFF" and tuple(img.tag_v2.get(258, (8,)))[:1] == (16,):
        return _read_tiff16
    return None


def _read_png16(path: Path) -> np.ndarray:
    import png  # pypng

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = info["planes"]
    out = np.empty((height, width * planes), np.uint16)
    for y, row in enumerate(rows):
        out[y] = row
    out = out.reshape(height, width, planes)
    return out if planes in (3, 4) else np.repeat(out[..., :1], 3, axis=2)


def _read_tiff16(path: Path) -> np.ndarray:
    import tifffile

    try:
        a = tifffile.imread(path, key=0)
    except (ValueError, NotImplementedError, KeyError) as exc:
        raise ImageError(f"Input {path} is a 16-bit TIFF that cannot be read at 16 bits "
                         f"({exc}); save it uncompressed or with ZIP compression.") from None
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype != np.uint16:
        raise ImageError(f"Input {path} is a 16-bit TIFF of an unsupported layout "
                         f"({a.shape}, {a.dtype}).")
    return a


def _oriented(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation ``orientation`` (1-8) to an (H, W, C) array, as
    ImageOps.exif_transpose does to an image."""
    ops = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: x.transpose(1, 0, 2), 6: lambda x: np.rot90(x, -1),
           7: lambda x: x[::-1, ::-1].transpose(1, 0, 2), 8: lambda x: np.rot90(x, 1)}
    return np.ascontiguousarray(ops[orientation](a)) if orientation in ops else a


def _read_exif(img: Image.Image) -> tuple[int, str | None]:
    """(EXIF orientation, None) of ``img``; (1, why) when its EXIF block is damaged, which is
    then left unread (:func:`~inceptionism.io.metadata.exif_problem`)."""
    raw = img.info.get("exif")
    damage = exif_problem(raw) if isinstance(raw, bytes) else None
    if damage is not None:
        return 1, damage
    try:
        exif = img.getexif()
        for ifd in (EXIF_IFD, GPS_IFD):  # what _exif_bytes keeps must be readable too
            if ifd in exif:
                exif.get_ifd(ifd)
        return exif.get(ORIENTATION, 1), None
    except (SyntaxError, ValueError, TypeError, KeyError, struct.error, OSError) as exc:
        return 1, str(exc) or type(exc).__name__


def _usable_profile(icc: bytes | None) -> tuple[bytes | None, str | None]:
    """(``icc``, None), or (None, why) when LittleCMS refuses the profile."""
    damage = icc_problem(icc)
    return (icc, None) if damage is None else (None, damage)


def _exif_bytes(img: Image.Image, orientation: int) -> bytes | None:
    exif = img.getexif()
    if not len(exif):
        return None
    if orientation != 1 or ORIENTATION in exif:
        exif[ORIENTATION] = 1  # the rotation is in the pixels now
    for ifd in (EXIF_IFD, GPS_IFD):  # load the camera/date and GPS directories so they are kept
        if ifd in exif:
            exif.get_ifd(ifd)
    return exif.tobytes()


def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, TypeError):
        return True  # a damaged profile: treat the pixels as sRGB, as a browser would
    return "srgb" in description.lower()


def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _transform(src, dst, in_mode: str = "RGB"):
    return ImageCms.buildTransform(src, dst, in_mode, "RGB",
                                   renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


def _to_srgb(loaded: LoadedImage, img: Image.Image | np.ndarray, icc: bytes) -> None:
    """Fill ``loaded.rgb`` with ``img`` (a Pillow image, or uint16 pixels) converted from the
    profile ``icc`` to sRGB, keeping what is needed to convert the output back."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if isinstance(img, np.ndarray):  # 16-bit RGB
        loaded.icc_profile, loaded.source = icc, img
        loaded.rgb = apply_transform16(_transform(profile, _srgb()), img / np.float32(65535))
        return
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        loaded.alpha = img.getchannel("A")
        img = img.convert("RGB")
    if img.mode == "P":
        img = img.convert("RGB")
    if img.mode not in ("RGB", "CMYK"):
        # a grey profile on a grey image: its tone curve is close to sRGB's; read as is
        loaded.rgb, _ = pil_to_rgb(img)
        loaded.notes.append(f"the {img.mode} image's ICC profile was not applied.")
        return
    srgb = ImageCms.applyTransform(img, _transform(profile, _srgb(), img.mode))
    loaded.rgb, _ = pil_to_rgb(srgb)
    if img.mode == "RGB":  # a CMYK photo comes back as sRGB, tagged as such
        loaded.icc_profile, loaded.source = icc, np.asarray(img)
    else:
        loaded.icc_profile = _srgb().tobytes()


def apply_transform16(transform, rgb: np.ndarray, levels: int = 33) -> np.ndarray:
    """Apply an 8-bit RGB->RGB ImageCms ``transform`` to float RGB at full precision: the
    transform is sampled on a ``levels``^3 grid (LittleCMS through Pillow has no 16-bit RGB
    mode) and interpolated trilinearly, so the result is smooth (no 8-bit steps), within
    about half an 8-bit level of the exact conversion."""
    grid = np.round(np.linspace(0, 255, levels)).astype(np.uint8)
    r, g, b = np.meshgrid(grid, grid, grid, indexing="ij")
    cube = np.stack([r, g, b], -1).reshape(1, -1, 3)
    lut = np.asarray(ImageCms.applyTransform(Image.fromarray(cube, "RGB"), transform))
    lut = lut.reshape(levels, levels, levels, 3).astype(np.float32) / 255
    nodes = grid.astype(np.float32) / 255
    out = np.empty(rgb.shape[:2] + (3,), np.float32)
    rows = max(1, (1 << 20) // max(1, rgb.shape[1]))
    for y in range(0, rgb.shape[0], rows):
        x = np.clip(rgb[y:y + rows, :, :3], 0, 1).astype(np.float32)
        i = np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, levels - 2)
        t = (x - nodes[i]) / (nodes[i + 1] - nodes[i])
        acc = 0
        for corner in range(8):
            cr, cg, cb = (corner >> 2) & 1, (corner >> 1) & 1, corner & 1
            w = ((t[..., 0] if cr else 1 - t[..., 0]) * (t[..., 1] if cg else 1 - t[..., 1])
                 * (t[..., 2] if cb else 1 - t[..., 2]))
            acc = acc + w[..., None] * lut[i[..., 0] + cr, i[..., 1] + cg, i[..., 2] + cb]
        out[y:y + rows] = acc
    return out


def _refuse_over_limit(what: str, path: Path, size: tuple[int, int], max_pixels: int) -> None:
    """The pixel limit, checked from the header before any pixel is decoded."""
    width, height = size
    if width * height > max_pixels:
        problem = (f"{what} {path} is {width}x{height} ({megapixels(width * height)} "
                   f"megapixels), more than the limit of {megapixels(max_pixels)} megapixels")
        raise ImageError(f"{problem}.", remedy="pixel_limit", problem=problem)


def load_mask(path: str | Path, size: tuple[int, int], max_pixels: int = DEFAULT_MAX_PIXELS,
              ) -> np.ndarray:
    """Read a mask image as (H, W) float32 weights in [0, 1] for an image of ``size``
    (width, height): white 1, black 0, grey between; transparent counts as black."""
    path = Path(path)
    _check_input_path(path)
    quiet_pillow_exif_warnings()
    try:
        with open(path, "rb") as fp, _open_unguarded(fp, path) as img:
            _refuse_over_limit("Mask", path, img.size, max_pixels)
            _, exif_damage = _read_exif(img)  # a damaged block is ignored: only pixels count
            img.load()
            return mask_from_pil(img if exif_damage else ImageOps.exif_transpose(img), size)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"Mask {path} is not an image file that can be read.") from None
    except PermissionError:
        raise ImageError(f"Mask {path} cannot be read: permission denied.") from None
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ImageError(f"Mask {path} is truncated or corrupt ({exc}).") from None


def mask_from_pil(img: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """A Pillow image as (H, W) mask weights in [0, 1], resized to ``size`` (width, height)."""
    alpha = img.getchannel("A") if "A" in img.getbands() else None
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = Image.fromarray(np.asarray(img, np.float32) / 65535, "F")
    else:
        grey = img.convert("L").convert("F").point(lambda v: v / 255)
    if alpha is not None:
        grey = Image.fromarray(np.asarray(grey) * (np.asarray(alpha, np.float32) / 255), "F")
    if grey.size != tuple(size):
        grey = grey.resize(tuple(size), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(grey, np.float32), 0, 1)


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


def refuse_folder(path: str | Path, example: str) -> None:
    """Refuse an output that names a folder (``-o out/``), suggesting a file in it."""
    if str(path).endswith(("/", os.sep)) or Path(path).is_dir():
        raise ImageError(f"Output {path} is a folder; name a file in it, such as "
                         f"{Path(path) / example}.")


def _check_output_path(path: Path, force: bool, inputs: tuple[Path, ...]) -> Path:
    refuse_folder(path, "dream.png")
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
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> list[str]:
    """Write ``image`` (and its metadata, ICC profile and EXIF where the format holds them)
    atomically; return notes for the user, if any."""
    path = check_output_path(path, force)
    check_output_size(path, *image.size)
    fmt, keeps_alpha, embeds = output_format(path)
    notes = []
    if image.mode == "RGBA" and not keeps_alpha:
        notes.append(f"{fmt} cannot store transparency; the alpha channel was dropped in {path.name}.")
        image = image.convert("RGB")
    options = dict(SAVE_OPTIONS.get(fmt, {}))
    if fmt in PROFILE_FORMATS:
        options.update({k: v for k, v in (("icc_profile", icc_profile), ("exif", exif)) if v})
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


PROFILE_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF")  # formats that hold an ICC profile and EXIF


def save_photo(
    path: str | Path,
    rgb: np.ndarray,
    like: LoadedImage | None = None,
    metadata: dict | None = None,
    force: bool = False,
    depth: int | None = None,
) -> list[str]:
    """Write ``rgb`` ((H, W, 3) sRGB floats in [0, 1]), a dream of the photo ``like``, with
    that photo's alpha, ICC profile, EXIF and depth (see the module's docstring).

    ``depth``: 8 or 16 bits per channel; default: the photo's, where the format holds it
    (16 bits only in PNG and TIFF). Returns notes for the user, if any.
    """
    path = Path(path)
    fmt, _, _ = output_format(path)
    like = like or LoadedImage(rgb=rgb, alpha=None, path=path)
    notes = []
    if depth is not None and depth not in DEPTHS:
        raise ImageError(f"The depth must be 8 or 16 bits per channel (got {depth}).")
    if depth == 16 and fmt not in DEEP_FORMATS:
        raise ImageError(f"{fmt} holds 8 bits per channel; write a .png or .tif for 16 bits.")
    if depth is None:
        depth = like.depth if fmt in DEEP_FORMATS else 8
        if like.depth == 16 and depth == 8:
            notes.append(f"{fmt} holds 8 bits per channel, so {path.name} has 8, not the "
                         "photo's 16 (write a .png or .tif to keep them).")
    icc, exif = (like.icc_profile, like.exif) if fmt in PROFILE_FORMATS else (None, None)
    if like.source is not None and fmt in PROFILE_FORMATS:
        rgb = _back_to_profile(rgb, like)
    elif like.source is not None:
        notes.append(f"{fmt} holds no colour profile, so {path.name} is in sRGB.")
    if depth == 8:
        return notes + save_image(path, to_pil(rgb, like.alpha), metadata, force,
                                  icc_profile=icc, exif=exif)
    return notes + _save16(path, rgb, like.alpha, fmt, metadata, force, icc, exif)


def _back_to_profile(rgb: np.ndarray, like: LoadedImage) -> np.ndarray:
    """The dream in the photo's own colour space: the photo's own pixels plus what the dream
    changed, converted back. Where nothing changed that adds exactly 0."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(like.icc_profile))
    back = _transform(_srgb(), profile)
    scale = np.float32(65535 if like.source.dtype == np.uint16 else 255)
    out = like.source[..., :3] / scale
    if like.source.dtype == np.uint16:
        change = apply_transform16(back, rgb) - apply_transform16(back, like.rgb)
    else:
        change = (np.asarray(ImageCms.applyTransform(to_pil(rgb), back), np.float32)
                  - np.asarray(ImageCms.applyTransform(to_pil(like.rgb), back), np.float32)) / 255
    return np.clip(out + change, 0, 1)


def to_uint16(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0, 1) * 65535).round().astype(np.uint16)


def _save16(path, rgb, alpha, fmt, metadata, force, icc, exif) -> list[str]:
    path = check_output_path(path, force)
    check_output_size(path, rgb.shape[1], rgb.shape[0])
    pixels = to_uint16(rgb)
    if alpha is not None:
        a16 = np.asarray(alpha, np.uint16) * 257
        pixels = np.concatenate([pixels, a16[..., None]], axis=2)
    text = json.dumps(metadata, indent=1, sort_keys=True) if metadata is not None else None
    notes = []

    def write_png(tmp: Path) -> None:
        import png  # pypng: Pillow writes no 16-bit colour

        h, w, planes = pixels.shape
        buf = io.BytesIO()
        png.Writer(w, h, greyscale=False, alpha=planes == 4, bitdepth=16).write(
            buf, pixels.reshape(h, w * planes))
        chunks = list(png.Reader(bytes=buf.getvalue()).chunks())
        extra = []
        if icc is not None:
            extra.append((b"iCCP", b"ICC profile\0\0" + zlib.compress(icc)))
        if exif is not None:
            extra.append((b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif))
        if text is not None:
            extra.append((b"tEXt", METADATA_KEY.encode("latin-1") + b"\0" + text.encode("latin-1")))
        chunks[1:1] = extra  # after IHDR, before the image data
        with open(tmp, "wb") as fh:
            png.write_chunks(fh, chunks)

    def write_tiff(tmp: Path) -> None:
        import tifffile

        tifffile.imwrite(tmp, pixels, photometric="rgb", compression="zlib",
                         extrasamples=("unassalpha",) if pixels.shape[2] == 4 else None,
                         iccprofile=icc)

    if fmt == "TIFF" and exif is not None:
        notes.append(f"16-bit TIFF is written without EXIF; {path.name} lacks the photo's.")
    try:
        atomic_write(path, write_png if fmt == "PNG" else write_tiff)
        if text is not None and fmt != "PNG":
            atomic_write(sidecar_path(path), lambda tmp: tmp.write_text(text + "\n"))
    except OSError as exc:
        raise ImageError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    if text is None or fmt == "PNG":
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

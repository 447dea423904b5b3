"""Checks on the metadata blocks a photo carries beside its pixels: EXIF and ICC profiles.

A camera, an editor or a transfer can damage a metadata block while the pixels stay intact.
Such a block must not cost the user their photo: :func:`load_image` drops it with one note
and dreams the pixels. These checks say whether a block can be used, without changing any
global state (no warnings filters), so several threads may load photos at once.

- :func:`exif_problem` walks an EXIF block's TIFF structure (the header, IFD0 and the Exif
  and GPS directories the output keeps) and reports the first entry or directory that
  points outside the block. Pillow reads such a block with a warning and a partial result,
  or refuses it ("not a TIFF file").
- :func:`icc_problem` asks LittleCMS (Pillow's ImageCms) to read the profile and to build a
  transform from it to sRGB, the two things a dream does with it.

XMP is neither read nor written by inceptionism (outputs carry EXIF and the ICC profile), so
a damaged XMP packet cannot stop a dream.
"""

from __future__ import annotations

import io
import struct
import warnings

EXIF_HEADER = b"Exif\x00\x00"  # how JPEG's APP1 (and Pillow's info["exif"]) starts
EXIF_IFD, GPS_IFD = 0x8769, 0x8825  # the tags of the Exif and GPS directories
EXIF_GPS_IFDS = (EXIF_IFD, GPS_IFD)
# TIFF field type -> bytes per value (TIFF 6.0 and the BigTIFF additions Pillow reads).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
              16: 8, 17: 8, 18: 8}
MAX_ENTRIES = 4096  # no real directory has more; a larger count is garbage


def quiet_pillow_exif_warnings() -> None:
    """Silence Pillow's own "Corrupt EXIF data" warnings (it parses a JPEG's EXIF while
    opening it, for the resolution): :func:`exif_problem` finds the same damage and
    load_image says so in one note, so Pillow's warning would only repeat it in other words.
    Idempotent; called before each read, since a caller's ``catch_warnings`` block (the
    command line's, pytest's) restores the filters it found."""
    warnings.filterwarnings("ignore", message=r"(possibly )?corrupt exif data",
                            category=UserWarning)


def exif_problem(raw: bytes | None) -> str | None:
    """Why the EXIF block ``raw`` (with or without its ``Exif\\0\\0`` header) cannot be used,
    in a few words; None when it is sound (or absent)."""
    if not raw:
        return None
    data = raw[len(EXIF_HEADER):] if raw.startswith(EXIF_HEADER) else raw
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return "no TIFF header"
    order = "<" if data[:2] == b"II" else ">"
    seen: set[int] = set()
    todo = [(struct.unpack(order + "I", data[4:8])[0], "IFD0")]
    while todo:
        offset, name = todo.pop()
        if offset in seen:
            return f"the {name} directory loops back"
        seen.add(offset)
        if offset < 8 or offset + 2 > len(data):
            return f"the {name} directory lies outside the block"
        count = struct.unpack(order + "H", data[offset:offset + 2])[0]
        if count > MAX_ENTRIES or offset + 2 + 12 * count > len(data):
            return f"the {name} directory runs past the end of the block"
        for i in range(count):
            entry = data[offset + 2 + 12 * i: offset + 14 + 12 * i]
            tag, kind, n = struct.unpack(order + "HHI", entry[:8])
            size = TYPE_SIZES.get(kind, 0) * n
            if size > 4:
                start = struct.unpack(order + "I", entry[8:12])[0]
                if start + size > len(data):
                    return f"tag {tag:#06x} of {name} points past the end of the block"
            if tag in (EXIF_IFD, GPS_IFD) and kind in (4, 13) and n == 1:
                todo.append((struct.unpack(order + "I", entry[8:12])[0],
                             "Exif" if tag == EXIF_IFD else "GPS"))
    return None


def icc_problem(icc: bytes | None) -> str | None:
    """Why LittleCMS refuses the ICC profile ``icc``, in its own words; None when it reads
    the profile and can convert from it to sRGB (or there is no profile)."""
    if not icc:
        return None
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        if space in ("RGB", "CMYK"):
            ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), space, "RGB")
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None

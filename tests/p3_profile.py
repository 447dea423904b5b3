"""A Display P3 ICC profile (v2, matrix/TRC), written from its published definition so the
tests need no profile file: the D50-adapted colorants of Apple's Display P3 and the sRGB tone
curve (as an ICC parametric curve)."""

from __future__ import annotations

import struct

# Display P3 colorants, D65 primaries adapted to the D50 PCS (Bradford), as in Apple's profile
COLORANTS = {b"rXYZ": (0.51512, 0.24120, -0.00105), b"gXYZ": (0.29198, 0.69225, 0.04189),
             b"bXYZ": (0.15710, 0.06657, 0.78407)}
D50 = (0.9642, 1.0, 0.8249)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(v) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(c) for c in v)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _srgb_curve() -> bytes:  # parametric type 3: the sRGB transfer function
    g, a, b, c, d = 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045
    return b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0) + b"".join(map(_s15, (g, a, b, c, d)))


def display_p3(description: str = "Display P3 (test)") -> bytes:
    tags = [(b"desc", _desc(description)), (b"wtpt", _xyz(D50)),
            *((sig, _xyz(v)) for sig, v in COLORANTS.items()),
            (b"rTRC", _srgb_curve()), (b"gTRC", _srgb_curve()), (b"bTRC", _srgb_curve()),
            (b"cprt", b"text" + b"\0" * 4 + b"No copyright, test data\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for sig, body in tags:
        while (offset + len(data)) % 4:
            data += b"\0"
        table.append(struct.pack(">4sII", sig, offset + len(data), len(body)))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntr"
              + b"RGB " + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp"
              + b"\0" * 24 + struct.pack(">I", 0) + b"".join(_s15(c) for c in D50))
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data

"""Contact sheets: labelled tiles laid out in a grid (the layer tour's output).

Each tile is pasted unscaled, with its label centred in a strip under it. The layout is
returned with the image, so callers (and tests) know where each tile landed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from ..settings import COLUMNS

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


@dataclass(frozen=True)
class Tile:
    label: str
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the tile's image in the sheet


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled TrueType font
    except (OSError, TypeError, ValueError):  # Pillow built without FreeType
        return ImageFont.load_default()


def contact_sheet(
    tiles: Sequence[tuple[str, Image.Image]],
    columns: int | None = None,
    title: str | None = None,
    gap: int = 6,
    font_size: int = 14,
) -> tuple[Image.Image, list[Tile]]:
    """Lay ``(label, image)`` pairs out row by row, left to right; return (sheet, layout).

    ``columns`` defaults to a roughly square grid. Cells are as large as the largest tile;
    smaller tiles sit at their cell's top-left. ``title``, if given, is a line at the top.
    """
    if not tiles:
        raise ValueError("a contact sheet needs at least one tile")
    if columns is not None:
        COLUMNS.check(columns)
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    cell_w = max(img.width for _, img in tiles)
    cell_h = max(img.height for _, img in tiles)
    font = _font(font_size)
    label_h = font_size + gap  # the strip under each tile that holds its label
    title_h = font_size + gap if title else 0
    pitch = cell_h + label_h  # from one row's top to the next's
    width = columns * cell_w + (columns + 1) * gap
    height = gap + title_h + rows * pitch
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((gap, gap), title, fill=INK, font=font)
    layout = []
    for i, (label, img) in enumerate(tiles):
        row, col = divmod(i, columns)
        x = gap + col * (cell_w + gap)
        y = gap + title_h + row * pitch
        sheet.paste(img.convert("RGB"), (x, y))
        layout.append(Tile(label, (x, y, x + img.width, y + img.height)))
        text_w = draw.textlength(label, font=font)
        draw.text((x + (img.width - text_w) / 2, y + img.height + gap // 2), label,
                  fill=INK, font=font)
    return sheet, layout

"""The one reading of a WxH size, shared by the command line and the studio."""

from __future__ import annotations

import pytest

from inceptionism.errors import InceptionismError
from inceptionism.settings import parse_size


@pytest.mark.parametrize("text, size", [
    ("640x360", (640, 360)), ("192 x 192", (192, 192)), ("64X48", (64, 48)),
    (" 64 X 48 ", (64, 48)), ("64\u00d748", (64, 48)), ("", None), ("  ", None), (None, None),
])
def test_sizes_read_with_spaces_and_either_x(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text, message", [
    ("640", "'640' is not a size like 640x360."),
    ("64 by 48", "'64 by 48' is not a size like 640x360."),
    ("²x64", "'²x64' is not a size like 640x360."),  # str.isdigit() takes it; int() does not
    ("1234567890x64", "'1234567890x64' is not a size like 640x360."),
    ("1x64", "'1x64' is too small: frames need at least 2 pixels a side."),
])
def test_other_sizes_are_refused_in_one_sentence(text, message):
    with pytest.raises(InceptionismError) as info:
        parse_size(text)
    assert str(info.value) == message

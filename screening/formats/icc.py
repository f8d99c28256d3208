"""The name of an ICC colour profile: its 'desc' tag, which exiftool prints as Profile Description
and macOS Preview's inspector shows (RT29-33). Read as a caption: a profile named after a pupil
is published with the picture."""

from __future__ import annotations

import struct

from screening.formats.strings import printable_strings

# Tags that name the profile: its description (v2 textDescriptionType or v4 multiLocalizedUnicode).
# The device maker's and model's ('dmnd', 'dmdd') and the copyright say who made it: not read.
_NAMES = (b"desc",)


def profile_names(profile: bytes) -> list[str]:
    """The texts of the profile's name tags; [] when it holds none or its tag table is unreadable
    (the picture's colour check reports a profile that cannot be applied)."""
    if len(profile) < 132:
        return []
    (count,) = struct.unpack_from(">I", profile, 128)
    out: list[str] = []
    for i in range(min(count, 1000)):
        at = 132 + 12 * i
        if at + 12 > len(profile):
            break
        sig, offset, size = struct.unpack_from(">4sII", profile, at)
        if sig in _NAMES and offset + size <= len(profile) and size > 8:
            out += printable_strings(profile[offset + 8:offset + size])  # after the type and reserved bytes
    return list(dict.fromkeys(out))

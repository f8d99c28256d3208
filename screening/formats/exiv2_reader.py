"""A second, field-standard metadata reader (libexiv2, shipped in the `exiv2` wheel).

The location check compares its own readers with this one: GPS that exiv2 finds and they
do not means a reader is wrong, and the file is not cleared.
"""

from __future__ import annotations

from screening.formats.common import MetadataError

# Formats whose metadata both exiv2 and our container readers read.
COMPARED = {"JPEG", "PNG", "TIFF", "WEBP"}


def gps_keys(data: bytes, fmt: str) -> list[str]:
    """The metadata keys exiv2 sees that carry a GPS latitude or longitude."""
    if fmt not in COMPARED:
        return []
    import exiv2

    exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.mute)
    try:
        image = exiv2.ImageFactory.open(data)
        image.readMetadata()
        keys = [d.key() for d in image.exifData()] + [d.key() for d in image.xmpData()]
    except Exception as exc:
        raise MetadataError(f"the second metadata reader (exiv2) cannot read the file: {exc}") from None
    return [k for k in keys if _is_gps(k)]


def _is_gps(key: str) -> bool:
    name = key.rsplit(".", 1)[-1].lower()
    if name.endswith("ref"):
        return False
    return "latitude" in name or "longitude" in name or "longtitude" in name

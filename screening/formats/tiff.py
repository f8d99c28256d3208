"""TIFF and DNG: metadata of the file's own IFDs, and the images Pillow does not decode.

Camera files (DNG, most RAW formats) keep a small preview in IFD0 and the full picture in
a SubIFD, where Pillow never looks. Every SubIFD image (the full picture behind a preview,
or a smaller one that may show something else) is decoded here (tifffile) and screened as
an extra view unless it is a copy of the page; one that cannot be decoded, or
that holds raw sensor data, makes the file an error: a preview never stands in for the picture.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from screening.formats.carried import tiff_directories
from screening.formats.common import Embedded, Found, ImageError, MetadataError, ifd0_raw, photoshop_exif, photoshop_iptc
from screening.formats.exif_images import exif_images
from screening.formats.jpeg import images_in, in_photoshop
from screening.formats.thumbnails import photoshop_thumbnails
from screening.formats.native import captured_stderr, corruption

# Photometric interpretations of raw sensor data (colour filter array, linear raw).
_RAW_SENSOR = {32803, 34892}


def blocks(data: bytes, found: Found) -> None:
    # the file is itself the EXIF structure; XMP (tag 700) is found by the packet scan
    found.exif.append(data)
    found.iptc.extend(tiff_iptc(data))
    raw = ifd0_raw(data, (34377,))
    if 34377 in raw:  # Photoshop's EXIF resources 0x0422/0x0423 (RT15-5)
        found.exif.extend(photoshop_exif(raw[34377]))


def tiff_iptc(block: bytes) -> list[bytes]:
    """IPTC IIM stored in a TIFF IFD0: tag 33723 directly, or inside Photoshop tag 34377."""
    raw = ifd0_raw(block, (33723, 34377))
    found = [raw[33723]] if 33723 in raw else []
    if 34377 in raw:
        found.extend(photoshop_iptc(raw[34377]))
    return found


def photoshop_images(data: bytes) -> list[Embedded]:
    """The thumbnail among the Photoshop image resources of IFD0 (tag 34377), as Photoshop writes."""
    try:
        raw = ifd0_raw(data, (34377,))
    except MetadataError:
        return []  # the location check reports an IFD0 it cannot read
    if 34377 not in raw:
        return []
    try:  # the pictures of Photoshop's EXIF resources 0x0422/0x0423 (RT15-5)
        exif = [image for block in photoshop_exif(raw[34377]) for image in exif_images(block)]
    except MetadataError:
        exif = []  # the location check reports resources it cannot read
    return photoshop_thumbnails(raw[34377], "TIFF's Photoshop tag 34377") + exif


# Tags not searched for pictures: pixels and their places, pointers, the Photoshop resources (searched
# resource by resource, the thumbnails screened as such). Every other tag's value is (RT15-10).
_SKIPPED_TAGS = {273, 279, 324, 325, 330, 34377, 34665, 34853, 40965}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def tag_images(data: bytes) -> list[Embedded]:
    """Pictures carried in the values of any tag of every directory the file's bytes are accounted
    by (carried.tiff_directories: pages, SubIFDs, Exif, GPS, Interop; RT18-4/5): a private tag, a
    maker note's preview, which a viewer that knows the tag shows (RT15-10); and the JPEG that tags
    513/514 (exiftool's ThumbnailImage) point to in any of them, screened whole (RT18-3)."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        return []
    found: list[Embedded] = []
    for number, (offset, count, values) in enumerate(tiff_directories(data, order), start=1):
        for i in range(count):
            entry = offset + 2 + 12 * i
            if entry + 12 > len(data):
                break
            tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
            size = _TYPE_SIZES.get(kind, 1) * n
            (start,) = struct.unpack_from(order + "I", data, entry + 8)
            if tag == 34377 and size > 4:
                found.extend(in_photoshop(data[start:start + size], f"TIFF Photoshop tag of directory {number}"))
            elif tag not in _SKIPPED_TAGS and size > 4:
                found.extend(images_in(data[start:start + size], f"TIFF tag {tag} of directory {number}"))
        for start, size in zip(values.get(513, []), values.get(514, []), strict=False):
            if not size:
                continue
            if start + size > len(data):
                raise ImageError(f"the JPEG that tags 513/514 of TIFF directory {number} point to "
                                 f"({size} bytes at {start}) runs past the end of the file")
            found.append(Embedded(f"JPEG of tags 513/514 (JPEGInterchangeFormat) of TIFF directory {number}",
                                  data[start:start + size]))
    return found


def subifd_images(data: bytes, budget: int) -> list[tuple[str, np.ndarray]]:
    """(where, pixels) of every SubIFD image, whatever its size against the page that holds it."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            return _subimages(tif, budget)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"TIFF sub-images cannot be read: {exc or type(exc).__name__}") from None


def _subimages(tif, budget: int) -> list[tuple[str, np.ndarray]]:
    """Every SubIFD image, larger or smaller than its page: a full-resolution picture behind a
    preview, or a "reduced-resolution" image that shows something else (a viewer may show it).
    Copies of the page itself are dropped later, when compared with what was already seen."""
    out = []
    for p, page in enumerate(tif.pages):
        subs = getattr(page, "pages", None)
        if not getattr(page, "subifds", None) or subs is None:
            continue
        area = _area(page.shape)
        for s, sub in enumerate(subs):
            kind = "full-resolution image" if _area(sub.shape) > area else "image"
            where = f"{kind} in SubIFD {s + 1} of page {p + 1}"
            if int(sub.photometric) in _RAW_SENSOR:
                raise ImageError(f"the {where} is raw sensor data (DNG/RAW): it cannot be screened, "
                                 "and the preview alone is not the picture")
            budget -= _area(sub.shape)
            if budget < 0:
                raise ImageError(f"the {where} is over the file's pixel budget")
            out.append((where, sub.asarray()))
    return out


def _area(shape) -> int:
    dims = [d for d in shape if d > 4] or [1]
    return int(np.prod(dims[:2]))


def cross_check(data: bytes, pixels: np.ndarray) -> None:
    """A second decoder (OpenCV's libtiff) must agree with Pillow on the first page's pixels,
    and report no damaged data (Pillow's own libtiff stays silent about it).

    Corrupted LZW or Deflate data decodes without an error in both, but to different
    pixels: which one a viewer shows is unknown, so the file cannot be cleared.
    """
    import cv2

    with captured_stderr() as lines:
        theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    problems = corruption(lines)
    if problems:  # libtiff fills a damaged strip with zeros and only says so here
        raise ImageError(f"corrupt TIFF data: the image data is damaged or cut short ({problems[:200]})")
    if theirs is None or theirs.dtype != np.uint8 or pixels.dtype != np.uint8:
        return  # not a page both read as 8-bit: nothing to compare
    if theirs.ndim == 3 and theirs.shape[2] >= 3:
        theirs = theirs[..., [2, 1, 0]]  # BGR(A) to RGB, alpha left out
    ours = pixels[..., :3] if pixels.ndim == 3 else pixels
    if theirs.shape != ours.shape:
        return
    differ = float(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).mean())
    if differ > 2.0:
        raise ImageError(f"corrupt TIFF data: two decoders read different pixels (mean difference {differ:.1f}), "
                         "so what a viewer shows is unknown")

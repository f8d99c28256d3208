"""HEIF/HEIC/AVIF: metadata of every image in the container, and the images beside the primary.

A HEIF file can hold several top-level images and a thumbnail for each; a viewer can show
any of them, so each one beside the primary is decoded and screened as an extra view.
"""

from __future__ import annotations

import io

import numpy as np

from screening.formats.common import Found, ImageError, MetadataError, xmp_packets


def blocks(data: bytes, found: Found) -> None:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data))
        infos = [heif.info] + [image.info for image in heif]
    except Exception as exc:
        raise MetadataError(f"HEIF container cannot be read for metadata: {exc}") from None
    for info in infos:
        if info.get("exif"):
            found.exif.append(info["exif"])
        if info.get("xmp"):
            found.xmp.extend(xmp_packets(info["xmp"]))


def other_images(data: bytes, budget: int) -> list[tuple[str, np.ndarray]]:
    """(where, RGB pixels) of every image and thumbnail in the file except the primary image."""
    import pillow_heif

    out = []
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        for i, image in enumerate(heif):
            items = [] if i == heif.primary_index else [(f"HEIF image {i + 1}", image)]
            items += [(f"thumbnail of HEIF image {i + 1}", t) for t in getattr(image, "thumbnails", [])]
            for where, item in items:
                if isinstance(item, int):  # older pillow-heif lists thumbnail ids only
                    raise ImageError(f"the {where} cannot be decoded by this pillow-heif")
                budget -= item.size[0] * item.size[1]
                if budget < 0:
                    raise ImageError(f"the {where} is over the file's pixel budget")
                out.append((where, np.asarray(item.to_pillow().convert("RGB"))))
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"HEIF images beside the primary cannot be decoded: {exc or type(exc).__name__}") from None
    return out

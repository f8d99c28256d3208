"""HEIF/HEIC/AVIF: metadata of every image in the container, and the images beside the primary.

A HEIF file can hold several top-level images, a thumbnail for each, and auxiliary images: an
HDR gain map (iPhone: `urn:com:apple:photo:2020:aux:hdrgainmap`), portrait mattes, depth maps.
A viewer can show any top-level image or thumbnail, and an HDR display shows the picture
brightened by its gain map, so each one beside the primary is decoded and screened as an extra
view. Alpha is part of each image's own pixels (composited on white and black by
`pixels.alpha_views`). Depth and disparity maps are decoded (one that cannot be is an error) but
not screened: no viewer shows them as a picture (docs/formats.md). An ISO 21496-1 gain map (a
`tmap` item, which pillow-heif does not offer) is accepted only when every one of its inputs (its
`dimg` references) is the primary image or an auxiliary image screened here (iOS 18 writes one
whose inputs are the photo and Apple's gain map); any other input makes the file an error.
"""

from __future__ import annotations

import io

import numpy as np

from screening.formats.avif import top_level_box
from screening.formats.common import Found, ImageError, MetadataError, xmp_packets
from screening.formats.heif_exif import add_exif_items
from screening.formats.heif_items import read_items
from screening.formats.pixels import Budget, alpha_views, to_rgb, tone_views

# Auxiliary images no viewer shows as a picture: decoded to prove they are whole, not screened.
# (libheif lists depth maps apart from the other auxiliary images; alpha is in the image itself.)
NOT_SHOWN_AUX = ("auxiliary:depth", "auxid:2", "auxiliary:disparity")
# Images beside the primary one file may hold (thumbnails, auxiliary, depth): a phone writes 1 to 5.
MAX_OTHER_IMAGES = 64


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
    add_exif_items(data, found)  # every Exif item, a thumbnail's and a gain map's too (RT29-23)


def aux_label(aux_type: str) -> str:
    """How a view names an auxiliary image: the gain map in words, any other by its type."""
    if "gainmap" in aux_type.lower():
        return "HDR gain map"
    return f"auxiliary image '{aux_type[:80]}'"


def _parts(image, i: int, primary: bool) -> list[tuple[str, object, bool]]:
    """(where, decoder object, screened?) for image `i`, its thumbnails, aux and depth images."""
    n = i + 1
    parts: list[tuple[str, object, bool]] = [] if primary else [(f"HEIF image {n}", image, True)]
    for k in range(len(image.info.get("thumbnails") or [])):
        parts.append((f"thumbnail of HEIF image {n}", lambda k=k: image.get_thumbnail(k), True))
    for aux_type, ids in (image.info.get("aux") or {}).items():
        shown = not any(mark in aux_type.lower() for mark in NOT_SHOWN_AUX)
        for aux_id in ids:
            parts.append((f"{aux_label(aux_type)} of HEIF image {n}",
                          lambda a=aux_id: image.get_aux_image(a), shown))
    for depth in image.info.get("depth_images") or []:
        parts.append((f"depth map of HEIF image {n}", depth, False))
    return parts


def other_images(data: bytes, budget: int) -> list[tuple[str, np.ndarray]]:
    """(where, RGB pixels) of every image, thumbnail and auxiliary image in the file except the
    primary image (depth maps decoded, not returned). Anything that cannot be decoded is an ImageError."""
    import pillow_heif

    out = []
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        parts = [part for i, image in enumerate(heif) for part in _parts(image, i, i == heif.primary_index)]
        check_tone_maps(data, {aux_id for image in heif for aux_type, ids in (image.info.get("aux") or {}).items()
                               if not any(mark in aux_type.lower() for mark in NOT_SHOWN_AUX) for aux_id in ids})
        if len(parts) > MAX_OTHER_IMAGES:
            raise ImageError(f"holds {len(parts)} images beside the primary one; at most {MAX_OTHER_IMAGES} "
                             "are screened, so it cannot be cleared")
        for where, item, shown in parts:
            try:
                item = item() if callable(item) else item
                w, h = item.size
                budget -= w * h
                if budget < 0:
                    raise ImageError(f"the {where} is over the file's pixel budget")
                pil = item.to_pillow()
                rgb = to_rgb(pil)
            except ImageError:
                raise
            except Exception as exc:
                raise ImageError(f"the {where} cannot be decoded: {exc or type(exc).__name__}") from None
            if not shown:
                continue
            out.append((where, rgb))
            # its transparency, and a dark gain map (iPhone: mean 37 of 255) stretched (tone_views)
            left = Budget(budget)
            for label, pixels in alpha_views(pil, left) + tone_views(pil, rgb, left):
                out.append((f"{where}, {label}", pixels))
            budget = left.left
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"HEIF images beside the primary cannot be decoded: {exc or type(exc).__name__}") from None
    return out



def check_tone_maps(data: bytes, screened_aux: set[int]) -> None:
    """Refuse an ISO 21496-1 gain map (a `tmap` item: libheif 1.23 drops it without a word, an HDR
    display shows it over the photo) unless every input is the primary item or an auxiliary image
    (`auxl`) of a top-level image that libheif lists and is screened (`screened_aux`)."""
    meta = top_level_box(data, b"meta")
    if meta is None or b"tmap" not in meta:
        return
    try:
        items = read_items(meta)
    except MetadataError as exc:
        raise ImageError(f"HEIF may hold an ISO 21496-1 gain map and its items cannot be read ({exc}), "
                         "so the file cannot be cleared") from None
    for tmap in sorted(i for i, kind in items.types.items() if kind == b"tmap"):
        inputs = items.targets(b"dimg", tmap)
        unseen = [i for i in inputs if not (i == items.primary or (i in screened_aux and items.targets(b"auxl", i)))]
        if tmap == items.primary or not inputs or unseen:  # without inputs: what its data shows is unknown
            what = (f"input item {unseen[0]} is not an image screened here" if unseen else
                    "it is the primary item" if tmap == items.primary else "it names no inputs")
            raise ImageError(f"HEIF holds an ISO 21496-1 gain map (the 'tmap' item {tmap}) an HDR display shows "
                             f"over the photo, and {what}, so the file cannot be cleared")

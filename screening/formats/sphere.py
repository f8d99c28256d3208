"""360-degree photos (photo spheres) as a sphere viewer shows them: perspective views, not the flat map.

A photo sphere (Insta360, Ricoh Theta, a phone's photo sphere) is stored equirectangular: longitude
across, latitude down. Facebook and Google Photos show it in a sphere viewer when its XMP says so
(GPano:ProjectionType="equirectangular"). Away from the horizon the flat map stretches what it holds
across (2-4 times at 60-75 degrees up), so a face there is not found in the stored pixels, while the
viewer shows it undistorted (RT26-7). Such a photo is also screened as VIEWS perspective views: the
four directions around the horizon, straight up and straight down, each FOV_DEG across (overlapping
by 20 degrees, so what sits on a seam between two is whole in one), at the map's own resolution.
A cropped panorama (GPano:CroppedArea*) is placed in its full sphere first.
"""

from __future__ import annotations

import html
import math
import re

import cv2
import numpy as np

# Each view's field of view, degrees across (90 would be the cube's faces, with no overlap).
FOV_DEG = 110.0
# (label, yaw, pitch) in degrees: yaw 0 is the map's centre column, pitch up is positive.
VIEWS = (("360 view ahead", 0, 0), ("360 view right", 90, 0), ("360 view behind", 180, 0),
         ("360 view left", 270, 0), ("360 view up", 0, 90), ("360 view down", 0, -90))
# A view's side is at most this many pixels (a 12K sphere would give 4.3K views).
MAX_VIEW = 2400

_PROJECTION = re.compile(rb"ProjectionType\s*(?:=\s*[\"']|>)\s*equirectangular", re.I)


def is_sphere(xmp_packets) -> bool:
    """Whether the photo's XMP declares it an equirectangular panorama (GPano:ProjectionType), its value
    written plainly, with character references or in CDATA (RT27-1)."""
    for p in xmp_packets:
        if _PROJECTION.search(p):
            return True
        text = html.unescape(p.decode("utf-8", "replace").replace("<![CDATA[", "").replace("]]>", ""))
        if _PROJECTION.search(text.encode("utf-8")):
            return True
    return False


def views(rgb: np.ndarray, xmp_packets=(), max_pixels: float = math.inf) -> list[tuple[str, np.ndarray]]:
    """The sphere's perspective views (label, HxWx3 uint8) of an equirectangular map `rgb`, at the
    map's own resolution, but never larger than MAX_VIEW, the map's longer side (a crop the XMP
    says is tiny cannot magnify it: RT27-2), or what `max_pixels` (the file's pixel budget left) allows
    for the six (RT27-13: a large sphere is screened in smaller views, not refused)."""
    h, w = rgb.shape[:2]
    full_w, full_h, left, top = _placement(xmp_packets, w, h)
    half = math.tan(math.radians(FOV_DEG / 2))
    side = min(MAX_VIEW, max(w, h), full_w / 4 * half, math.sqrt(max_pixels / len(VIEWS)))
    side = int(max(64, side))
    grid = ((np.arange(side, dtype=np.float32) + 0.5) / side * 2 - 1) * np.float32(half)
    x, y = np.meshgrid(grid, -grid)
    rays = np.stack([x, y, np.ones_like(x)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    whole = abs(full_w - w) <= 1 and abs(full_h - h) <= 1
    border = cv2.BORDER_WRAP if whole else cv2.BORDER_CONSTANT  # a whole sphere's seam joins its sides
    out = []
    for label, yaw, pitch in VIEWS:
        d = rays @ _rotation(yaw, pitch).T.astype(np.float32)
        lon = np.arctan2(d[..., 0], d[..., 2])
        lat = np.arcsin(np.clip(d[..., 1], -1, 1))
        u = ((lon / (2 * np.pi) + 0.5) * full_w - left) % full_w - 0.5
        v = (0.5 - lat / np.pi) * full_h - top - 0.5
        out.append((label, cv2.remap(rgb, u.astype(np.float32), v.astype(np.float32), cv2.INTER_LINEAR,
                                     borderMode=border, borderValue=(0, 0, 0))))
    return out


def _rotation(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """A view's rays (x right, y up, z ahead) into the sphere's: pitch about x, then yaw about y."""
    p, q = math.radians(pitch_deg), math.radians(yaw_deg)
    pitch = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    yaw = np.array([[math.cos(q), 0, math.sin(q)], [0, 1, 0], [-math.sin(q), 0, math.cos(q)]])
    return yaw @ pitch


def _placement(xmp_packets, w: int, h: int) -> tuple[float, float, float, float]:
    """(full width, full height, left, top) of the map in its sphere: GPano's cropped area when the
    XMP gives a sane one, else the whole sphere."""
    def number(name: str) -> float | None:
        for p in xmp_packets:
            m = re.search(rb"%s\s*(?:=\s*[\"']|>)\s*(\d{1,9})\b" % name.encode(), p)
            if m:
                return float(m.group(1))
        return None  # absent, or too long to be a pixel count (RT27-3): the whole sphere

    full_w, full_h = number("FullPanoWidthPixels"), number("FullPanoHeightPixels")
    if not full_w or not full_h:
        return float(w), float(h), 0.0, 0.0
    scale = w / (number("CroppedAreaImageWidthPixels") or full_w)  # a resized copy keeps the XMP's numbers
    full_w, full_h = full_w * scale, full_h * scale
    left, top = (number("CroppedAreaLeftPixels") or 0.0) * scale, (number("CroppedAreaTopPixels") or 0.0) * scale
    if full_w < w - 1 or full_h < h - 1 or left + w > full_w + 1 or top + h > full_h + 1:
        return float(w), float(h), 0.0, 0.0
    return full_w, full_h, left, top

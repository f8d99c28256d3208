"""formats/sphere.py: a 360-degree photo is also screened as its sphere viewer shows it (RT26-7)."""

from __future__ import annotations

import numpy as np
import pytest

from screening.formats import sphere

ATTR = b'<rdf:Description xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" GPano:ProjectionType="equirectangular"/>'
ELEM = b"<GPano:ProjectionType>equirectangular</GPano:ProjectionType>"


@pytest.mark.parametrize("packet,expected", [(ATTR, True), (ELEM, True), (ATTR.replace(b"equirect", b"cylind"), False),
                                             (b"<x:xmpmeta/>", False)])
def test_a_sphere_is_known_by_its_gpano_projection(packet, expected):
    assert sphere.is_sphere((packet,)) is expected


def _marked(w: int, h: int, lon_deg: float, lat_deg: float) -> np.ndarray:
    """A grey map with a white 9x9 square at (lon, lat)."""
    rgb = np.full((h, w, 3), 60, np.uint8)
    u = int((lon_deg / 360 + 0.5) * w) % w
    v = int((0.5 - lat_deg / 180) * h)
    if abs(lat_deg) > 80:  # near a pole a square of the map is a sliver on the sphere: mark the cap
        if lat_deg > 0:
            rgb[:v + 5] = 255
        else:
            rgb[v - 4:] = 255
        return rgb
    for du in range(-4, 5):
        rgb[max(0, v - 4):v + 5, (u + du) % w] = 255
    return rgb


def _centre_of_white(view: np.ndarray) -> tuple[float, float] | None:
    ys, xs = np.nonzero(view[..., 0] > 200)
    return (xs.mean() / view.shape[1], ys.mean() / view.shape[0]) if len(xs) else None


@pytest.mark.parametrize("lon,lat,label", [(0, 0, "360 view ahead"), (90, 0, "360 view right"),
                                           (180, 0, "360 view behind"), (-90, 0, "360 view left"),
                                           (30, 89, "360 view up"), (30, -89, "360 view down")])
def test_what_faces_each_direction_is_in_the_middle_of_its_view(lon, lat, label):
    views = dict(sphere.views(_marked(1024, 512, lon, lat)))
    assert len(views) == 6
    at = _centre_of_white(views[label])
    assert at is not None and abs(at[0] - 0.5) < 0.03 and abs(at[1] - 0.5) < 0.03, (label, at)


def test_a_view_is_square_and_as_sharp_as_the_map():
    (_, view), *_ = sphere.views(np.zeros((1000, 2000, 3), np.uint8))
    assert view.shape[0] == view.shape[1] >= 2000 / 4


def test_the_views_overlap_so_a_thing_on_a_seam_is_whole_in_one():
    views = dict(sphere.views(_marked(1024, 512, 45, 0)))  # between ahead and right
    assert _centre_of_white(views["360 view ahead"]) is not None and _centre_of_white(views["360 view right"]) is not None


def test_a_cropped_panorama_is_placed_in_its_sphere():
    packet = (b'GPano:ProjectionType="equirectangular" GPano:FullPanoWidthPixels="2000" '
              b'GPano:FullPanoHeightPixels="1000" GPano:CroppedAreaImageWidthPixels="1000" '
              b'GPano:CroppedAreaImageHeightPixels="500" GPano:CroppedAreaLeftPixels="1000" GPano:CroppedAreaTopPixels="250"')
    crop = _marked(2000, 1000, 90, 0)[250:750, 1000:2000]  # the right half of the middle band, resized below
    small = crop[::2, ::2].copy()  # a copy at half size keeps the XMP's numbers
    views = dict(sphere.views(small, (packet,)))
    at = _centre_of_white(views["360 view right"])
    assert at is not None and abs(at[0] - 0.5) < 0.03 and abs(at[1] - 0.5) < 0.03, at
    assert _centre_of_white(views["360 view left"]) is None

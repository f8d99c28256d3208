"""Auxiliary images and HDR gain maps: what an HDR display or a viewer can show beside the picture.

An iPhone HEIC holds an HDR gain map (`urn:com:apple:photo:2020:aux:hdrgainmap`): a face or name
drawn only there shows on an HDR display. pillow-heif cannot write auxiliary images or thumbnails,
so tests/heif_boxes.py rewrites a two-image HEIC's boxes to make one (the second image becomes the
gain map, depth map, alpha or thumbnail of the first). Each hostile file has its control beside it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats.common import ImageError
from screening.model import Status

from . import hostile as H
from .heif_boxes import relate, two_image_heic
from .test_redteam6 import backdrop, config, found_face, verdict, with_face  # noqa: F401

pillow_heif = pytest.importorskip("pillow_heif")

GAIN_MAP = "urn:com:apple:photo:2020:aux:hdrgainmap"
DEPTH = "urn:mpeg:hevc:2015:auxid:2"
ALPHA = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
REAL_IPHONE = Path(__file__).resolve().parents[2] / "shared" / "data" / "exif-samples" / "heic" / "mobile" / \
    "iphone_13_pro_max.HEIC"


def heic(tmp_path, name: str, second: np.ndarray, ref: str = "auxl", aux_type: str = GAIN_MAP) -> Path:
    path = tmp_path / name
    path.write_bytes(relate(two_image_heic(backdrop(), second), ref, aux_type))
    return path


def grey_heic(tmp_path, name: str, second: np.ndarray, aux_type: str) -> Path:
    """As heic(), the second image monochrome (as gain maps and depth maps are stored)."""
    heif = pillow_heif.from_pillow(Image.fromarray(backdrop()))
    heif.add_from_pillow(Image.fromarray(second))
    out = io.BytesIO()
    heif.save(out, quality=95)
    path = tmp_path / name
    path.write_bytes(relate(out.getvalue(), "auxl", aux_type))
    return path


def cleared(path, config) -> bool:
    return verdict(path, config)[1].status is Status.CLEARED


# ---------------------------------------------------------------- HEIC gain map


def test_a_face_only_in_the_hdr_gain_map_of_a_heic_is_found(tmp_path, config):
    path = heic(tmp_path, "gainmap_face.heic", with_face())
    assert GAIN_MAP in pillow_heif.open_heif(path)[0].info["aux"]  # really an auxiliary image
    assert len(pillow_heif.open_heif(path)) == 1  # not a second top-level image
    found_face(path, config)


def test_a_heic_whose_gain_map_shows_nothing_is_cleared(tmp_path, config):
    assert cleared(heic(tmp_path, "gainmap_clean.heic", backdrop()), config)


def test_a_grey_gain_map_is_screened_as_a_view_with_its_picture(tmp_path):
    face = H.face_grey(128)
    pic = imaging.load(grey_heic(tmp_path, "grey_gainmap.heic", face, GAIN_MAP))
    assert "HDR gain map of HEIF image 1" in pic.views
    view = pic.frames[pic.views.index("HDR gain map of HEIF image 1")][..., 0].astype(float)
    assert view.shape == face.shape and np.corrcoef(view.ravel(), face.ravel().astype(float))[0, 1] > 0.98


def test_an_auxiliary_image_of_an_unknown_kind_is_screened_too(tmp_path, config):
    found_face(heic(tmp_path, "other_aux.heic", with_face(), aux_type="urn:example:aux:anything"), config)


def test_a_gain_map_that_cannot_be_decoded_is_an_error(tmp_path, config):
    path = heic(tmp_path, "gainmap_cut.heic", with_face())
    data = path.read_bytes()
    item2 = pillow_heif.open_heif(io.BytesIO(data))[0].get_aux_image(2)  # decodes whole
    assert item2.size == (320, 240)
    # the gain map is stored last: a file cut 50 bytes short loses the end of it, not the picture's
    path.write_bytes(data[:-50])
    with pytest.raises(ImageError, match="HDR gain map of HEIF image 1 cannot be decoded"):
        imaging.load(path)
    s, d = verdict(path, config)
    assert d.status is Status.ERROR


def test_a_heic_with_an_iso_gain_map_item_is_an_error(tmp_path):
    """libheif lists a 'tmap' item as no image at all: its gain map would be unseen."""
    data = two_image_heic(backdrop(), with_face())
    at = data.index(b"hvc1", data.index(b"hvc1") + 4)  # the second item's type in its infe box
    path = tmp_path / "tmap.heic"
    path.write_bytes(data[:at] + b"tmap" + data[at + 4:])
    assert len(pillow_heif.open_heif(path)) == 1  # what libheif offers: the primary alone
    with pytest.raises(ImageError, match="ISO 21496-1 gain map"):
        imaging.load(path)


def test_more_images_beside_the_primary_than_are_screened_is_an_error(tmp_path, monkeypatch):
    from screening.formats import heif

    path = heic(tmp_path, "many.heic", backdrop())
    assert imaging.load(path).views  # control: one gain map is within the limit
    monkeypatch.setattr(heif, "MAX_OTHER_IMAGES", 0)
    with pytest.raises(ImageError, match="images beside the primary one; at most 0"):
        imaging.load(path)


@pytest.mark.skipif(not REAL_IPHONE.exists(), reason="../shared/data is not here")
def test_a_real_iphone_gain_map_is_screened_and_its_thumbnail_is_known_as_a_copy():
    pic = imaging.load(REAL_IPHONE)
    assert pic.views == ["", "HDR gain map of HEIF image 1"]
    assert [where for where, _ in pic.repeats] == ["thumbnail of HEIF image 1"]


# ---------------------------------------------------------------- HEIC thumbnails, depth, alpha


def test_a_face_in_a_heic_thumbnail_that_is_not_a_copy_of_the_picture_is_found(tmp_path, config):
    path = heic(tmp_path, "thumb_face.heic", with_face((160, 120), at=(60, 40)), ref="thmb")
    assert pillow_heif.open_heif(path)[0].info["thumbnails"]  # really a thumbnail
    found_face(path, config)


def test_a_heic_thumbnail_of_the_picture_itself_is_a_repeat_not_a_view(tmp_path, config):
    small = np.asarray(Image.fromarray(backdrop()).resize((160, 120), Image.LANCZOS))
    path = heic(tmp_path, "thumb_copy.heic", small, ref="thmb")
    pic = imaging.load(path)
    assert pic.views == [""] and [w for w, _ in pic.repeats] == ["thumbnail of HEIF image 1"]
    assert cleared(path, config)


def test_a_depth_map_is_decoded_but_not_screened(tmp_path):
    """Decision (docs/formats.md): no viewer shows a depth map as a picture."""
    path = grey_heic(tmp_path, "depth.heic", H.face_grey(128), DEPTH)
    assert pillow_heif.open_heif(path)[0].info["depth_images"]
    assert imaging.load(path).views == [""]


def test_a_depth_map_that_cannot_be_decoded_is_an_error(tmp_path):
    # a colour picture declared a depth map: libheif refuses to convert it
    path = heic(tmp_path, "depth_colour.heic", with_face(), aux_type=DEPTH)
    with pytest.raises(ImageError, match="depth map of HEIF image 1 cannot be decoded"):
        imaging.load(path)


def test_an_alpha_auxiliary_image_is_screened_as_the_pictures_transparency(tmp_path):
    path = grey_heic(tmp_path, "alpha.heic", H.face_grey(240)[:, :240].repeat(2, axis=1)[:, :320], ALPHA)
    pic = imaging.load(path)
    assert "alpha channel as grey" in pic.views and "composited on white" in pic.views


# ---------------------------------------------------------------- AVIF


def _avif(alpha: bool) -> bytes:
    a = np.zeros((48, 64, 4 if alpha else 3), np.uint8)
    a[..., :3] = 100
    if alpha:
        a[..., 3] = 128
    out = io.BytesIO()
    Image.fromarray(a).save(out, "AVIF")
    return out.getvalue()


needs_avif = pytest.mark.skipif(not imaging.AVIF_SUPPORTED, reason="this Pillow has no AVIF codec")


@needs_avif
def test_an_avif_with_only_its_alpha_beside_it_decodes(tmp_path):
    path = tmp_path / "alpha.avif"
    path.write_bytes(_avif(alpha=True))
    assert "composited on white" in imaging.load(path).views


@needs_avif
@pytest.mark.parametrize("change, match", [
    ((ALPHA.encode(), b"urn:mpeg:mpegB:cicp:systems:auxiliary:depth"), "auxiliary image"),
    ((b"av01", b"tmap"), "HDR gain map"),
])
def test_an_avif_with_a_gain_map_or_another_auxiliary_image_is_an_error(tmp_path, change, match):
    data = _avif(alpha=True)
    old, new = change
    if old == b"av01":  # the alpha item's type (the second av01 infe) becomes a gain map's
        at = data.index(b"av01", data.index(b"av01") + 4)
        data = data[:at] + new + data[at + 4:]
    else:
        assert len(old) == len(new) and old in data
        data = data.replace(old, new)
    path = tmp_path / "hdr.avif"
    path.write_bytes(data)
    with pytest.raises(ImageError, match=match):
        imaging.load(path)


# ---------------------------------------------------------------- Ultra HDR JPEG (Android)

HDRGM = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
         '<rdf:Description rdf:about="" xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0" '
         'hdrgm:GainMapMax="2.3" hdrgm:HDRCapacityMax="2.3"/></rdf:RDF></x:xmpmeta>')


def _gain_map_jpeg(pixels: np.ndarray) -> bytes:
    return H.save(Image.fromarray(pixels), "JPEG", quality=90, xmp=HDRGM.encode())


def _ultra_hdr(tmp_path, name: str, gain_map: np.ndarray, mpf: bool = True) -> Path:
    primary = H.save(Image.fromarray(backdrop()), "JPEG", quality=95, xmp=HDRGM.encode())
    second = _gain_map_jpeg(gain_map)
    path = tmp_path / name
    path.write_bytes(H.jpeg_with_mpf(primary, second) if mpf else primary + second)
    return path


@pytest.mark.parametrize("mpf", [True, False], ids=["mpf", "appended-only"])
def test_a_face_in_an_ultra_hdr_jpeg_gain_map_is_found(tmp_path, config, mpf):
    path = _ultra_hdr(tmp_path, "ultrahdr_face.jpg", with_face((160, 120), at=(60, 40)), mpf)
    pic = imaging.load(path)
    assert any(v.startswith("MPF picture 2" if mpf else "image after the JPEG end-of-image marker")
               for v in pic.views), pic.views
    found_face(path, config)


def test_an_ultra_hdr_jpeg_whose_grey_gain_map_holds_a_face_screens_it(tmp_path):
    face = H.face_grey(120)
    pic = imaging.load(_ultra_hdr(tmp_path, "ultrahdr_grey.jpg", np.repeat(face[..., None], 3, axis=2)))
    assert [v for v in pic.views if v.startswith("MPF picture 2")]


def test_an_ultra_hdr_jpeg_whose_gain_map_shows_nothing_is_cleared(tmp_path, config):
    small = np.asarray(Image.fromarray(backdrop()).resize((160, 120), Image.LANCZOS))
    assert cleared(_ultra_hdr(tmp_path, "ultrahdr_clean.jpg", small), config)


def test_a_jpeg_xl_file_is_an_error_not_cleared(tmp_path, config):
    path = tmp_path / "photo.jxl"
    path.write_bytes(b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00" * 64)
    assert verdict(path, config)[1].status is Status.ERROR


# ---------------------------------------------------------------- the real face check (slow)


@pytest.mark.slow
@pytest.mark.parametrize("container", ["heic", "ultrahdr"])
def test_the_real_face_check_finds_a_face_drawn_only_in_a_grey_gain_map(tmp_path, container):
    """A real face, grey, as a gain map stores it (one channel, darker than a photo), with a clean
    primary picture: the face engine finds it in the gain-map view and says where."""
    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector

    face = (H.face_grey(240).astype(np.float32) * 0.6).astype(np.uint8)  # a dark gain map
    gain_map = np.full((240, 320), 20, np.uint8)
    gain_map[:, 40:280] = face
    if container == "heic":
        path = grey_heic(tmp_path, "gainmap_face.heic", gain_map, GAIN_MAP)
    else:
        path = _ultra_hdr(tmp_path, "ultrahdr_face.jpg", np.repeat(gain_map[..., None], 3, axis=2))
    picture = imaging.load(path)
    findings = FaceDetector(FaceSettings(), None).detect(picture, {})
    seen = {picture.view(f.frame) for f in findings}
    assert any(("HDR gain map" in v) or v.startswith("MPF picture 2") for v in seen), seen
    # control: the same primary picture without the face anywhere
    clean = FaceDetector(FaceSettings(), None).detect(imaging.load(
        grey_heic(tmp_path, "gainmap_flat.heic", np.full((240, 320), 20, np.uint8), GAIN_MAP)), {})
    assert clean == []

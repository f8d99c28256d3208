"""Red team, round 19: pictures a clip carries in its boxes screened as views (video_views.py),
the first-frame repeat rule (pixels.shown_already against the clip's first frame), the BMP
candidates of exif_images.picture_starts and TIFF 513/514 from every directory (carried.py).
Each hostile file is built here; SAFE asserted beside a control; a case the product gets wrong
is xfail(strict) with its RT19 number. Faces are the stand-in of tests/test_video.py (a pure
red square is a face)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats import carried
from screening.model import FaceFinding, Status

from .clips import write_clip
from .test_clip_thumbnails import _clip_with, _cnth, _first_frame, _other, _shrunk, _thumb_faces
from .test_redteam6 import backdrop, jpeg, verdict, with_face
from .test_redteam18 import _tiff
from .test_video import _box, _into_moov, config, screen  # noqa: F401
from .test_video_split import _split, _status

PURE_RED = (255, 0, 0)


def _first_frame_with_small_face(tmp_path, name: str, seconds: float = 1.0, gop: int = 0):
    """A clip and a CNTH thumbnail that is its first frame at full size (a 1:1 "shrink") with a
    24x24 face drawn across a block boundary of shown_already's 30-px grid."""
    plain = write_clip(tmp_path / f"plain_{name}", seconds, gop=gop)
    thumb = _first_frame(plain).copy()
    thumb[78:102, 78:102] = PURE_RED
    path = tmp_path / name
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    return path


# ---------------------------------------------------------------- RT19-1: a face the repeat rule tolerates


def test_control_the_same_24px_face_in_a_thumbnail_that_is_not_the_first_frame_is_found(tmp_path, config):
    other = _other((320, 240)).copy()
    other[78:102, 78:102] = PURE_RED
    s, d = verdict(_clip_with(tmp_path, "other.mov", _cnth(jpeg(other))), config)
    assert d.status is Status.NEEDS_PERMISSION and _thumb_faces(d), d.reasons


def test_a_face_only_in_a_full_size_thumbnail_of_the_first_frame_is_not_cleared(tmp_path, config):
    s, d = verdict(_first_frame_with_small_face(tmp_path, "repeat_face.mov"), config)
    assert d.status is not Status.CLEARED, d.reasons


def test_a_face_only_in_a_full_size_thumbnail_of_the_first_frame_of_a_split_clip_is_not_cleared(tmp_path, config):
    path = _first_frame_with_small_face(tmp_path, "split_face.mov", seconds=6.0, gop=25)
    _, s = _split(path, config)
    assert s.results[0].error is None
    assert _status(s, config) is not Status.CLEARED


def test_a_56px_face_only_in_a_full_size_thumbnail_of_a_640x480_first_frame_is_not_cleared(tmp_path, config):
    plain = write_clip(tmp_path / "plain_vga.mov", 0.5, size=(640, 480))
    thumb = _first_frame(plain).copy()
    thumb[92:148, 92:148] = PURE_RED  # across the 120-px block lines
    control = tmp_path / "vga_other.mov"
    other = _other((640, 480)).copy()
    other[92:148, 92:148] = PURE_RED
    control.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(other))))
    assert verdict(control, config)[1].status is Status.NEEDS_PERMISSION
    path = tmp_path / "vga.mov"
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    s, d = verdict(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- safe: two thumbnails, a consented face


def test_two_thumbnails_one_the_first_frame_the_other_a_face_are_not_cleared(tmp_path, config):
    plain = write_clip(tmp_path / "plain_two.mov", 1.0)
    repeat = jpeg(_shrunk(_first_frame(plain)))
    face = jpeg(with_face((160, 120), (60, 40)))
    path = tmp_path / "two.mov"
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(repeat)) + _box(b"free", b"\0" * 8 + repeat + face))
    assert len(carried.clip_pictures(path)) == 3
    s, d = verdict(path, config)
    assert d.status is Status.NEEDS_PERMISSION and _thumb_faces(d), d.reasons


class ConsentedRedUnknownBlue:
    """A pure red square: staff member S1001 (consented); a blue square: an unknown face."""

    def detect(self, picture, earlier):
        found = []
        rgb = picture.frames[0].astype(int)
        for channel, candidates in ((0, (("S1001", 0.2),)), (2, ())):
            others = [c for c in range(3) if c != channel]
            # blue: (0, 80, 255) too, the unknown face of RT19-3 (the grey of pure red)
            green = 120 if channel == 2 else 60
            mask = (rgb[..., channel] > 200) & (rgb[..., others[0]] < 60) & (rgb[..., others[1]] < green)
            if mask.sum() >= 100:
                ys, xs = np.nonzero(mask)
                found.append(FaceFinding((int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                          int(ys.max() - ys.min() + 1)), candidates))
        return found


def test_a_thumbnail_of_the_first_frame_with_its_consented_face_and_another_person_is_not_cleared(tmp_path, config):
    from .clips import Appearance
    from .test_video import RED, STAFF

    plain = write_clip(tmp_path / "plain_pair.mov", 1.0, appearances=(Appearance(RED, 0.0, 1.0, (100, 80)),))
    thumb = _shrunk(_first_frame(plain)).copy()
    control = tmp_path / "pair_control.mov"
    control.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    s, d = screen(control, config, faces=ConsentedRedUnknownBlue(), people=STAFF)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])
    thumb[10:34, 110:134] = (0, 0, 255)  # someone only the thumbnail shows
    path = tmp_path / "pair.mov"
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    s, d = screen(path, config, faces=ConsentedRedUnknownBlue(), people=STAFF)
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


@pytest.mark.parametrize("swapped", [False, True],
    ids=["control: the same consented face", "another person, same grey"])
def test_a_thumbnail_swapping_the_first_frames_consented_face_for_another_is_not_cleared(tmp_path, config, swapped):
    from .clips import Appearance
    from .test_video import RED, STAFF

    plain = write_clip(tmp_path / "plain_swap.mov", 1.0, appearances=(Appearance(RED, 0.0, 1.0, (100, 80)),))
    thumb = _first_frame(plain).copy()
    if swapped:  # grey of (255, 0, 0) = 76 = grey of (0, 80, 255): blue to ConsentedRedUnknownBlue, unknown
        square = thumb[80:120, 100:140]
        red = (square[..., 0] > 200) & (square[..., 1] < 60) & (square[..., 2] < 60)
        square[red] = (0, 80, 255)
        other = _other((320, 240)).copy()  # control of the control: that square where no frame repeats
        other[80:120, 100:140] = (0, 80, 255)
        ctl = tmp_path / "swap_other.mov"
        ctl.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(other))))
        cs, cd = screen(ctl, config, faces=ConsentedRedUnknownBlue(), people=STAFF)
        assert cd.status is Status.NEEDS_PERMISSION, [f for r in cs.results for f in r.findings]
    path = tmp_path / "swap.mov"
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    s, d = screen(path, config, faces=ConsentedRedUnknownBlue(), people=STAFF)
    assert all(r.complete for r in s.results), [r.error for r in s.results]
    assert (d.status is Status.NEEDS_PERMISSION) == swapped, d.reasons


# ---------------------------------------------------------------- RT19-2: BMP candidates _bmp_at skips


def _bmp(pixels: np.ndarray, planes: int | None = None, dib64: bool = False, bfsize: int | None = None) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "BMP")
    b = bytearray(out.getvalue())
    if bfsize is not None:  # the file header's size field, which Pillow (and imaging.load) ignore
        struct.pack_into("<I", b, 2, bfsize)
    if planes is not None:
        struct.pack_into("<H", b, 26, planes)
    if dib64:  # the 40-byte BITMAPINFOHEADER grown to OS/2 2.x's 64 bytes (Pillow reads it)
        b = bytearray(b[:14] + struct.pack("<I", 64) + b[18:54] + b"\0" * 24 + b[54:])
        struct.pack_into("<I", b, 10, 14 + 64)
        struct.pack_into("<I", b, 2, len(b))
    return bytes(b)


def test_control_a_face_bmp_in_a_clips_free_box_or_after_a_tiff_is_found(tmp_path, config):
    face = _bmp(with_face((160, 120), (60, 40)))
    path = _clip_with(tmp_path, "bmp.mp4", None, _box(b"free", b"\0" * 16 + face))
    s, d = verdict(path, config)
    assert d.status is Status.NEEDS_PERMISSION and _thumb_faces(d), d.reasons
    after = tmp_path / "bmp_after.tif"
    after.write_bytes(_tiff([], b"") + face)
    assert verdict(after, config)[1].status is Status.NEEDS_PERMISSION


@pytest.mark.parametrize("variant", [{"planes": 0}, {"dib64": True}, {"bfsize": 1}],
                         ids=["planes 0", "64-byte DIB header", "bfSize 1"])
@pytest.mark.parametrize("host", ["clip free box", "after a TIFF"])
def test_a_face_bmp_that_pillow_reads_but_bmp_at_skips_is_not_cleared(tmp_path, config, variant, host):
    data = _bmp(with_face((160, 120), (60, 40)), **variant)
    assert imaging.load(tmp_path / "x.bmp", data).frames[0].shape == (120, 160, 3)  # it is a picture
    if host == "after a TIFF":
        path = tmp_path / "bmp_after.tif"
        path.write_bytes(_tiff([], b"") + data)
    else:
        path = _clip_with(tmp_path, "bmp_skipped.mp4", None, _box(b"free", b"\0" * 16 + data))
    s, d = verdict(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- safe: TIFF 513/514 in a SubIFD or GPS IFD


def _ifd_with_513(face: bytes):
    def tail(at: int) -> bytes:  # a directory of 513 and 514 only, the JPEG right after it
        jpeg_at = at + 2 + 24 + 4
        return struct.pack("<HHHIIHHII", 2, 513, 4, 1, jpeg_at, 514, 4, 1, len(face)) + b"\0" * 4 + face
    return tail


@pytest.mark.parametrize("pointer", [330, 34853], ids=["SubIFD", "GPS IFD"])
def test_a_face_jpeg_of_tags_513_514_in_a_subifd_or_gps_ifd_is_not_cleared(tmp_path, config, pointer):
    plain = tmp_path / "plain.tif"
    plain.write_bytes(_tiff([], b""))
    assert verdict(plain, config)[1].status is Status.CLEARED  # control
    path = tmp_path / f"ifd{pointer}_513.tif"
    path.write_bytes(_tiff([(pointer, 4, 1, lambda at: at)], _ifd_with_513(jpeg(with_face()))(8 + 320 * 240 * 3)))
    s, d = verdict(path, config)
    assert d.status is not Status.CLEARED, d.reasons
    if pointer == 34853:  # read by tag_images from the GPS directory, screened whole
        assert any(r.kind.value == "unknown_face" for r in d.reasons), d.reasons


# ---------------------------------------------------------------- RT19-1, photos: a large preview


def _preview_with_a_face(face_px: int, at: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A 2000 x 1500 picture and its 1000 x 750 preview with a face-like patch `face_px` across
    (skin, dark eyes and mouth, as bright on average as the scene) pasted only into the preview."""
    import cv2

    from screening.formats import pixels as _pixels  # noqa: F401  (the module under test)

    big = backdrop((2000, 1500))
    preview = cv2.resize(big, (1000, 750), interpolation=cv2.INTER_AREA)
    face = np.zeros((face_px, face_px, 3), np.uint8)
    face[:] = preview[at[1]:at[1] + face_px, at[0]:at[0] + face_px].mean(axis=(0, 1))
    cv2.ellipse(face, (face_px // 2, face_px // 2), (face_px * 2 // 5, face_px // 2 - 1), 0, 0, 360,
                (224, 172, 140), -1)
    for ex in (face_px // 3, 2 * face_px // 3):
        cv2.circle(face, (ex, face_px * 2 // 5), max(2, face_px // 12), (30, 20, 20), -1)
    cv2.line(face, (face_px // 3, face_px * 7 // 10), (2 * face_px // 3, face_px * 7 // 10), (60, 20, 20), 2)
    preview[at[1]:at[1] + face_px, at[0]:at[0] + face_px] = face
    return big, preview


@pytest.mark.parametrize("face_px,at", [(56, (98, 98)), (40, (500, 380)), (24, (250, 127))])
def test_a_face_only_in_a_large_preview_of_a_photo_is_not_taken_for_a_copy(face_px, at):
    """A preview a quarter the photo's area, the same picture but for a face straddling blocks:
    not a copy (so every check reads it). 64 px blocks (MAX_SAME_BLOCK before) averaged a 56 px
    face away, as RT19-1 did in a clip's thumbnail; blocks are now at most 8 px."""
    from screening.formats.pixels import shown_already

    big, preview = _preview_with_a_face(face_px, at)
    assert not shown_already(preview, [big])


def test_control_a_large_preview_that_is_the_photo_shrunk_is_a_copy():
    import cv2

    from screening.formats.pixels import shown_already

    big = backdrop((2000, 1500))
    preview = np.asarray(Image.open(io.BytesIO(jpeg(cv2.resize(big, (1000, 750), interpolation=cv2.INTER_AREA))))
                         .convert("RGB"))
    assert shown_already(preview, [big])

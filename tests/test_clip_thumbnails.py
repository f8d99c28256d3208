"""A picture a clip carries in its boxes (Canon's CNTH/CNDA or THMB, udta thmb, a `free` box) is
screened as a view of the clip (screening/video_views.py): every photo check runs on it, its
findings name the view and carry time 0; one that is cut off, does not decode or exceeds the
limits makes the clip an error; a clip split across workers screens it once."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from screening import pipeline, video_split
from screening.formats import carried
from screening.model import Check, Status

from .clips import Appearance, head, scene, write_clip
from .test_carried_pictures import CANON_UUID, _cmt1
from .test_redteam6 import backdrop, jpeg, with_face
from .test_video import RED, RedSquareFaces, _box, _into_moov, checks, config, real_faces, screen  # noqa: F401
from .test_video_split import _clip, _split, _status


def _cnth(picture: bytes) -> bytes:
    return _box(b"udta", _box(b"CNTH", _box(b"CNDA", picture)))


def _thmb_in_uuid(picture: bytes) -> bytes:
    thmb = b"\0" * 4 + struct.pack(">HHIH", 160, 120, len(picture), 0) + b"\0" * 2 + picture
    return _box(b"uuid", CANON_UUID + _box(b"CMT1", _cmt1()) + _box(b"THMB", thmb))


def _clip_with(tmp_path, name: str, moov_child: bytes | None = None, top: bytes = b"", seconds: float = 1.0):
    data = write_clip(tmp_path / f"plain_{name}", seconds).read_bytes()
    path = tmp_path / name
    path.write_bytes((_into_moov(data, moov_child) if moov_child else data) + top)
    return path


def _other(size=(160, 120)) -> np.ndarray:
    """A drawn scene that is not the clip's first frame (so every check reads it)."""
    return scene(size, seed=7)(0.0)


def _face_thumb(size=(160, 120), at=(60, 40)) -> bytes:
    return jpeg(with_face(size, at))


def _thumb_faces(d):
    return [r for r in d.reasons if r.kind.value == "unknown_face" and "thumbnail" in r.extra.get("view", "")]


PLACES = {
    "Canon MOV moov/udta/CNTH/CNDA": lambda pic: (_cnth(pic), b""),
    "Canon MP4 THMB in its uuid box (in moov)": lambda pic: (_thmb_in_uuid(pic), b""),
    "Canon THMB uuid box at the top level": lambda pic: (None, _thmb_in_uuid(pic)),
    "moov/udta/thmb (OpenCV's cup.mp4)": lambda pic: (_box(b"udta", _box(b"thmb", b"\0" * 4 + b"jpeg" + pic)), b""),
    "a free box": lambda pic: (None, _box(b"free", b"\0" * 16 + pic)),
}


@pytest.mark.parametrize("place", PLACES)
def test_a_face_in_a_clips_thumbnail_is_reported_as_a_face_in_the_thumbnail_view(tmp_path, config, place):
    child, top = PLACES[place](_face_thumb())
    s, d = screen(_clip_with(tmp_path, "thumb.mov", child, top), config)
    assert d.status is Status.NEEDS_PERMISSION, d.reasons
    (reason,) = _thumb_faces(d)
    assert reason.time == 0.0 and reason.box == (60, 40, 40, 40), reason
    assert "clip thumbnail" in reason.extra["view"] and "byte" in reason.extra["view"]
    assert all(r.complete for r in s.results), [r.error for r in s.results]


@pytest.mark.parametrize("place", PLACES)
def test_control_a_clip_with_a_plain_thumbnail_is_cleared(tmp_path, config, place):
    child, top = PLACES[place](jpeg(_other()))
    path = _clip_with(tmp_path, "plain.mov", child, top)
    assert len(carried.clip_pictures(path)) == 1  # the thumbnail is there, and was screened
    faces = RedSquareFaces()
    s, d = screen(path, config, faces=faces)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])


@pytest.mark.slow
def test_a_real_unknown_face_in_a_canon_thumbnail_needs_permission(tmp_path, config, public_domain, real_faces):
    picture, face = head(public_domain, 130)
    thumb = backdrop((320, 240)).copy()
    thumb[50:50 + picture.shape[0], 100:100 + picture.shape[1]] = picture
    s, d = screen(_clip_with(tmp_path, "canon.mov", _cnth(jpeg(thumb))), config, faces=real_faces)
    assert d.status is Status.NEEDS_PERMISSION, d.reasons
    (reason,) = _thumb_faces(d)
    x, y, _w, _h = reason.box
    assert abs(x - (100 + face[0])) < 20 and abs(y - (50 + face[1])) < 20 and reason.time == 0.0


@pytest.mark.parametrize("place", ["Canon MOV moov/udta/CNTH/CNDA", "a free box"])
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_cut_off_thumbnail_makes_the_clip_an_error(tmp_path, config, place, cut):
    whole = _face_thumb()
    child, top = PLACES[place](whole[:int(len(whole) * cut)])
    s, d = screen(_clip_with(tmp_path, "cut.mov", child, top), config)
    assert d.status is Status.ERROR, d.reasons
    decode = s.results[0]
    assert decode.check is Check.DECODE and "clip thumbnail" in decode.error and "cannot be screened" in decode.error


def test_a_thumbnail_that_is_not_a_picture_makes_the_clip_an_error(tmp_path, config):
    """JPEG markers that reach a frame header, then no image data: found, not decodable."""
    whole = _face_thumb()
    sos = whole.index(b"\xff\xda")
    broken = whole[:sos + 12] + b"\xff\xd9"
    s, d = screen(_clip_with(tmp_path, "broken.mov", _cnth(broken)), config)
    assert d.status is Status.ERROR and "clip thumbnail" in s.results[0].error


def test_more_carried_pictures_than_the_limit_make_the_clip_an_error(tmp_path, config):
    many = b"".join(_box(b"free", b"\0" * 8 + jpeg(backdrop((64, 48)))) for _ in range(carried.MAX_CARRIED + 1))
    s, d = screen(_clip_with(tmp_path, "many.mp4", None, many), config)
    assert d.status is Status.ERROR and "more than" in s.results[0].error


def test_a_thumbnail_over_the_pixel_budget_makes_the_clip_an_error(tmp_path, config, monkeypatch):
    from screening import imaging

    monkeypatch.setattr(imaging, "MAX_PIXELS", 100 * 100)
    s, d = screen(_clip_with(tmp_path, "big.mov", _cnth(jpeg(backdrop((320, 240))))), config)
    assert d.status is Status.ERROR and "budget" in s.results[0].error


class CountingFaces(RedSquareFaces):
    """Counts the pictures of the thumbnail's own size (150x100: no shrunk 320x240 frame is 3:2)."""

    def __init__(self):
        super().__init__()
        self.thumbnails = 0

    def detect(self, picture, earlier):
        if picture.frames[0].shape[:2] == (100, 150):
            self.thumbnails += 1
        return super().detect(picture, earlier)


def test_a_split_clip_screens_its_thumbnail_once(tmp_path, config):
    plain = _clip(tmp_path / "plain.mp4", 6.0)
    path = tmp_path / "split.mov"
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(_face_thumb((150, 100), (50, 30)))))
    faces = CountingFaces()
    _, s = _split(path, config, faces=faces)
    assert faces.thumbnails == 1
    (found,) = [r for r in s.results if r.check is Check.FACES]
    views = [f for f in found.findings if "clip thumbnail" in f.view]
    assert len(views) == 1 and views[0].time == 0.0 and views[0].box == (50, 30, 40, 40)
    assert s.results[0].error is None and _status(s, config) is Status.NEEDS_PERMISSION
    whole, _ = screen(path, config)
    assert [f for f in next(r for r in whole.results if r.check is Check.FACES).findings
            if "clip thumbnail" in f.view] == views


def test_a_location_in_a_thumbnails_exif_is_reported_naming_the_thumbnail(tmp_path, config):
    """The thumbnail's own EXIF GPS is read by the location check, as a photo's."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (53.0, 48.0, 7.56), 3: "W", 4: (1.0, 32.0, 51.36)}
    out = io.BytesIO()
    Image.fromarray(_other()).save(out, "JPEG", exif=exif)
    s, d = screen(_clip_with(tmp_path, "gps.mov", _cnth(out.getvalue())), config)
    located = [r for r in d.reasons if r.kind.value == "location"]
    assert d.status is not Status.CLEARED and located, d.reasons
    assert any("clip thumbnail" in r.detail for r in located), located


def test_a_thumbnail_is_screened_by_every_photo_check(tmp_path, config):
    seen = []

    class Recording:
        def __init__(self, name):
            self.name = name

        def detect(self, picture, earlier):
            if picture.frames[0].shape[:2] == (120, 160):
                seen.append((self.name, sorted(c.value for c in earlier)))
            return []

    det = checks(config)
    for check in (Check.LOGOS, Check.UNIFORMS, Check.TEXT):
        det[check] = Recording(check.value)
    s = pipeline.screen_file(_clip_with(tmp_path, "every.mov", _cnth(jpeg(_other()))), det,
                             video=config.video)
    assert [name for name, _ in seen] == ["logos", "uniforms", "text"]
    assert "faces" in seen[1][1]  # uniforms reads the faces found in the same view
    assert all(r.complete for r in s.results)


# ---------------------------------------------------------------- a thumbnail of the clip's first frame


def _first_frame(path):
    from screening.formats import video

    with video.Clip(path, video.MP4) as clip:
        frames = clip.frames()
        rgb = next(frames).rgb()
        frames.close()
    return rgb


def _shrunk(rgb, size=(160, 120)):
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def _with_thumbnail_of_its_first_frame(tmp_path, name, change=None, appearances=()):
    plain = write_clip(tmp_path / f"plain_{name}", 1.0, appearances=appearances)
    thumb = _shrunk(_first_frame(plain))
    if change is not None:
        thumb = change(thumb.copy())
    path = tmp_path / name
    path.write_bytes(_into_moov(plain.read_bytes(), _cnth(jpeg(thumb))))
    return path


class Counting(RedSquareFaces):
    def __init__(self):
        super().__init__()
        self.sizes = []

    def detect(self, picture, earlier):
        self.sizes.append(picture.frames[0].shape[:2])
        return super().detect(picture, earlier)


def test_a_thumbnail_of_the_clips_first_frame_gets_only_the_text_and_location_checks(tmp_path, config):
    """A consented face in the first frame is identified there; the thumbnail repeats it at a
    size where it could not be identified, so, as a photo's own thumbnail, its faces are not read."""
    path = _with_thumbnail_of_its_first_frame(tmp_path, "repeat.mov",
                                              appearances=(Appearance(RED, 0.0, 1.0, (100, 80)),))
    faces = Counting()
    text_seen = []

    class Text:
        def detect(self, picture, earlier):
            text_seen.append(picture.frames[0].shape[:2])
            return []

    det = checks(config, faces)
    det[Check.TEXT] = Text()
    s = pipeline.screen_file(path, det, video=config.video)
    assert (120, 160) not in faces.sizes and (120, 160) in text_seen
    (found,) = [r for r in s.results if r.check is Check.FACES]
    assert found.findings and not [f for f in found.findings if f.view]  # the frames' face only
    assert all(r.complete for r in s.results)


def test_a_face_drawn_into_a_thumbnail_of_the_first_frame_is_found(tmp_path, config):
    def draw(thumb):
        thumb[30:70, 40:80] = RED
        return thumb

    s, d = screen(_with_thumbnail_of_its_first_frame(tmp_path, "drawn.mov", draw), config)
    assert d.status is Status.NEEDS_PERMISSION
    (reason,) = _thumb_faces(d)
    assert all(abs(a - b) <= 2 for a, b in zip(reason.box, (40, 30, 40, 40), strict=True)), reason.box
    assert reason.time == 0.0


def test_control_a_thumbnail_of_a_plain_first_frame_is_cleared(tmp_path, config):
    s, d = screen(_with_thumbnail_of_its_first_frame(tmp_path, "same.mov"), config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])


def test_a_body_in_the_thumbnail_is_not_explained_by_a_face_in_the_clips_frames(tmp_path, config):
    """policy matches a person's body with a face of the same frame: a consented face in the clip's
    first frame, where the thumbnail shows a body whose face cannot be seen, must not hide it."""
    from screening.model import FaceFinding, PersonFinding
    from screening.policy import Rules, decide
    import datetime as dt

    from .test_video import STAFF

    class BodiesInThumbnails:
        def detect(self, picture, earlier):
            if picture.frames[0].shape[:2] == (120, 160):  # the thumbnail: a body, no face
                return [PersonFinding((40, 20, 60, 100), 1.9)]
            return [FaceFinding((50, 25, 40, 40), (("S1001", 0.2),))]  # every frame: Eileen, consented

    s = pipeline.screen_file(_clip_with(tmp_path, "body.mov", _cnth(jpeg(_other()))),
                             checks(config, BodiesInThumbnails()), video=config.video)
    d = decide(s.results, Rules("website", dt.date(2026, 10, 1), people=STAFF))
    assert d.status is Status.NEEDS_PERMISSION and [r.kind.value for r in d.reasons] == ["person"], (d.reasons, s.results)

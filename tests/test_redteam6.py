"""Red team, round 6: a second picture or text hidden inside a file, names the matcher folds
wrongly, clips whose viewers see more than the decoder gives the checks. Each case builds the
hostile file and asserts the SAFE outcome (never `cleared`), next to a control proving the
content is found when shown plainly. A case the product gets wrong is xfail(strict) with its
RT6 number: when a fix lands the test passes, the xfail fails, and the mark must go.

Faces are the stand-in of tests/test_video.py (a pure red square is a face) unless a case needs
a real one; text in metadata uses the real TextDetector with an OCR engine that reads nothing;
the few cases of text drawn in a picture use the real OCR engine (one per module).
"""

from __future__ import annotations

import datetime as dt
import fractions
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from screening import pipeline
from screening.config import TextSettings, load_config
from screening.detectors.text import TextDetector
from screening.model import Check, FaceFinding, Status
from screening.policy import Rules, decide
from screening.vision import names as nm

from .clips import scene, write_clip
from .test_video import RED, TOML, RedSquareFaces, checks

av = pytest.importorskip("av")

PEOPLE = [("P3001", "Amelia Hart")]
SITE_GPS = "+53.8008-001.5491/"  # the Test Trust's own site (tests/test_video.py)


class EveryFrameRedFaces(RedSquareFaces):
    """The stand-in face check of tests/test_video.py on every frame and view of a picture, as
    the real face check does (detectors/faces.py), not on the first only."""

    def detect(self, picture, earlier):
        class One:
            def __init__(self, rgb):
                self.frames = [rgb]

        found = []
        views = getattr(picture, "views", None) or [""] * len(picture.frames)
        for i, (rgb, view) in enumerate(zip(picture.frames, views)):
            for f in super().detect(One(rgb), earlier):
                found.append(FaceFinding(f.box, f.candidates, frame=i, view=view))
        return found


class ReadsNothing:
    """An OCR engine that reads no text in the pixels (metadata text is still read)."""

    def read(self, rgb):
        return []


@pytest.fixture
def config(tmp_path):
    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def detectors(config, faces=None, ocr=None):
    d = checks(config, faces or EveryFrameRedFaces())
    d[Check.TEXT] = TextDetector(config, PEOPLE, engine=ocr or ReadsNothing())
    return d


def verdict(path, config, faces=None, ocr=None):
    s = pipeline.screen_file(path, detectors(config, faces, ocr), video=config.video)
    return s, decide(s.results, Rules("website", dt.date(2026, 10, 1), people={}))


def kinds(decision) -> set[str]:
    return {r.kind.value for r in decision.reasons}


def backdrop(size=(320, 240)) -> np.ndarray:
    return scene(size)(0.0)


def with_face(size=(320, 240), at=(140, 100)) -> np.ndarray:
    pixels = backdrop(size)
    pixels[at[1]:at[1] + 40, at[0]:at[0] + 40] = RED
    return pixels


def not_cleared(path, config, **kw):
    s, d = verdict(path, config, **kw)
    assert d.status is not Status.CLEARED, f"{path.name} was cleared"
    return s, d


def found_face(path, config, **kw):
    s, d = verdict(path, config, **kw)
    assert s.results[0].complete if hasattr(s.results[0], "complete") else True
    assert d.status is Status.NEEDS_PERMISSION and "unknown_face" in kinds(d), d
    return d


# ================================================================ photos: a second picture inside


def _frames(fmt: str, path: Path, second_has_face: bool = True, **kw) -> Path:
    first = Image.fromarray(backdrop())
    second = Image.fromarray(with_face() if second_has_face else backdrop())
    first.save(path, fmt, save_all=True, append_images=[second], **kw)
    return path


MULTI = {
    "animated.gif": ("GIF", {"duration": 1000, "loop": 0}),
    "animated.png": ("PNG", {"duration": 1000, "loop": 0}),
    "animated.webp": ("WEBP", {"duration": 1000, "loop": 0, "lossless": True}),
    "two_pages.tif": ("TIFF", {}),
}


@pytest.mark.parametrize("name", sorted(MULTI))
def test_rt6_control_a_face_on_the_first_frame_is_found(tmp_path, config, name):
    fmt, kw = MULTI[name]
    path = tmp_path / name
    Image.fromarray(with_face()).save(path, fmt, save_all=True, append_images=[Image.fromarray(backdrop())], **kw)
    found_face(path, config)


@pytest.mark.parametrize("name", sorted(MULTI))
def test_rt6_1_a_face_only_on_a_later_frame_or_page_is_not_cleared(tmp_path, config, name):
    fmt, kw = MULTI[name]
    not_cleared(_frames(fmt, tmp_path / name, **kw), config)


def test_rt6_2_a_face_only_in_the_second_image_of_an_mpo(tmp_path, config):
    path = tmp_path / "stereo.mpo"
    Image.fromarray(backdrop()).save(path, "MPO", save_all=True, append_images=[Image.fromarray(with_face())])
    not_cleared(path, config)


def test_rt6_3_a_face_only_in_a_smaller_icon_of_an_ico(tmp_path, config):
    """Explorer shows the 48 px icon of a file, a browser tab the 16/32 px: each may be another picture."""
    path = tmp_path / "favicon.ico"
    big = Image.fromarray(backdrop((256, 256)))
    small = np.full((64, 64, 3), 200, np.uint8)
    small[12:52, 12:52] = RED
    big.save(path, "ICO", sizes=[(256, 256), (64, 64)], append_images=[Image.fromarray(small)])
    with Image.open(path) as check:  # the file really holds the red icon at 64 px
        check.size = (64, 64)
        assert np.asarray(check.convert("RGB"))[30, 30].tolist() == [255, 0, 0]
    not_cleared(path, config)


# ================================================================ photos: location hidden in a second block


def gps_exif() -> bytes:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (53.0, 48.0, 2.88), 3: "W", 4: (1.0, 32.0, 56.76)})  # 53.8008, -1.5491
    return exif.tobytes()


def jpeg(pixels: np.ndarray, **kw) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90, **kw)
    return out.getvalue()


def insert_segments(data: bytes, *segments: bytes) -> bytes:
    """The JPEG with `segments` (marker + length + payload) placed after its last APPn header segment."""
    pos = 2
    while data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return data[:pos] + b"".join(segments) + data[pos:]


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def test_rt6_control_gps_in_the_exif_of_a_jpeg_is_found(tmp_path, config):
    path = tmp_path / "gps.jpg"
    path.write_bytes(jpeg(backdrop(), exif=gps_exif()))
    _, d = verdict(path, config)
    assert "location" in kinds(d)


def test_rt6_4_gps_in_a_second_exif_segment_is_not_cleared(tmp_path, config):
    """Two APP1 Exif segments: Pillow and most libraries read the first, exiftool reports both."""
    plain = Image.Exif()
    plain[0x010F] = "Camera maker"
    second = gps_exif()
    assert second.startswith(b"Exif\x00\x00")
    data = insert_segments(jpeg(backdrop(), exif=plain.tobytes()), segment(0xE1, second))
    path = tmp_path / "two_exif.jpg"
    path.write_bytes(data)
    with Image.open(path) as check:
        assert check.getexif().get_ifd(0x8825) == {}  # Pillow sees only the first segment
    _, d = verdict(path, config)
    assert "location" in kinds(d)


def test_rt6_5_gps_in_the_exif_of_an_image_appended_after_the_end_marker(tmp_path, config):
    """A 'motion photo' style file: a plain JPEG, then a second JPEG carrying GPS. Publishing the
    file publishes both; exiftool -ee reads the second's GPS."""
    path = tmp_path / "appended_gps.jpg"
    path.write_bytes(jpeg(backdrop()) + jpeg(backdrop(), exif=gps_exif()))
    not_cleared(path, config)


XMP_GPS = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
           'exif:GPSLatitude="53,48.048N" exif:GPSLongitude="1,32.946W"/></rdf:RDF></x:xmpmeta>')


def test_rt6_6_gps_in_extended_xmp_of_a_jpeg(tmp_path, config):
    """XMP too big for one segment continues in APP1 'http://ns.adobe.com/xmp/extension/' segments,
    linked from the main packet by xmpNote:HasExtendedXMP (Photoshop, Lightroom)."""
    import hashlib

    ext = XMP_GPS.encode()
    guid = hashlib.md5(ext).hexdigest().upper().encode()
    main = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
            f'xmpNote:HasExtendedXMP="{guid.decode()}"/></rdf:RDF></x:xmpmeta>').encode()
    data = insert_segments(jpeg(backdrop()),
                           segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + main),
                           segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + guid
                                   + struct.pack(">II", len(ext), 0) + ext))
    path = tmp_path / "extended_xmp.jpg"
    path.write_bytes(data)
    not_cleared(path, config)


@pytest.mark.parametrize("name", ["photo.JPG.XMP", "PHOTO.xmp", "photo.Xmp"])
def test_rt6_7_gps_in_a_sidecar_named_in_another_case(tmp_path, config, name):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(backdrop()))
    (tmp_path / name).write_text(XMP_GPS)
    _, d = verdict(path, config)
    assert "location" in kinds(d)


def test_rt6_8_gps_in_the_xmp_of_a_webp(tmp_path, config):
    path = tmp_path / "xmp.webp"
    Image.fromarray(backdrop()).save(path, "WEBP", xmp=XMP_GPS.encode())
    _, d = verdict(path, config)
    assert "location" in kinds(d)


def test_rt6_8_gps_in_the_exif_chunk_of_a_png(tmp_path, config):
    path = tmp_path / "exif.png"
    Image.fromarray(backdrop()).save(path, "PNG", exif=gps_exif())
    _, d = verdict(path, config)
    assert "location" in kinds(d)


# ================================================================ clips: pictures and text a player shows


def _mkv(path: Path, seconds: float = 2.0, **streams) -> Path:
    """A plain 320x240 VP9 Matroska clip; `streams` may add an audio track's `audio_tags`."""
    return write_clip(path, seconds, audio="libopus" if "audio_tags" in streams else None,
                      audio_tags=streams.get("audio_tags"))


def test_rt6_control_a_clip_title_naming_a_pupil_is_found(tmp_path, config):
    path = write_clip(tmp_path / "titled.mp4", 2.0, metadata={"title": "Amelia Hart on sports day"})
    _, d = verdict(path, config)
    assert "text" in kinds(d)


def test_rt6_9_an_audio_track_titled_with_a_pupils_name(tmp_path, config):
    """Players list a clip's tracks by title (VLC's Audio > Audio Track, mpv's OSD)."""
    path = write_clip(tmp_path / "track.mkv", 2.0, audio="libopus", audio_tags={"title": "Commentary by Amelia Hart"})
    _, d = verdict(path, config)
    assert "text" in kinds(d)


def test_rt6_10_a_clip_album_tag_naming_the_academy(tmp_path, config):
    """Music and video players show the album (iTunes ©alb) under the title."""
    path = write_clip(tmp_path / "album.mp4", 2.0, metadata={"album": "Trinity North Academy sports day 2026"})
    _, d = verdict(path, config)
    assert "text" in kinds(d)


def test_rt6_11_a_chapter_title_naming_a_pupil(tmp_path, config):
    """Chapter titles are listed by every player (VLC's Playback > Chapter, YouTube's chapters)."""
    path = tmp_path / "chapters.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libvpx-vp9", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        out.set_chapters([
            {"id": 1, "start": 0, "end": 1000, "time_base": fractions.Fraction(1, 1000), "metadata": {"title": "Intro"}},
            {"id": 2, "start": 1000, "end": 2000, "time_base": fractions.Fraction(1, 1000),
             "metadata": {"title": "Amelia Hart's winning race"}},
        ])
        for i in range(50):
            for packet in video.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    with av.open(str(path)) as check:
        assert [c["metadata"].get("title") for c in check.chapters()] == ["Intro", "Amelia Hart's winning race"]
    not_cleared(path, config)


def _cover(kind: bytes, picture: bytes) -> bytes:
    """moov/udta/meta/ilst/covr: the cover art iTunes, Finder and phone galleries show for a clip."""
    from .test_video import _box

    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mdir" + b"appl" + b"\x00" * 9)
    data = _box(b"data", struct.pack(">II", 13 if kind == b"jpeg" else 14, 0) + picture)
    return _box(b"udta", _box(b"meta", b"\x00" * 4 + hdlr + _box(b"ilst", _box(b"covr", data))))


def test_rt6_12_cover_art_of_an_mp4_showing_a_face(tmp_path, config):
    from .test_video import _into_moov

    plain = write_clip(tmp_path / "plain.mp4", 2.0)
    path = tmp_path / "cover.mp4"
    path.write_bytes(_into_moov(plain.read_bytes(), _cover(b"png", _png(with_face()))))
    with av.open(str(path)) as check:  # FFmpeg sees the picture (an attached_pic stream)
        assert len(check.streams.video) == 2
    not_cleared(path, config)


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def test_rt6_13_a_second_video_stream_with_a_face_the_first_does_not_show(tmp_path, config):
    path = tmp_path / "two_views.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        main = out.add_stream("libvpx-vp9", rate=25)
        main.width, main.height, main.pix_fmt = 320, 240, "yuv420p"
        small = out.add_stream("libvpx-vp9", rate=25)
        small.width, small.height, small.pix_fmt = 160, 120, "yuv420p"
        for i in range(50):
            for stream, pixels in ((main, background(i / 25)), (small, with_face((160, 120), (60, 40)))):
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")):
                    out.mux(packet)
        for stream in (main, small):
            for packet in stream.encode():
                out.mux(packet)
    not_cleared(path, config)


class SquareRedFaces(RedSquareFaces):
    """A stand-in face check that, like a real one, knows a face only in its true proportions:
    a red block as wide as it is tall (within 25%). A face squeezed to a quarter of its width is
    not a face to it (nor to CenterFace)."""

    def detect(self, picture, earlier):
        out = []
        for f in super().detect(picture, earlier):
            w, h = f.box[2], f.box[3]
            if 0.75 <= w / h <= 1.33:
                out.append(f)
        return out


def _anamorphic(path: Path, squeeze: int) -> Path:
    """An MP4 whose stored frames are `squeeze` times narrower than shown: the stream's sample
    aspect ratio (pixel shape) is squeeze:1, so players stretch each frame back. A 40x40 face is
    stored 40/squeeze px wide."""
    w, h = 320 // squeeze, 240
    background = scene((320, 240))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.sample_aspect_ratio = fractions.Fraction(squeeze, 1)
        for i in range(50):
            shown = with_face() if i >= 12 else background(i / 25)
            stored = np.asarray(Image.fromarray(shown).resize((w, h), Image.NEAREST))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(stored), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_rt6_control_the_same_clip_unsqueezed_is_found(tmp_path, config):
    path = _anamorphic(tmp_path / "square.mp4", 1)
    _, d = verdict(path, config, faces=SquareRedFaces())
    assert d.status is Status.NEEDS_PERMISSION


def test_rt6_14_an_anamorphic_clip_is_screened_as_players_show_it(tmp_path, config):
    path = _anamorphic(tmp_path / "squeezed.mp4", 4)
    with av.open(str(path)) as check:
        assert check.streams.video[0].sample_aspect_ratio == fractions.Fraction(4, 1)
    not_cleared(path, config, faces=SquareRedFaces())

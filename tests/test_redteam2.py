"""Second red team (videos, text, AVIF, file listing): each test builds a hostile input and
asserts the safe outcome. Every test is a known, unfixed weakness (xfail strict): when a fix
lands, the test passes, the xfail turns into a failure, and the mark must be removed.

The video tests use the stand-in checks of tests/test_video.py (a pure red square is a face),
so they are fast; the tests that run the real detectors are marked slow.
"""

from __future__ import annotations

import fractions

import pytest

from screening.model import Status

from .clips import scene, write_clip
from .test_video import RED, TOML, real_faces, screen  # noqa: F401  (stand-in checks, the real face fixture)

av = pytest.importorskip("av")


@pytest.fixture
def config(tmp_path):
    from screening.config import load_config

    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def _not_cleared(path, config):
    _, decision = screen(path, config)
    assert decision.status != Status.CLEARED, f"{path.name} was cleared: {decision}"
    return decision


def _vfr_clip(path, face_ms: int):
    """An MP4 whose frames are at 0 ms, `face_ms` (a face, held until 1 s), then 25 fps to 2 s."""
    background = scene((320, 240))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
        stream.codec_context.options = {"bf": "0"}
        for ms in [0, face_ms, *range(1000, 2001, 40)]:
            pixels = background(ms / 1000)
            if ms == face_ms:
                pixels[80:120, 100:140] = RED
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = ms, fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_rt2_1_face_frame_held_a_second_in_a_vfr_clip(tmp_path, config):
    _not_cleared(_vfr_clip(tmp_path / "vfr.mp4", 20), config)


def test_rt2_1_control_same_vfr_clip_with_the_face_later_is_found(tmp_path, config):
    decision = _not_cleared(_vfr_clip(tmp_path / "vfr.mp4", 300), config)
    assert decision.status == Status.NEEDS_PERMISSION


def test_rt2_2_gps_tag_on_the_audio_stream_of_an_mkv(tmp_path, config):
    path = tmp_path / "audio-gps.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libvpx-vp9", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = out.add_stream("libopus", rate=48000)
        audio.metadata["LOCATION"] = "+53.8008-001.5491/"  # the trust's own site
        for i in range(50):
            for packet in video.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    _not_cleared(path, config)


@pytest.mark.parametrize("line", [b"0,0,Default,,0,0,0,,Amelia Hart, Year 4, St Aidan's Academy",
                                  b"0,0,Default,,0,0,0,,F/2.8, SS 1000, ISO 100, GPS (-1.5491, 53.8008, 18), H 30.0m"])
def test_rt2_3_subtitle_stream_naming_a_pupil_or_holding_gps(tmp_path, config, line):
    path = tmp_path / "subtitled.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libvpx-vp9", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        subtitles = out.add_stream("ass")
        for i in range(50):
            for packet in video.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        packet = av.Packet(line)
        packet.stream, packet.pts, packet.duration = subtitles, 0, 1000
        packet.time_base = fractions.Fraction(1, 1000)
        out.mux(packet)
    with av.open(str(path)) as check:
        assert [s.type for s in check.streams] == ["video", "subtitle"]
    _not_cleared(path, config)


def test_rt2_4_mkv_attachment_holding_a_face_picture(tmp_path, config):
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.fromarray(RED).resize((120, 120)).save(picture, "PNG")
    path = tmp_path / "attached.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("libvpx-vp9", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        out.add_attachment("notes.bin", "application/octet-stream", picture.getvalue())
        for i in range(50):
            for packet in video.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    with av.open(str(path)) as check:
        assert [s.type for s in check.streams] == ["video", "attachment"]
    _not_cleared(path, config)


# ---------------------------------------------------------------- names in text (the matcher, no OCR)


@pytest.mark.parametrize("text", ["awarded to Amelia Rose Hart", "Amelia R. Hart"])
def test_rt2_5_full_name_with_a_middle_name(text):
    from .test_text import found

    assert "P3001" in found(text)


@pytest.mark.parametrize("text, academy", [("www.northfieldschool.org", "field"),
                                           ("staidansschool.co.uk", "aidan"),
                                           ("northfieldacademy.org", "field")])
def test_rt2_6_academy_alias_inside_a_web_address(text, academy):
    from .test_text import found

    assert academy in found(text)


def test_rt2_6_control_the_alias_alone_in_a_web_address_is_found():
    from .test_text import found

    assert "field" in found("northfield.sch.uk") and "aidan" in found("www.staidans.org.uk")


# ---------------------------------------------------------------- names in text (the real OCR)


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


def _text_detector(tmp_path, engine):
    from screening.config import load_config
    from screening.detectors.text import TextDetector

    from .test_config_register import GOOD, write_config
    from .test_text import PEOPLE

    text = GOOD + 'aliases = ["Trinity North", "TNA"]\n\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'
    return TextDetector(load_config(write_config(tmp_path, text)), PEOPLE, engine=engine)


def _named(detector, img):
    from .test_text import Picture

    return {f.target_id for f in detector.detect(Picture(img), {}) if f.target}


@pytest.mark.slow
@pytest.mark.parametrize("lines, expected", [(["Amelia Hart"], "P3001"), (["ST AIDAN'S ACADEMY"], "aidan")])
@pytest.mark.parametrize("turn", [90, 180], ids=["counter-clockwise", "upside-down"])
def test_rt2_7_a_name_turned_counter_clockwise_or_upside_down_is_read(tmp_path, ocr_engine, public_domain, lines,
                                                                      expected, turn):
    # RT2-7 (fixed): a vertical banner read bottom to top, or a photo stored upside down without
    # an orientation tag; every line is read both ways up and the surer reading kept (vision/ocr.py)
    from .test_text import photo, sign

    detector = _text_detector(tmp_path, ocr_engine)
    assert expected in _named(detector, sign(photo(public_domain), lines, cap=30).rotate(turn, expand=True))


@pytest.mark.slow
def test_rt2_7_control_the_same_name_turned_clockwise_is_read(tmp_path, ocr_engine, public_domain):
    from .test_text import photo, sign

    detector = _text_detector(tmp_path, ocr_engine)
    assert "P3001" in _named(detector, sign(photo(public_domain), ["Amelia Hart"], cap=30).rotate(-90, expand=True))


def test_rt2_8_edit_list_hides_the_first_seconds_of_a_slow_clip(tmp_path, config):
    import struct

    from .clips import Appearance

    plain = write_clip(tmp_path / "plain.mp4", 10.0, fps=1, appearances=(Appearance(RED, 0.0, 2.0, (100, 80)),))
    if screen(plain, config)[1].status != Status.NEEDS_PERMISSION:  # the face is there (not masked by xfail)
        pytest.fail("control: the face is not found in the clip without the edit list")
    data = bytearray(plain.read_bytes())

    def timescale(kind: bytes) -> int:
        at = data.find(kind)
        return struct.unpack_from(">I", data, at + 8 + (16 if data[at + 4] else 8))[0]

    movie, media = timescale(b"mvhd"), timescale(b"mdhd")
    at = data.find(b"elst")
    assert at > 0 and data[at + 4] == 0 and struct.unpack_from(">I", data, at + 8)[0] == 1
    _, media_time = struct.unpack_from(">Ii", data, at + 12)
    struct.pack_into(">Ii", data, at + 12, 8 * movie, media_time + 2 * media)  # play 8 s, from 2 s later
    hidden = tmp_path / "hidden.mp4"
    hidden.write_bytes(bytes(data))
    _not_cleared(hidden, config)


# ---------------------------------------------------------------- the real face engine


@pytest.mark.slow
def test_rt2_9_a_small_face_in_a_4k_wide_clip(tmp_path, config, public_domain, real_faces):
    from PIL import Image

    from .clips import Appearance, head

    picture, _ = head(public_domain, 80)  # the face is about 34 px wide
    at = (1920, 240 - picture.shape[0])
    still = scene((3840, 240))(0.0)
    still[at[1]:, at[0]:at[0] + picture.shape[1]] = picture
    Image.fromarray(still).save(tmp_path / "still.png")
    if screen(tmp_path / "still.png", config, faces=real_faces)[1].status == Status.CLEARED:
        pytest.fail("control: the face is not found in the same picture as a photo")
    clip = write_clip(tmp_path / "wide.mp4", 1.0, size=(3840, 240), appearances=(Appearance(picture, 0.0, 1.0, at),))
    _, decision = screen(clip, config, faces=real_faces)
    assert decision.status != Status.CLEARED


# ---------------------------------------------------------------- the file listing


def test_rt2_10_svg_with_an_embedded_photo_named_desktop_ini_is_not_skipped(tmp_path):
    import base64
    import io

    from PIL import Image

    from screening import files

    photo = io.BytesIO()
    Image.fromarray(RED).resize((120, 120)).save(photo, "JPEG")
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" '
           'height="120"><image width="120" height="120" xlink:href="data:image/jpeg;base64,'
           f'{base64.b64encode(photo.getvalue()).decode()}"/></svg>')
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "face.svg").write_text(svg)
    (batch / "desktop.ini").write_text(svg)
    selection = files.select([batch])
    if "face.svg" not in [p.name for p, _ in selection.items]:
        pytest.fail("control: face.svg is not listed for screening")
    assert "desktop.ini" in [p.name for p, _ in selection.items]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["photo", "clip"])
def test_rt2_11_names_in_caption_and_title_metadata(tmp_path, config, ocr_engine, kind):
    import datetime as dt

    from PIL import Image

    from screening import pipeline
    from screening.model import Check
    from screening.policy import Rules, decide

    from .test_video import checks

    (tmp_path / "text").mkdir()
    detectors = checks(config)
    detectors[Check.TEXT] = _text_detector(tmp_path / "text", ocr_engine)
    caption = "Amelia Hart receiving her award at St Aidan's Academy"
    if kind == "photo":
        path = tmp_path / "award.jpg"
        exif = Image.Exif()
        exif[0x010E] = caption  # ImageDescription
        exif[0x9C9B] = "Amelia Hart".encode("utf-16le")  # XPTitle
        Image.fromarray(scene((320, 240))(0.0)).save(path, exif=exif)
    else:
        path = write_clip(tmp_path / "award.mp4", 2.0, metadata={"title": caption, "comment": "Amelia Hart"})
    result = pipeline.screen_file(path, detectors, video=config.video)
    decision = decide(result.results, Rules("website", dt.date(2026, 10, 1), people={}))
    assert decision.status != Status.CLEARED


@pytest.mark.slow
def test_rt2_12_a_name_on_a_board_in_a_clip_needs_permission(tmp_path, config, ocr_engine):
    import datetime as dt

    import numpy as np
    from PIL import Image

    from screening import pipeline
    from screening.model import Check
    from screening.policy import Rules, decide

    from .clips import Appearance
    from .test_text import sign
    from .test_video import checks

    (tmp_path / "text").mkdir()
    detectors = checks(config)
    detectors[Check.TEXT] = _text_detector(tmp_path / "text", ocr_engine)
    board = np.asarray(sign(Image.new("RGB", (300, 70), (250, 250, 240)), ["Amelia Hart"], at=(0, 0), cap=22))
    clip = write_clip(tmp_path / "board.mp4", 3.0, appearances=(Appearance(board, 0.5, 1.0, (10, 100)),))
    result = pipeline.screen_file(clip, detectors, video=config.video)
    decision = decide(result.results, Rules("website", dt.date(2026, 10, 1), people={}))
    assert decision.status == Status.NEEDS_PERMISSION, [r.detail for r in decision.reasons]
    assert any("P3001" in r.detail for r in decision.reasons)

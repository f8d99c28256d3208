"""Videos: recognised by content, decoded to their end, screened frame by frame like photos,
merged over time; anything not seen to its end is an error, never cleared."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import struct

import numpy as np
import pytest

from screening import cli, imaging, pipeline, pool
from screening.config import VideoSettings, load_config
from screening.detectors.location import LocationDetector
from screening.formats import video, video_metadata
from screening.model import Check, FaceFinding, LogoFinding, Person, Status
from screening.policy import Rules, decide
from screening.video_merge import Appearances

from .clips import Appearance, head, write_clip

SITE = (53.8008, -1.5491)
TOML = ('trust = "Test Trust"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
        '[[academy]]\nid = "north"\nname = "Trinity North Academy"\n'
        f'sites = [{{ lat = {SITE[0]}, lon = {SITE[1]} }}]\n')
RED = np.zeros((40, 40, 3), np.uint8)
RED[..., 0] = 255
# A stand-in face with detail: red and white stripes (blurring leaves pink, never pure red).
STRIPES = RED.copy()
STRIPES[:, [c for c in range(40) if c % 8 >= 4]] = 255


class RedSquareFaces:
    """Stands in for the face engine: every pure red square is a face of `person` (or unknown)."""

    def __init__(self, person=None, distance=0.3):
        self.person, self.distance = person, distance
        self.frames = 0

    def detect(self, picture, earlier):
        self.frames += 1
        rgb = picture.frames[0].astype(int)
        mask = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
        if mask.sum() < 100:
            return []
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        candidates = ((self.person, self.distance),) if self.person else ()
        return [FaceFinding(box, candidates)]


class Nothing:
    def detect(self, picture, earlier):
        return []


@pytest.fixture
def config(tmp_path):
    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def checks(config, faces=None):
    return {Check.LOCATION: LocationDetector(config), Check.FACES: faces or RedSquareFaces(),
            Check.LOGOS: Nothing(), Check.UNIFORMS: Nothing(), Check.TEXT: Nothing()}


def screen(path, config, faces=None, people=None):
    s = pipeline.screen_file(path, checks(config, faces), video=config.video)
    rules = Rules("website", dt.date(2026, 10, 1), people=people or {})
    return s, decide(s.results, rules)


def red_clip(path, seconds=2.0, start=0.5, shown=1.0, at=(100, 80), **kw):
    return write_clip(path, seconds, appearances=(Appearance(RED, start, shown, at),), **kw)


# ---------------------------------------------------------------- recognised by content


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".m4v", ".3gp", ".mkv", ".webm", ".avi"])
def test_every_container_is_recognised_by_content_and_screened_to_its_end(tmp_path, config, suffix):
    clip = red_clip(tmp_path / f"clip{suffix}")
    disguised = tmp_path / "holiday.jpg"  # the name says photo, the content says video
    disguised.write_bytes(clip.read_bytes())
    for path in (clip, disguised):
        head = path.read_bytes()[:32]
        assert imaging.sniff(head) is None and video.sniff(head) in video.FORMATS
        s, d = screen(path, config)
        assert d.status is Status.NEEDS_PERMISSION, d.reasons
        assert [r.kind.value for r in d.reasons] == ["unknown_face"]
        assert s.size == (320, 240)
        assert "audio is not screened" in s.results[0].notes[0]


def test_heic_brand_is_still_a_photo_not_a_video():
    assert video.sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") is None
    assert imaging.sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "HEIF"


def test_a_video_is_never_decoded_as_a_still_image(tmp_path):
    clip = red_clip(tmp_path / "clip.mp4")
    with pytest.raises(imaging.ImageError, match="a video"):
        imaging.load(clip)


# ---------------------------------------------------------------- sampling and merging


@pytest.mark.parametrize("fps", [25, 30, 60])
def test_screened_frames_are_never_more_than_a_quarter_second_apart(tmp_path, fps):
    clip = write_clip(tmp_path / "clip.mp4", 3.0, fps=fps)
    with video.Clip(clip, video.MP4) as c:
        times = [s.time for s in video.samples(c.frames(), 0.25, 0.12, 0.04)]
    assert times[0] == 0.0 and times[-1] == pytest.approx(3.0 - 1 / fps, abs=1e-3)
    assert max(np.diff(times)) <= 0.25 + 1e-6


@pytest.mark.parametrize("count", [1, 2, 8, 9, 15])  # 8 frames at 0.04 s: the last is an interval sample
def test_the_clips_last_frame_is_always_marked_last_so_it_is_looked_at_whole(count):
    """Whatever chose it (the first frame, the interval), the clip's very last frame is marked
    "last": the checks look at it whole, not only where it changed (video_passes)."""

    class Plain(video.Frame):
        def rgb(self):
            return np.zeros((2, 2, 3), np.uint8)

        def grey_thumb(self):
            return np.zeros(video.THUMB[::-1], np.float32)

        def fine_thumb(self):
            return np.zeros((*video.FINE_THUMB[::-1], 3), np.float32)

    frames = [Plain(i, i * 0.04, False, None, (0, False)) for i in range(count)]
    chosen = list(video.samples(iter(frames), 0.28, 0.12, 0.04))
    assert chosen[-1].number == count - 1 and chosen[-1].why == "last"
    assert [s.why for s in chosen[:-1]].count("last") == 0


def test_every_frame_held_for_the_sampling_interval_is_screened():
    """Variable frame rate: whatever the gaps, a frame on screen for `every_s` or more is screened."""

    class Held(video.Frame):
        def rgb(self):
            return np.zeros((2, 2, 3), np.uint8)

        def grey_thumb(self):
            return np.zeros(video.THUMB[::-1], np.float32)

        def fine_thumb(self):
            return np.zeros((*video.FINE_THUMB[::-1], 3), np.float32)

    rng = np.random.default_rng(7)
    for _ in range(50):
        times = np.cumsum(np.concatenate([[0.0], rng.choice([0.005, 0.02, 0.04, 0.3, 1.0], 40)]))
        frames = [Held(i, float(t), False, None, (0, False)) for i, t in enumerate(times)]
        screened = {s.number for s in video.samples(iter(frames), 0.25, 0.12, 0.04)}
        held = {i for i in range(len(times) - 1) if times[i + 1] - times[i] >= 0.25}
        assert held <= screened, sorted(held - screened)


@pytest.mark.parametrize("start", [0.0, 0.13, 0.3, 0.77, 1.41, 2.49])
def test_something_on_screen_for_a_third_of_a_second_is_always_screened(tmp_path, config, start):
    s, d = screen(red_clip(tmp_path / "clip.mp4", 3.0, start=start, shown=0.3), config)
    faces = [f for r in s.results for f in r.findings if isinstance(f, FaceFinding)]
    assert len(faces) == 1
    assert start <= faces[0].time < start + 0.3


def test_a_face_on_screen_for_a_second_is_reported_once_when_first_seen(tmp_path, config):
    s, d = screen(red_clip(tmp_path / "clip.mp4", 3.0, start=1.0, shown=1.0, at=(150, 90)), config)
    (reason,) = d.reasons
    assert reason.kind.value == "unknown_face" and 1.0 <= reason.time <= 1.25
    assert reason.box == (150, 90, 40, 40)
    (finding,) = [f for r in s.results for f in r.findings]
    assert "on screen from" in finding.detail
    record = json.loads(json.dumps(reason.to_json()))
    assert record["time"] == reason.time and record["box"] == [150, 90, 40, 40]
    assert d.faces[0].to_json()["time"] == reason.time


def test_two_separate_appearances_are_two_reasons(tmp_path, config):
    clip = write_clip(tmp_path / "clip.mp4", 4.0, appearances=(Appearance(RED, 0.2, 0.6, (20, 20)),
                                                               Appearance(RED, 2.6, 0.6, (250, 180))))
    s, d = screen(clip, config)
    assert [round(r.time, 1) for r in d.reasons] == [0.2, 2.6]


def test_consented_face_throughout_is_cleared(tmp_path, config):
    people = {"S1": Person("S1", "Eileen Collins", "staff", "north", True, {"website": True})}
    s, d = screen(red_clip(tmp_path / "clip.mp4", 2.0, start=0.0, shown=2.0), config,
                  faces=RedSquareFaces("S1", 0.3), people=people)
    assert d.status is Status.CLEARED
    assert [(f.person_id, f.time) for f in d.faces] == [("S1", 0.0)]


def _face(box, person=None, distance=0.0, identifiable=True, time=0.0):
    return FaceFinding(box, ((person, distance),) if person else (), identifiable, time=time)


def test_consented_face_is_matched_on_its_best_frame_and_reported_where_first_seen():
    track = Appearances(face_tolerance=0.45)
    track.add(0.0, [_face((10, 10, 50, 50), identifiable=False, time=0.0)])  # too turned at first
    track.add(0.25, [_face((12, 10, 50, 50), "S1", 0.52, time=0.25)])
    track.add(0.5, [_face((14, 10, 50, 50), "S1", 0.31, time=0.5)])
    (face,) = track.close()
    assert face.candidates == (("S1", 0.31),) and face.identifiable
    assert face.time == 0.0 and face.box == (10, 10, 50, 50)


def test_a_track_never_joins_two_people_the_register_tells_apart():
    track = Appearances(face_tolerance=0.45)
    track.add(0.0, [_face((10, 10, 50, 50), "S1", 0.3, time=0.0)])
    # the same place a moment later, but far from S1: somebody else (a cut the thumbnails missed)
    track.add(0.25, [FaceFinding((10, 10, 50, 50), (("P2", 0.5), ("S1", 0.75)), True, time=0.25)])
    faces = track.close()
    assert len(faces) == 2
    assert sorted(f.candidates[0][0] for f in faces) == ["P2", "S1"]


def test_a_scene_change_ends_every_appearance():
    track = Appearances(face_tolerance=0.45)
    track.add(0.0, [LogoFinding("north", (10, 10, 50, 50), 0.9, time=0.0)])
    track.cut()
    track.add(0.25, [LogoFinding("north", (10, 10, 50, 50), 0.9, time=0.25)])
    assert [f.time for f in track.close()] == [0.0, 0.25]


def test_logo_seen_over_many_frames_keeps_its_best_score_and_first_place():
    track = Appearances(face_tolerance=0.45)
    for i, score in enumerate((0.4, 0.9, 0.7)):
        track.add(i * 0.25, [LogoFinding("north", (10 + i, 10, 50, 50), score, time=i * 0.25)])
    (logo,) = track.close()
    assert logo.score == 0.9 and logo.time == 0.0 and logo.box == (10, 10, 50, 50)


# ---------------------------------------------------------------- display rotation


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_phone_clip_stored_sideways_is_screened_upright_with_upright_boxes(tmp_path, config, rotation):
    upright = (240, 320) if rotation % 180 else (320, 240)
    clip = red_clip(tmp_path / "phone.mov", 1.0, start=0.0, shown=1.0, at=(30, 50), size=upright,
                    rotation=rotation)
    with video.Clip(clip, video.MP4) as c:  # stored sideways (or upside down)
        assert (c.probe.width, c.probe.height) == ((upright[1], upright[0]) if rotation % 180 else upright)
    s, d = screen(clip, config)
    assert s.size == upright
    assert d.reasons[0].box == (30, 50, 40, 40)
    assert f"turned {(-rotation) % 360} degrees" in s.results[0].notes[0]


# ---------------------------------------------------------------- fail closed


def _assert_error(path, config, match):
    s, d = screen(path, config)
    assert d.status is Status.ERROR, d.reasons
    assert any(match in r.detail for r in d.reasons), [r.detail for r in d.reasons]
    return s


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm", ".avi"])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_clip_is_error_never_cleared(tmp_path, config, suffix, keep):
    data = write_clip(tmp_path / f"whole{suffix}", 2.0).read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[:int(len(data) * keep)])
    _assert_error(cut, config, "")


def test_missing_moov_is_error(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "whole.mp4", 1.0).read_bytes())
    at = data.find(b"moov")
    data[at:at + 4] = b"free"  # the index is gone, as when a phone's recording is interrupted
    (tmp_path / "nomoov.mp4").write_bytes(data)
    _assert_error(tmp_path / "nomoov.mp4", config, "no `moov` box")


def test_garbage_after_an_ftyp_box_is_error(tmp_path, config):
    ftyp = write_clip(tmp_path / "whole.mp4", 1.0).read_bytes()[:32]
    (tmp_path / "garbage.mp4").write_bytes(ftyp + np.random.default_rng(7).bytes(20000))
    _assert_error(tmp_path / "garbage.mp4", config, "at byte 32")


def test_unknown_codec_is_error(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "whole.mp4", 1.0).read_bytes())
    at = data.find(b"avc1", data.find(b"stsd"))
    data[at:at + 4] = b"zzzz"
    (tmp_path / "codec.mp4").write_bytes(data)
    _assert_error(tmp_path / "codec.mp4", config, "codec")


def test_frame_that_fails_to_decode_is_error(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "whole.avi", 2.0, seed=3).read_bytes())
    movi = data.find(b"movi")
    start = movi + (len(data) - movi) // 2
    data[start:start + 300] = bytes(b ^ 0x5A for b in data[start:start + 300])
    (tmp_path / "damaged.avi").write_bytes(data)
    _assert_error(tmp_path / "damaged.avi", config, "")


def test_declared_duration_longer_than_the_frames_is_error(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "whole.mkv", 1.0).read_bytes())
    at = data.find(b"\x44\x89\x88")  # Segment Info Duration, an 8-byte float
    (duration,) = struct.unpack(">d", data[at + 3:at + 11])
    data[at + 3:at + 11] = struct.pack(">d", duration * 3)
    (tmp_path / "long.mkv").write_bytes(data)
    _assert_error(tmp_path / "long.mkv", config, "not seen to its end")


def test_declared_frame_count_larger_than_the_frames_is_error(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "whole.avi", 1.0).read_bytes())
    at = data.find(b"strh") + 8 + 32  # the stream header's length, in frames
    (frames,) = struct.unpack("<I", data[at:at + 4])
    data[at:at + 4] = struct.pack("<I", frames * 3)
    (tmp_path / "short.avi").write_bytes(data)
    _assert_error(tmp_path / "short.avi", config, "frames decoded")


def test_one_missing_frame_of_a_slow_clip_is_error(tmp_path, config):
    """The slack on the frame count is a time (a quarter second): at 1 fps not one frame may be missing."""
    data = bytearray(write_clip(tmp_path / "whole.avi", 4.0, fps=1).read_bytes())
    at = data.find(b"strh") + 8 + 32
    (frames,) = struct.unpack("<I", data[at:at + 4])
    data[at:at + 4] = struct.pack("<I", frames + 1)
    (tmp_path / "short.avi").write_bytes(data)
    _assert_error(tmp_path / "short.avi", config, "frames decoded")


def test_audio_only_file_is_error(tmp_path, config):
    import av

    with av.open(str(tmp_path / "voice.m4a"), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 44100
        for _ in range(10):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    _assert_error(tmp_path / "voice.m4a", config, "no video stream")


def test_clip_longer_than_the_limit_is_error(tmp_path, config):
    clip = write_clip(tmp_path / "long.mp4", 2.0)
    s = pipeline.screen_file(clip, checks(config), video=VideoSettings(max_duration_s=1.0))
    assert "longer than the 1 s" in s.results[0].error


def test_a_check_that_fails_on_one_frame_is_error(tmp_path, config):
    class Breaks:
        def detect(self, picture, earlier):
            raise RuntimeError("model fell over")

    s, d = screen(red_clip(tmp_path / "clip.mp4"), config, faces=Breaks())
    assert d.status is Status.ERROR
    assert any("model fell over" in r.detail and "0.00 s" in r.detail for r in d.reasons)


# ---------------------------------------------------------------- location metadata


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _into_moov(data: bytes, child: bytes) -> bytes:
    """The file with `child` appended inside its moov box (PyAV writes moov last, after mdat)."""
    at = data.rfind(b"moov") - 4
    (size,) = struct.unpack(">I", data[at:at + 4])
    assert at + size == len(data), "moov is not the last box"
    return data[:at] + struct.pack(">I", size + len(child)) + data[at + 4:] + child


def _location_reasons(path, config):
    s, d = screen(path, config)
    assert s.results[0].complete, s.results[0].error
    return [r for r in d.reasons if r.kind.value == "location"]


@pytest.mark.parametrize("suffix,tag", [(".mov", "©xyz"), (".mp4", "3GPP loci"), (".3gp", "3GPP loci"),
                                        (".mkv", "LOCATION"), (".webm", "LOCATION")])
def test_gps_written_by_an_encoder_is_found(tmp_path, config, suffix, tag):
    clip = write_clip(tmp_path / f"gps{suffix}", 1.0, metadata={"location": "+53.8021-001.5476/"})
    (reason,) = _location_reasons(clip, config)
    assert tag in reason.detail and "from Trinity North Academy" in reason.detail
    assert reason.extra["lat"] == pytest.approx(53.8021, abs=1e-4)
    assert reason.extra["lon"] == pytest.approx(-1.5476, abs=1e-4)


def test_hand_made_quicktime_xyz_atom_is_found(tmp_path, config):
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    text = b"+5348.126-00132.856+080.000/"  # degrees and minutes, with an altitude
    xyz = _box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7) + text)
    (tmp_path / "android.mp4").write_bytes(_into_moov(data, _box(b"udta", xyz)))
    (reason,) = _location_reasons(tmp_path / "android.mp4", config)
    assert "©xyz" in reason.detail
    assert reason.extra["lat"] == pytest.approx(53 + 48.126 / 60, abs=1e-5)
    assert reason.extra["lon"] == pytest.approx(-(1 + 32.856 / 60), abs=1e-5)


def _apple_meta(items: dict[str, str]) -> bytes:
    keys = b"".join(_box(b"mdta", name.encode()) for name in items)
    ilst = b"".join(_box(struct.pack(">I", i), _box(b"data", struct.pack(">II", 1, 0) + value.encode()))
                    for i, value in enumerate(items.values(), start=1))
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13)
    return _box(b"meta", hdlr + _box(b"keys", struct.pack(">II", 0, len(items)) + keys) + _box(b"ilst", ilst))


def test_hand_made_iphone_iso6709_item_and_place_name_are_found(tmp_path, config):
    data = write_clip(tmp_path / "plain.mov", 1.0).read_bytes()
    meta = _apple_meta({"com.apple.quicktime.make": "Apple",
                        "com.apple.quicktime.location.ISO6709": "+53.8021-001.5476+075.000/",
                        "com.apple.quicktime.location.name": "Trinity North playing field"})
    (tmp_path / "iphone.mov").write_bytes(_into_moov(data, meta))
    reasons = _location_reasons(tmp_path / "iphone.mov", config)
    assert any("ISO6709" in r.detail and r.extra.get("lat") == pytest.approx(53.8021) for r in reasons)
    assert any("Trinity North playing field" in r.detail for r in reasons)


def test_xmp_in_a_uuid_box_is_found(tmp_path, config):
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,48.126N" '
           b'exif:GPSLongitude="1,32.856W"/></rdf:RDF></x:xmpmeta>')
    uuid = _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + xmp)
    (tmp_path / "xmp.mp4").write_bytes(data + uuid)
    (reason,) = _location_reasons(tmp_path / "xmp.mp4", config)
    assert "XMP in a uuid box" in reason.detail


def test_malformed_location_atom_needs_permission_never_cleared(tmp_path, config):
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    text = b"+9x.1-999.0/"
    xyz = _box(b"\xa9xyz", struct.pack(">HH", len(text), 0) + text)
    (tmp_path / "bad.mp4").write_bytes(_into_moov(data, _box(b"udta", xyz)))
    (reason,) = _location_reasons(tmp_path / "bad.mp4", config)
    assert "malformed" in reason.detail


def test_location_atom_that_does_not_fit_its_parent_is_an_error(tmp_path, config):
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    liar = struct.pack(">I4s", 4000, b"\xa9xyz") + b"+53.8-001.5/"
    (tmp_path / "liar.mp4").write_bytes(_into_moov(data, _box(b"udta", liar)))
    s, d = screen(tmp_path / "liar.mp4", config)
    assert d.status is Status.ERROR
    assert any(r.extra.get("check") == "location" for r in d.reasons)


def _lat_lon(text):
    p = video_metadata.iso6709(text)
    return p.lat, p.lon


def test_iso6709_forms():
    assert _lat_lon("+53.8021-001.5476/") == (53.8021, -1.5476)
    lat, lon = _lat_lon("+534812.6-0013251.3/")
    assert lat == pytest.approx(53.8035) and lon == pytest.approx(-(1 + 32 / 60 + 51.3 / 3600))
    assert _lat_lon("-33.8688+151.2093+058.000CRSWGS_84/") == (-33.8688, 151.2093)
    assert video_metadata.iso6709("+95.0-001.0/").problem
    assert video_metadata.iso6709("somewhere").problem


# ---------------------------------------------------------------- the command line


def test_scan_writes_one_record_per_clip_with_times(tmp_path, monkeypatch):
    (tmp_path / "screening.toml").write_text(TOML)
    (tmp_path / "r.csv").write_text("person_id,name,role,academy,biometric_consent,website,social_media,"
                                    "print,expires,withdrawn\n")
    (tmp_path / "p").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", lambda config, gallery, people=None: checks(config))
    (tmp_path / "clips").mkdir()
    red_clip(tmp_path / "clips" / "face.mp4", start=1.0)
    (tmp_path / "clips" / "cut.mp4").write_bytes((tmp_path / "clips" / "face.mp4").read_bytes()[:3000])
    code = cli.main(["scan", "clips", "--jsonl", "out.jsonl", "--workers", "1"])
    records = {r["path"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert code == 2
    face = records["clips/face.mp4"]
    assert face["status"] == "needs_permission"
    assert face["reasons"][0]["time"] >= 1.0 and face["faces"][0]["time"] == face["reasons"][0]["time"]
    assert records["clips/cut.mp4"]["status"] == "error"


# ---------------------------------------------------------------- the real face engine


@pytest.fixture(scope="module")
def real_faces(public_domain):
    """The real face detector, with the astronaut enrolled as S1001 from a portrait crop."""
    from PIL import Image

    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector
    from screening.consent.gallery import Gallery
    from screening.vision.face_engine import MODEL_VERSION, FaceEngine

    engine = FaceEngine(FaceSettings())
    with Image.open(public_domain / "astronaut.png") as img:
        portrait = np.asarray(img.convert("RGB").crop((100, 0, 356, 300)).resize((384, 450)))
    face = max(engine.locate(portrait), key=lambda f: f.box[2] * f.box[3])
    gallery = Gallery(("S1001",), np.stack([engine.encode(portrait, face.box)]), MODEL_VERSION)
    return FaceDetector(FaceSettings(), gallery, engine)


STAFF = {"S1001": Person("S1001", "Eileen Collins", "staff", "north", True, {"website": True})}


@pytest.mark.slow
@pytest.mark.parametrize("start,at", [(0.0, (10, 10)), (0.9, (190, 90)), (1.97, (100, 40))])
def test_real_face_on_screen_for_one_second_anywhere_is_found(tmp_path, config, public_domain, real_faces,
                                                              start, at):
    picture, face = head(public_domain, 130)
    clip = write_clip(tmp_path / "clip.mp4", 3.0, appearances=(Appearance(picture, start, 1.0, at),))
    s, d = screen(clip, config, faces=real_faces)  # no one enrolled in the rules: unknown
    (reason,) = [r for r in d.reasons if r.kind.value == "unknown_face"]
    assert start <= reason.time < start + 1.0
    x, y, w, h = reason.box
    assert abs(x - (at[0] + face[0])) < 20 and abs(y - (at[1] + face[1])) < 20


@pytest.mark.slow
def test_real_consented_face_throughout_is_cleared(tmp_path, config, public_domain, real_faces):
    picture, _ = head(public_domain, 130)
    clip = write_clip(tmp_path / "clip.mov", 3.0, appearances=(Appearance(picture, 0.0, 3.0, (100, 50)),))
    s, d = screen(clip, config, faces=real_faces, people=STAFF)
    assert d.status is Status.CLEARED, d.reasons
    assert [f.person_id for f in d.faces] == ["S1001"]


# ---------------------------------------------------------------- cost


class CountingLogos:
    def __init__(self):
        self.times = []

    def detect(self, picture, earlier):
        self.times.append(picture.frames[0].shape)
        return []


def test_other_checks_run_at_least_every_half_second_faces_on_every_screened_frame(tmp_path, config):
    faces, logos = RedSquareFaces(), CountingLogos()
    detectors = {**checks(config, faces), Check.LOGOS: logos}
    whole = dataclasses.replace(config.video, change_threshold=0.0)  # no gating: every due frame, whole
    s = pipeline.screen_file(write_clip(tmp_path / "clip.mp4", 4.0), detectors, video=whole)
    screened = int(s.results[0].notes[0].split(": ")[1].split(" frames")[0])
    assert faces.frames == screened
    assert 8 <= len(logos.times) < screened  # 4 s at least every 0.5 s, fewer than every frame


def test_frames_are_shrunk_for_the_checks_but_boxes_are_full_size(tmp_path, config):
    faces = RedSquareFaces()
    clip = red_clip(tmp_path / "clip.mp4", 1.0, start=0.0, shown=1.0, at=(200, 120))
    s = pipeline.screen_file(clip, checks(config, faces), video=VideoSettings(max_side=160))
    (face,) = s.results[2].findings
    assert face.box == pytest.approx((200, 120, 40, 40), abs=2)


def test_html_report_shows_a_strip_of_the_frames_with_findings_and_their_boxes(tmp_path, config):
    from screening.policy import verdict
    from screening.reports.html import HtmlWriter

    clip = write_clip(tmp_path / "clip.mp4", 4.0, appearances=(Appearance(RED, 0.2, 0.6, (20, 20)),
                                                               Appearance(RED, 2.6, 0.6, (250, 180))))
    s = pipeline.screen_file(clip, checks(config), video=config.video)
    writer = HtmlWriter(tmp_path / "report.html")
    writer.write(verdict(s, Rules("website", dt.date(2026, 10, 1))))
    writer.close()
    page = (tmp_path / "report.html").read_text()
    import re

    shown = [float(t) for t in re.findall(r"<figcaption>([\d.]+) s</figcaption>", page)]
    assert len(shown) == 2 and 0.2 <= shown[0] < 0.8 and 2.6 <= shown[1] < 3.2
    assert page.count('class="box face unknown') == 2


# ---------------------------------------------------------------- redact


def _red_pixels(path) -> list[int]:
    """Pure red pixels in every frame of a clip (the stand-in faces)."""
    with video.Clip(path, video.sniff(path.read_bytes()[:32])) as c:
        out = []
        for frame in c.frames():
            rgb = frame.rgb().astype(int)
            out.append(int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum()))
        return out


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_redacted_clip_has_the_face_blurred_in_every_frame_and_no_location(tmp_path, monkeypatch, suffix):
    from screening import redact_video

    (tmp_path / "screening.toml").write_text(TOML)
    (tmp_path / "r.csv").write_text("person_id,name,role,academy,biometric_consent,website,social_media,"
                                    "print,expires,withdrawn\n")
    (tmp_path / "p").mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config(tmp_path / "screening.toml")
    monkeypatch.setattr(pool, "build_detectors", lambda config, gallery, people=None: checks(config))
    monkeypatch.setattr(redact_video, "face_detector", lambda config, gallery: RedSquareFaces())
    # the square moves quickly: the frames between screened ones need the motion margin
    (tmp_path / "in").mkdir()
    clip = write_clip(tmp_path / "in" / f"walk{suffix}", 3.0,
                      appearances=tuple(Appearance(STRIPES, i * 0.04, 0.04, (20 + 3 * i, 40 + i))
                                        for i in range(20, 60)),
                      metadata={"location": "+53.8021-001.5476/"})
    before = sha256(clip)
    assert max(_red_pixels(clip)) > 500
    code = cli.main(["redact", str(clip), "--into", "out", "--workers", "1"])
    copy = tmp_path / "out" / "walk.mp4"
    assert code == 0  # the copy screens cleared: no face, no location left
    assert max(_red_pixels(copy)) == 0
    assert len(_red_pixels(copy)) == len(_red_pixels(clip))
    s, d = screen(copy, config)
    assert d.status is Status.CLEARED and not any("location" in k.lower() for k in video.Clip(
        copy, video.MP4).probe.metadata)
    assert sha256(clip) == before  # the original is untouched


def sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_all_intra_clip_is_not_screened_at_every_frame(tmp_path):
    clip = write_clip(tmp_path / "intra.avi", 2.0, codec="mjpeg")
    with video.Clip(clip, video.AVI) as c:
        times = [s.time for s in video.samples(c.frames(), 0.25, 0.12, 0.04)]
    assert 8 <= len(times) <= 11  # every 0.25 s, first and last: not all 50 keyframes


def test_a_clip_may_run_longer_than_a_photo_before_its_worker_is_taken_for_stuck(tmp_path, config):
    clip = write_clip(tmp_path / "clip.mp4", 0.5)
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.fromarray(RED).save(photo)
    v = config.video
    assert pool.hang_limit(photo, config) == 2 * config.scan.timeout_s + pool.HANG_GRACE_S
    assert pool.hang_limit(clip, config) == (2 * (config.scan.timeout_s + v.max_duration_s * v.seconds_per_clip_second)
                                             + pool.HANG_GRACE_S)


def test_video_settings_out_of_range_are_refused_naming_the_key(tmp_path):
    from screening.config import ConfigError

    (tmp_path / "screening.toml").write_text(TOML + "[video]\nsample_every_s = 2.0\n")
    with pytest.raises(ConfigError, match=r"video\.sample_every_s.*safe range 0\.01 to 0\.5"):
        load_config(tmp_path / "screening.toml")


@pytest.mark.slow
def test_real_face_of_someone_without_consent_is_unrecognisable_in_the_redacted_clip(tmp_path, config, public_domain,
                                                                                    real_faces):
    from screening.redact_video import make_video_copy

    picture, _ = head(public_domain, 130)
    clip = write_clip(tmp_path / "clip.mp4", 2.0, appearances=(Appearance(picture, 0.3, 1.2, (100, 50)),))
    rules = Rules("website", dt.date(2026, 10, 1))  # S1001 is enrolled but not in the register: hide
    copy, frames = make_video_copy(clip, video.MP4, sha256(clip), tmp_path / "out", real_faces, rules,
                                   config.video)
    assert frames >= 25  # 1.2 s at 25 fps: every frame the face is in, not only the screened ones
    s, d = screen(copy, config, faces=real_faces)
    matched = [f for r in s.results for f in r.findings
               if isinstance(f, FaceFinding) and f.candidates and f.candidates[0][1] < 0.6]
    assert not matched


# ---------------------------------------------------------------- the watch job

from .test_watch import job, sorted_files, trust  # noqa: E402,F401  (the watch job's fixtures)


def test_watch_sorts_a_clip_byte_identical_and_waits_for_one_still_arriving(job):
    j = job(grace=30.0)
    whole = write_clip(j.inbox / "sports-day.mp4", 1.0)
    made = sha256(whole)
    arriving = j.inbox / "assembly.mov"
    arriving.write_bytes(whole.read_bytes()[:2000])  # a copy pausing part-way: young, so deferred
    j.run_for(2.0)
    assert sorted_files(j.into) == {"sports-day.mp4": "cleared"}
    assert sha256(j.into / "cleared" / "sports-day.mp4") == made
    assert arriving.exists() and j.lines("deferred")


# ---------------------------------------------------------------- streams that are not screened


def test_a_camera_timecode_track_is_allowed(tmp_path, config):
    import av

    plain = write_clip(tmp_path / "plain.mov", 1.0, metadata={"timecode": "01:00:00:00"})
    face = red_clip(tmp_path / "face.mov", metadata={"timecode": "01:00:00:00"})
    with av.open(str(plain)) as check:
        assert [s.type for s in check.streams] == ["video", "data"]
    assert screen(plain, config)[1].status is Status.CLEARED
    assert screen(face, config)[1].status is Status.NEEDS_PERMISSION


def _retyped_timecode_track(tmp_path, config) -> bytearray:
    data = bytearray(write_clip(tmp_path / "tc.mov", 1.0, metadata={"timecode": "01:00:00:00"}).read_bytes())
    at = data.find(b"stsd")
    while at > 0 and data[at + 16:at + 20] != b"tmcd":
        at = data.find(b"stsd", at + 4)
    assert at > 0
    data[at + 16:at + 20] = b"mebx"
    return data


def test_timed_metadata_track_with_unknown_keys_is_error(tmp_path, config):
    (tmp_path / "mebx.mov").write_bytes(_retyped_timecode_track(tmp_path, config))
    _assert_error(tmp_path / "mebx.mov", config, "a timed metadata track (mebx: no keys) is not screened")


def test_only_timed_metadata_keys_known_to_be_harmless_are_allowed():
    def key(name: str) -> bytes:
        keyd = _box(b"keyd", b"mdta" + name.encode())
        return _box(b"\x00\x00\x00\x01", keyd)

    entry = _box(b"mebx", bytes(8) + _box(b"keys", key("com.apple.quicktime.video-orientation")
                                       + key("com.apple.quicktime.location.ISO6709")))
    keys = tuple(video._mebx_keys(entry))
    assert keys == ("com.apple.quicktime.video-orientation", "com.apple.quicktime.location.ISO6709")
    assert keys[0] in video.HARMLESS_MEBX_KEYS and keys[1] not in video.HARMLESS_MEBX_KEYS

"""Red team 26: what a player, an editor or a publishing platform shows of a clip or a photo that
the checks do not see, and the review commands given hostile paths. Each hostile file is built
here; the SAFE outcome is asserted beside a control showing the same content is found when shown
plainly. A case the product gets wrong is xfail(strict=True) with "RT26-N" in its reason: when a fix
lands the test passes, the xfail fails, and the mark must go.

Faces in clips are the stand-in of tests/test_video.py (a pure red square is a face) unless the
case needs the real face engine (a face drawn by a transparency plane: the two public-domain people
of tests/test_redteam10.py, the cameraman without consent for the website).

Fixed in 0.12.0: a face drawn by the alpha plane of a ProRes 4444 / PNG / QuickTime Animation / FFV1
clip is an error (RT26-1); `recheck` prints paths and details through for_terminal, a caption's '[/]'
no longer crashes it (RT26-2); a clip whose file changes while it is screened is an error, in scan and in
watch (RT26-3); a mid-stream size change is shown with the pixel shape at its own size (RT26-4);
interlaced frames are screened as players show them (RT26-5); watch sorts a new inode (RT26-6); a
pupil's name in the file name is read (RT26-8); a 360-degree photo is also screened as six perspective
views (RT26-7).
Safe: a face clip appended after a clean one (MKV, WebM, AVI, MP4); clips in containers not screened
(MTS, MPG, WMV, FLV, raw H.264) are errors; a square-pixel size change mid-stream."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from screening.model import Status

from .test_redteam6 import config  # noqa: F401  (the fixture)
from .test_redteam10 import PEOPLE, resized, two_people  # noqa: F401  (two_people: the fixture)
from .test_video import screen

av = pytest.importorskip("av")


# ================================================================ RT26-1: a face drawn by the alpha plane of
# a ProRes 4444 / PNG / QuickTime Animation / FFV1 clip (RT10-7 refused VP8/VP9 alpha only)

ALPHA_CODECS = {  # codec: (container, suffix, pixel format with alpha)
    "prores_ks": ("mov", ".mov", "yuva444p10le"),  # ProRes 4444: what Final Cut / Premiere export with transparency
    "png": ("mov", ".mov", "rgba"),
    "qtrle": ("mov", ".mov", "argb"),  # QuickTime Animation
    "ffv1": ("matroska", ".mkv", "yuva420p"),
}


def alpha_clip(path: Path, cam: np.ndarray, codec: str, *, in_alpha: bool) -> Path:
    """Colour planes black everywhere and the cameraman's head drawn by the alpha alone (opaque where
    he is dark: on a white page, an editor's white background or a slide, he shows in grey), or
    (control) drawn plainly in the colour planes, fully opaque."""
    fmt, _, pix = ALPHA_CODECS[codec]
    head = resized(cam, 200).astype(np.float32).mean(axis=2)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, pix
        for i in range(15):
            rgba = np.zeros((240, 320, 4), np.uint8)
            if in_alpha:
                rgba[20:220, 100:100 + head.shape[1], 3] = (255 - head).astype(np.uint8)
            else:
                rgba[..., :3], rgba[..., 3] = 255, 255
                rgba[20:220, 100:100 + head.shape[1], :3] = head[..., None].astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=pix)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def on_white(path: Path) -> np.ndarray:
    """The last frame as an alpha-aware player or editor shows it over white."""
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            rgba = frame.to_ndarray(format="rgba").astype(np.float32)
    alpha = rgba[..., 3:] / 255
    return (rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)


@pytest.mark.parametrize("codec", list(ALPHA_CODECS))
def test_rt26_control_a_face_drawn_plainly_in_a_clip_of_a_codec_with_alpha_is_found(tmp_path, config, two_people,
                                                                                     codec):
    detector, _, cam = two_people
    path = alpha_clip(tmp_path / f"plain{ALPHA_CODECS[codec][1]}", cam, codec, in_alpha=False)
    _, d = screen(path, config, faces=detector, people=PEOPLE)
    assert "no_consent" in {r.kind.value for r in d.reasons}, d.reasons


@pytest.mark.parametrize("codec", list(ALPHA_CODECS))
def test_rt26_1_a_face_drawn_only_by_the_alpha_plane_is_not_cleared(tmp_path, config, two_people, codec):
    from PIL import Image

    detector, _, cam = two_people
    path = alpha_clip(tmp_path / f"ghost{ALPHA_CODECS[codec][1]}", cam, codec, in_alpha=True)
    Image.fromarray(on_white(path)).save(tmp_path / "as_shown.png")
    _, seen = screen(tmp_path / "as_shown.png", config, faces=detector, people=PEOPLE)
    assert [f.person_id for f in seen.faces] == ["S1002"], seen.reasons  # shown over white: he is recognised
    _, d = screen(path, config, faces=detector, people=PEOPLE)
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ RT26-2: `recheck` prints file paths as rich markup


from .test_audit import photo, run, scan, trust, withdraw_consent  # noqa: E402,F401  (trust: the fixture)

HOSTILE_NAMES = {
    "newline": "pupil.png\nneeds_permission -> cleared OK.png",  # a fake line under the real one
    "markup": "[green]pupil.png",  # printed as "pupil.png": another file's name
}


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_rt26_2_recheck_lists_a_withdrawn_consent_under_the_files_real_name(trust, capsys, kind):
    """The control is the same test's plain file: it is listed, and the summary counts both."""
    from screening.textsafe import printable

    name = HOSTILE_NAMES[kind]
    photo(trust / "batch" / name, (0, 255, 0))
    photo(trust / "batch" / "plain.png", (0, 255, 0))
    assert scan("batch") == 0
    withdraw_consent(trust)
    capsys.readouterr()
    assert run("recheck") == 1
    out = capsys.readouterr().out
    assert "2 image(s) that were cleared are no longer" in out and "batch/plain.png" in out
    # the name as written, on one line: what rich shows of for_terminal(name) is printable(name)
    assert printable(str(trust / "batch" / name)) in out, out
    assert not any(line.startswith("needs_permission -> cleared") for line in out.splitlines()), out


# ================================================================ RT26-3: a clip that changes while it is screened


def _clip_checks(config, gallery, people=None):
    from .test_video import checks

    return checks(config)  # the stand-in face engine: a pure red square is a face


def _two_clips(tmp_path):
    from .clips import Appearance, write_clip
    from .test_video import RED

    face = write_clip(tmp_path / "face.mp4", 2.0, appearances=(Appearance(RED, 0.0, 2.0, (100, 80)),)).read_bytes()
    clean = write_clip(tmp_path / "clean.mp4", 2.0).read_bytes()
    return face, clean


def _swap_during_screening(monkeypatch, path: Path, content: bytes) -> None:
    """The clip's bytes are replaced right after they were hashed, before they are decoded (a sync
    client or a colleague saving over it; in the watch inbox, a hostile uploader)."""
    from screening.formats import video

    real = video.check_structure
    swapped = []

    def swap_then_check(p, fmt):
        if Path(p).resolve() == path.resolve() and not swapped:
            path.write_bytes(content)
            swapped.append(p)
        return real(p, fmt)

    monkeypatch.setattr(video, "check_structure", swap_then_check)


def test_rt26_3_a_clip_replaced_while_screened_never_leaves_its_hash_cleared(trust, monkeypatch, tmp_path):
    from screening import pool

    monkeypatch.setattr(pool, "build_detectors", _clip_checks)
    face, clean = _two_clips(tmp_path)
    path = trust / "batch" / "clip.mp4"
    path.write_bytes(face)
    _swap_during_screening(monkeypatch, path, clean)
    first = scan("batch")
    record = json.loads((trust / "out.jsonl").read_text())
    path.write_bytes(face)  # the face clip again, byte for byte
    again = scan("batch")  # (the swap happens once)
    assert not (record["status"] == "cleared" and record["sha256"] == hashlib.sha256(face).hexdigest()), record
    assert (first, again) != (0, 0)
    assert again != 0  # the face clip itself is never answered `cleared` from the cache


def test_rt26_control_the_same_face_clip_scanned_plainly_needs_permission(trust, monkeypatch, tmp_path):
    from screening import pool

    monkeypatch.setattr(pool, "build_detectors", _clip_checks)
    face, clean = _two_clips(tmp_path)
    (trust / "batch" / "clip.mp4").write_bytes(face)
    assert scan("batch") == 1
    (trust / "batch" / "clip.mp4").write_bytes(clean)
    assert scan("batch") == 0


def _watch_trust(tmp_path, monkeypatch):
    from screening import pool
    from screening.trust import Trust

    from .test_config_register import write_trust

    write_trust(tmp_path)
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", _clip_checks)
    monkeypatch.setattr(Trust, "enrol", lambda self: None)  # the stand-in needs no face encodings
    return tmp_path


def _run_until_sorted(job, name: str, limit_s: float = 120.0) -> dict[str, str]:
    """Cycle the job until `name` is sorted (or the limit passes: then it is simply not sorted)."""
    import time

    from .test_watch import sorted_files

    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        job.run_for(0.3)
        where = sorted_files(job.into)
        if name in where:
            return where
    return sorted_files(job.into)


@pytest.mark.parametrize("swap", [False, True],
    ids=["control", "swapped"])
def test_rt26_3_watch_never_sorts_a_face_clip_into_cleared(tmp_path, monkeypatch, swap):
    """A hostile uploader (the inbox is untrusted) saves a clean clip over their face clip while the job
    decodes it, and the face clip back before the job moves it: the move's sha256 check compares with
    the hash taken before decoding, so it matches."""
    from screening import video_screening

    from .test_watch import Job

    root = _watch_trust(tmp_path, monkeypatch)
    face, clean = _two_clips(tmp_path / "inbox")
    for made in ("face.mp4", "clean.mp4"):
        (root / "inbox" / made).unlink()
    path = root / "inbox" / "clip.mp4"
    path.write_bytes(face)
    if swap:
        _swap_during_screening(monkeypatch, path, clean)
        real = video_screening.screen_clip

        def then_back(p, *a, **kw):
            try:
                return real(p, *a, **kw)
            finally:
                path.write_bytes(face)

        monkeypatch.setattr(video_screening, "screen_clip", then_back)
    job = Job(root)
    try:
        where = _run_until_sorted(job, "clip.mp4")
    finally:
        job.close()
    assert where.get("clip.mp4") in ("needs-permission", "error"), where
    assert hashlib.sha256((job.into / where["clip.mp4"] / "clip.mp4").read_bytes()).hexdigest() == \
        hashlib.sha256(face).hexdigest()


# ================================================================ RT26-4: non-square pixels and a picture size
# that changes mid-stream (DV/HDV camcorder footage, a recording of an adaptive stream)

SMALL, BIG = (320, 240), (1920, 1440)


def _resized_clip(path: Path, fmt: str, sizes: list[tuple[tuple[int, int], bool]], sar=None) -> Path:
    """Motion JPEG (every frame its own picture, as old cameras write it): each frame at its own size,
    with a 40 px stand-in face at (200, 100) where asked; `sar` the pixel shape every frame declares."""
    from fractions import Fraction

    from .test_video import RED

    rate = Fraction(1, 10)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height = sizes[0][0]
        stream.pix_fmt = "yuvj420p"
        if sar:
            stream.codec_context.sample_aspect_ratio = sar
        encoders = {}
        for i, (size, face) in enumerate(sizes):
            if size not in encoders:
                enc = encoders[size] = av.CodecContext.create("mjpeg", "w")
                enc.width, enc.height, enc.pix_fmt, enc.time_base = *size, "yuvj420p", rate
                if sar:
                    enc.sample_aspect_ratio = sar
            pixels = np.full((size[1], size[0], 3), 90, np.uint8)
            pixels[::7] = 140
            if face:
                pixels[100:140, 200:240] = RED
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuvj420p")
            frame.pts = i
            for packet in encoders[size].encode(frame):
                packet.stream, packet.time_base, packet.pts, packet.dts = stream, rate, i, i
                out.mux(packet)
    return path


@pytest.mark.parametrize("fmt,suffix", [("matroska", ".mkv"), ("mov", ".mov")])
@pytest.mark.parametrize("sar", [None, (16, 15)], ids=["square", "pal-dv"])
def test_rt26_control_a_face_in_frames_of_the_first_size_is_found(tmp_path, config, fmt, suffix, sar):
    from fractions import Fraction

    path = _resized_clip(tmp_path / f"clip{suffix}", fmt, [(SMALL, False)] * 10 + [(SMALL, True)] * 10,
                         Fraction(*sar) if sar else None)
    _, d = screen(path, config)
    assert [r.kind.value for r in d.reasons] == ["unknown_face"], d.reasons


@pytest.mark.parametrize("fmt,suffix", [("matroska", ".mkv"), ("mov", ".mov")])
def test_rt26_4_control_square_pixels_a_face_after_the_size_changes_is_found(tmp_path, config, fmt, suffix):
    path = _resized_clip(tmp_path / f"clip{suffix}", fmt, [(SMALL, False)] * 10 + [(BIG, True)] * 10)
    _, d = screen(path, config)
    assert d.status is not Status.CLEARED and "unknown_face" in {r.kind.value for r in d.reasons}, d.reasons


@pytest.mark.parametrize("fmt,suffix", [("matroska", ".mkv"), ("mov", ".mov")])
def test_rt26_4_non_square_pixels_a_face_after_the_size_changes_is_found(tmp_path, config, fmt, suffix):
    from fractions import Fraction

    path = _resized_clip(tmp_path / f"clip{suffix}", fmt, [(SMALL, False)] * 10 + [(BIG, True)] * 10,
                         Fraction(16, 15))
    with av.open(str(path)) as c:  # what a player is given: the later frames at their own 1920x1440
        sizes = {(f.width, f.height) for f in c.decode(c.streams.video[0])}
    assert sizes == {SMALL, BIG}
    _, d = screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ resisted: a face clip appended to a clean one


@pytest.mark.parametrize("suffix", [".mkv", ".webm", ".avi", ".mp4"])
def test_rt26_a_face_clip_appended_after_a_clean_clip_is_not_cleared(tmp_path, config, suffix):
    """`cat clean face > out`: a second Matroska segment (FFmpeg reads its clusters on), a second AVI
    RIFF (more frames than the header declares: an error), a second ftyp/moov/mdat (an error)."""
    from .clips import Appearance, write_clip
    from .test_video import RED

    face = write_clip(tmp_path / f"face{suffix}", 2.0, appearances=(Appearance(RED, 0.0, 2.0, (100, 80)),))
    clean = write_clip(tmp_path / f"clean{suffix}", 2.0)
    _, alone = screen(clean, config)
    assert alone.status is Status.CLEARED, alone.reasons  # control: the clean clip alone
    both = tmp_path / f"both{suffix}"
    both.write_bytes(clean.read_bytes() + face.read_bytes())
    _, d = screen(both, config)
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ RT26-5: interlaced video (1080i camcorders: AVCHD)

FIELD_SHIFT = 30  # px the head moves between the two fields of a frame: a pupil walking past (1/50 s)


def _interlaced_clip(path: Path, cam: np.ndarray, *, interlaced: bool) -> Path:
    """1 s of 1280 x 720 at 25 frames (50 fields) a second: the cameraman's head (200 px tall) walks
    right. Interlaced: each frame's top field (even rows) shows him at x, its bottom field (odd rows)
    1/50 s later at x + FIELD_SHIFT, coded as interlaced H.264 (x264 `interlaced=1`), as a 1080i
    camcorder records him; a player deinterlaces it and shows him whole in every field. Control: the
    same walk, progressive, each frame one instant."""
    from .clips import scene

    head = resized(cam, 200)
    h, w = head.shape[:2]
    back = scene((1280, 720), 2, 0.0)(0.0)

    def at(x):
        pixels = back.copy()
        pixels[200:200 + h, x:x + w] = head
        return pixels

    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        if interlaced:
            stream.codec_context.options = {"x264-params": "interlaced=1:tff=1"}
        for i in range(25):
            x = (2 * FIELD_SHIFT * i) % (1280 - w - FIELD_SHIFT)
            pixels = at(x)
            if interlaced:
                pixels[1::2] = at(x + FIELD_SHIFT)[1::2]
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_rt26_control_a_pupil_walking_past_in_a_progressive_clip_is_found(tmp_path, config, two_people):
    detector, _, cam = two_people
    _, d = screen(_interlaced_clip(tmp_path / "progressive.mp4", cam, interlaced=False), config, faces=detector,
                  people=PEOPLE)
    assert "no_consent" in {r.kind.value for r in d.reasons}, d.reasons


def test_rt26_5_a_pupil_walking_past_in_an_interlaced_clip_is_not_cleared(tmp_path, config, two_people):
    detector, _, cam = two_people
    path = _interlaced_clip(tmp_path / "interlaced.mp4", cam, interlaced=True)
    with av.open(str(path)) as c:  # the decoder says so: players deinterlace such frames
        first = next(c.decode(c.streams.video[0]))
        assert first.interlaced_frame
        field = first.to_ndarray(format="rgb24")[0::2]  # the top field, as a bob deinterlacer shows it
    from PIL import Image

    Image.fromarray(field).resize((1280, 720)).save(tmp_path / "field.png")
    _, seen = screen(tmp_path / "field.png", config, faces=detector, people=PEOPLE)
    assert seen.status is not Status.CLEARED, seen.reasons  # he is there in the field a player shows
    _, d = screen(path, config, faces=detector, people=PEOPLE)
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ RT26-6: a file written through a handle kept
# open after the job moved it (the move is a hard link or a rename: the same inode)


def _colour_trust(tmp_path, monkeypatch):
    from screening import pool
    from screening.trust import Trust

    from . import fake_detectors
    from .test_config_register import write_trust

    write_trust(tmp_path)
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fake_detectors.by_colour)  # red: GPS, needs permission
    monkeypatch.setattr(Trust, "enrol", lambda self: None)
    return tmp_path


def _png(colour) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(out, "PNG")
    return out.getvalue()


def test_rt26_control_a_red_photo_dropped_plainly_needs_permission(tmp_path, monkeypatch):
    from .test_watch import Job

    root = _colour_trust(tmp_path, monkeypatch)
    (root / "inbox" / "p.png").write_bytes(_png((255, 0, 0)))
    job = Job(root)
    try:
        assert _run_until_sorted(job, "p.png") == {"p.png": "needs-permission"}
    finally:
        job.close()


def test_rt26_6_a_handle_kept_open_cannot_change_a_file_in_cleared(tmp_path, monkeypatch):
    from .test_watch import Job

    root = _colour_trust(tmp_path, monkeypatch)
    clean, red = _png((0, 0, 255)), _png((255, 0, 0))
    path = root / "inbox" / "p.png"
    path.write_bytes(clean)
    job = Job(root)
    with open(path, "r+b") as handle:  # the uploader's handle, kept open, idle for longer than --settle
        try:
            assert _run_until_sorted(job, "p.png") == {"p.png": "cleared"}
        finally:
            job.close()
        handle.seek(0)
        handle.truncate()
        handle.write(red)
    assert (job.into / "cleared" / "p.png").read_bytes() == clean  # what was screened, byte for byte


# ================================================================ RT26-7: a 360-degree photo (photo sphere)

GPANO = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
         '<rdf:Description xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" GPano:ProjectionType='
         '"equirectangular" GPano:UsePanoramaViewer="True" GPano:FullPanoWidthPixels="2048" '
         'GPano:FullPanoHeightPixels="1024" GPano:CroppedAreaImageWidthPixels="2048" '
         'GPano:CroppedAreaImageHeightPixels="1024" GPano:CroppedAreaLeftPixels="0" GPano:CroppedAreaTopPixels="0"/>'
         '</rdf:RDF></x:xmpmeta>')
VIEW = 512  # the viewer's window, 90 degrees across


def _view(cam: np.ndarray) -> np.ndarray:
    """What a 360 viewer shows looking up 68 degrees: the cameraman's head (100 px) in the middle."""
    from .clips import scene

    pixels = scene((VIEW, VIEW), 4, 0.0)(0.0)
    head = resized(cam, 100)
    h, w = head.shape[:2]
    pixels[VIEW // 2 - h // 2:VIEW // 2 - h // 2 + h, VIEW // 2 - w // 2:VIEW // 2 - w // 2 + w] = head
    return pixels


def _sphere(view: np.ndarray, elevation_deg: float = 68.0) -> np.ndarray:
    """The equirectangular 2048 x 1024 photo (Insta360, Ricoh Theta, a phone's photo sphere) whose
    perspective view at `elevation_deg` up is `view`: remapped as the viewer maps it back."""
    import cv2

    from .clips import scene

    W, H = 2048, 1024
    out = scene((W, H), 5, 0.0)(0.0)
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    lon, lat = (u / W - 0.5) * 2 * np.pi, (0.5 - v / H) * np.pi
    d = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)], -1)
    e = np.radians(elevation_deg)
    fwd, up = np.array([0, np.sin(e), np.cos(e)]), np.array([0, np.cos(e), -np.sin(e)])
    xc, yc, zc = d[..., 0], d @ up, d @ fwd
    with np.errstate(divide="ignore", invalid="ignore"):
        px = VIEW / 2 + xc / zc * VIEW / 2
        py = VIEW / 2 - yc / zc * VIEW / 2
    inside = (zc > 0.1) & (px >= 0) & (px < VIEW - 1) & (py >= 0) & (py < VIEW - 1)
    mapped = cv2.remap(view, np.where(inside, px, 0).astype(np.float32), np.where(inside, py, 0).astype(np.float32),
                       cv2.INTER_LINEAR)
    out[inside] = mapped[inside]
    return out


def test_rt26_control_the_view_a_360_viewer_shows_is_found(tmp_path, config, two_people):
    from PIL import Image

    detector, _, cam = two_people
    Image.fromarray(_view(cam)).save(tmp_path / "view.png")
    _, d = screen(tmp_path / "view.png", config, faces=detector, people=PEOPLE)
    assert "no_consent" in {r.kind.value for r in d.reasons}, d.reasons


def test_rt26_7_a_face_looked_up_at_in_a_360_photo_is_not_cleared(tmp_path, config, two_people):
    from PIL import Image, PngImagePlugin

    detector, _, cam = two_people
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", GPANO)
    Image.fromarray(_sphere(_view(cam))).save(tmp_path / "sphere.png", pnginfo=info)
    _, d = screen(tmp_path / "sphere.png", config, faces=detector, people=PEOPLE)
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ RT26-8: a pupil's full name in the file's name


def test_rt26_8_a_pupils_name_in_the_file_name_is_not_cleared(tmp_path, config):
    from PIL import Image

    from .test_redteam6 import backdrop, kinds, verdict

    path = tmp_path / "Amelia Hart - Year 4 sports day.jpg"
    Image.fromarray(backdrop()).save(path)
    _, d = verdict(path, config)
    assert "text" in kinds(d), d.reasons


def test_rt26_control_the_same_name_in_the_photos_caption_is_found(tmp_path, config):
    from PIL import Image

    from .test_redteam6 import backdrop, kinds, verdict

    path = tmp_path / "IMG_0042.jpg"
    exif = Image.Exif()
    exif[0x010E] = "Amelia Hart - Year 4 sports day"  # ImageDescription
    Image.fromarray(backdrop()).save(path, exif=exif.tobytes())
    _, d = verdict(path, config)
    assert "text" in kinds(d), d.reasons


def _with_caption_reader(config, gallery, people=None):
    from screening.detectors.text import TextDetector
    from screening.model import Check

    from .test_audit import fakes
    from .test_redteam6 import ReadsNothing

    found = fakes(config, gallery)  # a green first pixel: staff P1's face (consented until withdrawn)
    found[Check.TEXT] = TextDetector(config, [("P1", "Pat Teacher")], engine=ReadsNothing())  # captions read
    return found


def test_rt26_2_a_caption_with_markup_cannot_stop_recheck_listing_what_to_take_down(trust, monkeypatch, capsys):
    from PIL import Image

    from screening import pool

    monkeypatch.setattr(pool, "build_detectors", _with_caption_reader)
    exif = Image.Exif()
    exif[0x010E] = "Pat Teacher [/] at sports day"  # ImageDescription: the caption names P1
    Image.fromarray(np.full((40, 60, 3), (0, 255, 0), np.uint8)).save(trust / "batch" / "staff.jpg",
                                                                      exif=exif.tobytes())
    photo(trust / "batch" / "plain.png", (0, 255, 0))
    assert scan("batch") == 1  # the caption names P1: needs permission
    assert run("permit", "batch/staff.jpg", "--by", "J. Smith", "--note", "P1 agreed to be named") == 0
    assert scan("batch") == 0
    withdraw_consent(trust)
    capsys.readouterr()
    try:
        code = run("recheck")
    except Exception as exc:  # noqa: BLE001  (what the user gets: a traceback, no list)
        code = repr(exc)
    out = capsys.readouterr().out
    assert code == 1, code
    assert "staff.jpg" in out and "plain.png" in out and "2 image(s) that were cleared are no longer" in out


# ================================================================ resisted: containers not listed (AVCHD .MTS, .MPG, .WMV...)


@pytest.mark.parametrize("fmt,codec,name", [("mpegts", "libx264", "00001.MTS"), ("mpeg", "mpeg2video", "MOV001.MPG"),
                                            ("asf", "wmv2", "clip.wmv"), ("flv", "flv", "clip.flv"),
                                            ("ogg", "libtheora", "clip.ogv"), ("h264", "libx264", "clip.264")])
def test_rt26_a_face_clip_in_a_container_not_screened_is_never_cleared(tmp_path, config, fmt, codec, name):
    """AVCHD camcorders write MPEG-TS (.MTS), DVD camcorders MPEG-PS; Windows phones WMV: none is in the
    list of containers screened, so each must come back an error, never cleared (nor skipped)."""
    from .test_video import RED

    if codec not in av.codecs_available:
        pytest.skip(f"no {codec} encoder in this PyAV")
    path = tmp_path / name
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(25):
            pixels = np.full((240, 320, 3), 90, np.uint8)
            pixels[100:140, 100:140] = RED
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    _, d = screen(path, config)
    assert d.status is Status.ERROR, d.reasons

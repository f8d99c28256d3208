"""Finds every face in an upright RGB image and turns a face into dlib's 128-d descriptor.

Recall first: a missed face is a pupil cleared without consent. Faces are found by CenterFace
(a single-shot CNN, `vision/centerface.py`) on a pyramid of views planned so that *every face
at least `min_face_search` pixels wide in the original is searched at a size the detector finds
reliably*, whatever the photo's size or shape:

- the finest view is the photo scaled by `fine_scale()`: at most 1, at least
  DETECTOR_MIN_FACE / min_face_search (a 40 px face becomes 24 px, which CenterFace finds with
  confidence 0.75 or more, docs/faces.md), and never smaller than `detail_side` pixels long;
- each further view is a quarter of the one before, until one view fits in a single tile;
- a view larger than TILE is searched in TILE x TILE tiles overlapping by OVERLAP pixels, so
  every face up to OVERLAP pixels in that view lies whole inside some tile; larger faces are
  at least OVERLAP / 4 >= DETECTOR_MIN_FACE pixels in the next view.

Boxes from every tile and view are merged (the same face: their intersection covers half the
smaller box). A weak detection is kept only if a second look, on a crop around it enlarged so
the face is CONFIRM_SIDE pixels wide, finds it again (docs/faces.md: the false faces).

dlib's 5-point landmarks and ResNet recogniser (face_recognition_models) encode each face; the ResNet
runs on onnxruntime (vision/recogniser.py), converted from dlib's file and checked against dlib.
Models load when a FaceEngine is built, never at import.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screening.config import FaceSettings
from screening.model import Box
from screening.vision.face_quality import too_poor
from screening.vision.geometry import cover
from screening.vision.recogniser import Recogniser

RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"

# Everything that changes the numbers encode() returns: recogniser, landmark model, chip, jitter,
# and the mirror average: each face is encoded as it is and mirrored, and the two descriptors
# averaged (deterministic, unlike dlib's random jitter). On deepface pairs.csv it took the false
# non-matches at tolerance 0.45 from 28/140 to 21/140, with no false match (docs/faces.md).
NUM_JITTERS = 1
CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's own default around the aligned face
MIRROR_AVERAGE = True
MODEL_VERSION = f"dlib_resnet_v1+sp5+chip{CHIP_SIZE}+jitter{NUM_JITTERS}" + ("+mirroravg" if MIRROR_AVERAGE else "")

# The smallest face (width, pixels of the view searched) CenterFace finds reliably: astronaut
# faces pasted at 20-24 px on a photo were all found with confidence 0.73-0.85; at 16 px some
# fell to 0.27 and at 14 px most were missed (bench/bench_faces.py, "smallest face").
DETECTOR_MIN_FACE = 24
# Views larger than TILE pixels (either side) are searched tile by tile, tiles overlapping by
# OVERLAP pixels; the next view is VIEW_STEP times smaller. OVERLAP * VIEW_STEP must be at least
# DETECTOR_MIN_FACE (a face too large to lie whole in a tile is found in the next view).
# The face box is up to 1.4 times as tall as wide: a face narrower than DETECTOR_MIN_FACE / VIEW_STEP
# (96 px) is at most 134 px tall, so it lies whole inside some tile. TILE bounds the memory one
# detector run takes (about 650 MB at 1280 x 1280).
TILE = 1280
OVERLAP = 192
VIEW_STEP = 0.25
GREY = (128, 128, 128)
# A detection scoring at least this is kept at once; one scoring at least settings.detect_threshold
# but under this must be found again on a crop around it scaled so the face is one of CONFIRM_SIDES
# px wide, with CONFIRM_SCORE. Measured (docs/faces.md): the selfie's face cut by the photo's edge
# (0.43) is found again at 0.62; fabric in img28.jpg (0.41) at 0.09.
STRONG = 0.6
CONFIRM_SIDES = (48, 64)
CONFIRM_SCORE = 0.5
# Photos turned a quarter or half turn (orientation tag lost): searched once per turn on a copy
# this long (faces of 24/640 = 3.75% of the long side and larger), confident detections only.
TURNED_SIDE = 640
TURNED_SCORE = 0.7
# Two boxes are one face when their intersection covers this share of the smaller box.
SAME_FACE_OVERLAP = 0.5
# CenterFace's box (forehead to chin) moved to the geometry of the boxes dlib's landmark model was
# trained on (brows to lip): side 1.08 of its width, centre 5% of its height lower; medians over
# the 43 dlib truth faces (1.11 and 5.4%) and the astronaut's HOG box (1.02).
HOG_SIDE = 1.08
HOG_SHIFT_Y = 0.05
# A probe's mirror image is encoded only when its plain descriptor lies within this much of the
# tolerance from someone enrolled: the average moves any distance by at most half the
# descriptor-to-mirror distance, which was at most 0.13 (median 0.09) over the 65 deepface
# faces (docs/faces.md, "Speed"); further away, the mirror could not make a match.
MIRROR_NEAR = 0.2


@dataclass(frozen=True)
class Located:
    box: Box  # [left, top, width, height] upright full-res pixels, dlib (HOG-like) geometry
    score: float  # detector confidence
    source: str  # where it was found: "centerface@0.60" (the view's scale), "+confirmed" if weak
    landmarks: tuple[tuple[float, float], ...] = ()  # CenterFace's 5 points, full-res pixels


@dataclass(frozen=True)
class View:
    scale: float  # view pixels per original pixel
    width: int  # the whole view's size
    height: int
    tiles: tuple[tuple[int, int, int, int], ...]  # x0, y0, x1, y1 in view pixels


def models_dir() -> Path:
    """face_recognition_models' model folder, found without running its __init__ (pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face_recognition_models package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    if not folder.is_dir():
        raise RuntimeError(f"{folder}: face model folder missing")
    return folder


@functools.lru_cache(maxsize=None)
def _landmark_model(path: str):
    """dlib's 5-point shape predictor (read-only once loaded), loaded once per process."""
    import dlib

    return dlib.shape_predictor(path)


def fine_scale(width: int, height: int, settings: FaceSettings) -> float:
    """Scale of the finest view: a `min_face_search` px face becomes DETECTOR_MIN_FACE px or more."""
    long_side = max(width, height)
    least = DETECTOR_MIN_FACE / max(1, settings.min_face_search)
    return min(1.0, max(least, settings.detail_side / max(1, long_side)))


def plan(width: int, height: int, settings: FaceSettings, scale: float | None = None) -> list[View]:
    """The views (and their tiles) that together search every face >= min_face_search px;
    `scale`: the finest view's, instead of `fine_scale()` (a crop of a video frame is searched
    at the scale of its whole frame)."""
    views = []
    scale = fine_scale(width, height, settings) if scale is None else min(1.0, scale)
    while True:
        vw, vh = max(1, round(width * scale)), max(1, round(height * scale))
        views.append(View(scale, vw, vh, tuple(_tiles(vw, vh))))
        if vw <= TILE and vh <= TILE:
            return views
        scale = max(scale * VIEW_STEP, TILE / max(width, height))


def _tiles(vw: int, vh: int):
    """Tiles of at most TILE px, evenly spread, neighbours overlapping by at least OVERLAP px."""
    def spans(n: int) -> list[tuple[int, int]]:
        if n <= TILE:
            return [(0, n)]
        count = -(-(n - OVERLAP) // (TILE - OVERLAP))
        size = -(-(n + (count - 1) * OVERLAP) // count)
        starts = [round(i * (n - size) / (count - 1)) for i in range(count)]
        return [(s, s + size) for s in starts]
    for y0, y1 in spans(vh):
        for x0, x1 in spans(vw):
            yield (x0, y0, x1, y1)


def cost_pixels(width: int, height: int, settings: FaceSettings) -> int:
    """Pixels the detector runs on for a photo of this size (tiles counted with their overlap)."""
    return sum((x1 - x0) * (y1 - y0) for v in plan(width, height, settings) for x0, y0, x1, y1 in v.tiles)


class FaceEngine:
    """CenterFace finding and dlib encoding, built once per worker process.

    `threads`: onnxruntime's intra-op threads. None takes OpenCV's thread count, which the scan's
    pool sets to 1 in each worker (the pool is the parallelism; more threads only fight).
    `fast=False`: dlib's own recogniser even where the onnxruntime one is available (benchmarks)."""

    def __init__(self, settings: FaceSettings, threads: int | None = None, fast: bool = True):
        import cv2
        import dlib

        from screening.vision.centerface import CenterFace

        folder = models_dir()
        threads = threads if threads is not None else max(1, cv2.getNumThreads())
        self.settings = settings
        self._landmarks = _landmark_model(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self._resnet_file, self._resnet = folder / RESNET_FILE, None  # dlib's: loaded when first needed
        # The same network on onnxruntime (vision/recogniser.py), checked against dlib at start-up;
        # None (dlib's own recogniser is used) if it cannot be built or disagrees.
        self._fast = Recogniser.cached(self._resnet_file, self._dlib_resnet, threads) if fast else None
        self.recogniser = "onnxruntime" if self._fast is not None else "dlib"
        self._detector = CenterFace(threads)
        self._dlib = dlib

    # ------------------------------------------------------------------ finding faces

    def locate(self, rgb: np.ndarray, scale: float | None = None) -> list[Located]:
        """Every face, recall first, deduplicated across tiles and views, largest first; `scale`:
        the finest view's scale, instead of the one `plan()` gives the picture's size."""
        rgb = _checked(rgb)
        h, w = rgb.shape[:2]
        found = []
        for view in plan(w, h, self.settings, scale):
            image = _resized(rgb, view.width, view.height)
            for x0, y0, x1, y1 in view.tiles:
                for d in self._detector.detect(image[y0:y1, x0:x1], self.settings.detect_threshold):
                    left, top, bw, bh = d.box
                    box = ((left + x0) / view.scale, (top + y0) / view.scale, bw / view.scale, bh / view.scale)
                    marks = tuple((float((x + x0) / view.scale), float((y + y0) / view.scale)) for x, y in d.landmarks)
                    found.append((box, d.score, f"centerface@{view.scale:.2f}", marks))
        out = []
        for box, score, source, marks in _merge(found):
            if score < STRONG:
                if not self._confirmed(rgb, box):
                    continue
                source += "+confirmed"
            hog = _hog_like(*box)
            if _visible(hog, w, h):
                out.append(Located(_clip(hog, w, h), score, source, marks))
        return sorted(out, key=lambda f: -f.box[2] * f.box[3])

    def locate_turned(self, rgb: np.ndarray, upright: list[Located]) -> list[tuple[Located, int]]:
        """Faces seen only with the picture turned a quarter or half turn (a photo whose
        orientation tag was lost), each with the turn in degrees; searched on a copy TURNED_SIDE
        px long, so faces at least TURNED_SIDE / DETECTOR_MIN_FACE of the long side are covered."""
        rgb = _checked(rgb)
        h, w = rgb.shape[:2]
        scale = min(1.0, TURNED_SIDE / max(w, h))
        small = _resized(rgb, max(1, round(w * scale)), max(1, round(h * scale)))
        sh, sw = small.shape[:2]
        out: list[tuple[Located, int]] = []
        for k in (1, 2, 3):
            for d in self._detector.detect(np.ascontiguousarray(np.rot90(small, k)), TURNED_SCORE):
                left, top, bw, bh = d.box
                (x0, y0), (x1, y1) = _unturned(left, top, k, sw, sh), _unturned(left + bw, top + bh, k, sw, sh)
                box = (min(x0, x1) / scale, min(y0, y1) / scale, abs(x1 - x0) / scale, abs(y1 - y0) / scale)
                hog = _clip(_hog_like(*box), w, h)
                known = [f.box for f in upright] + [f.box for f, _ in out]
                if all(cover(hog, b) < SAME_FACE_OVERLAP for b in known):
                    out.append((Located(hog, d.score, f"centerface turned {90 * k}"), 90 * k))
        return out

    def _confirmed(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> bool:
        """A second look at a weak detection: the place cut out with a face-wide margin, scaled so
        the face is CONFIRM_SIDES px wide; the face must be found again there, confidently."""
        left, top, bw, bh = box
        cx, cy = left + bw / 2, top + bh / 2
        half = max(bw, bh) * 1.5
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
        x1, y1 = int(min(rgb.shape[1], cx + half)), int(min(rgb.shape[0], cy + half))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return False
        for side in CONFIRM_SIDES:
            zoom = side / max(1.0, bw)
            crop = _resized(rgb[y0:y1, x0:x1], max(1, round((x1 - x0) * zoom)), max(1, round((y1 - y0) * zoom)))
            for d in self._detector.detect(crop, CONFIRM_SCORE):
                dl, dt, dw, dh = d.box
                fx, fy = x0 + (dl + dw / 2) / zoom, y0 + (dt + dh / 2) / zoom
                if abs(fx - cx) < bw / 2 and abs(fy - cy) < bh / 2 and 0.5 < dw / zoom / bw < 2:
                    return True
        return False

    # ------------------------------------------------------------------ identifying faces

    def encode(self, rgb: np.ndarray, box: Box) -> np.ndarray | None:
        """128-d float64 dlib descriptor, or None when this face cannot be identified."""
        return self.encode_with_reason(rgb, box)[0]

    def encode_with_reason(self, rgb: np.ndarray, box: Box, jitters: int = NUM_JITTERS,
                           mirror: bool = MIRROR_AVERAGE) -> tuple[np.ndarray | None, str]:
        """The descriptor, or None and a sentence saying why this face cannot be identified (too
        small, turned too far, too blurred). `mirror=False`: the face as it is only (a probe whose
        mirror average is taken later by `mirror_averaged_many()`, if it can change the answer)."""
        return self.encode_many(rgb, [box], jitters, mirror)[0]

    def encode_many(self, rgb: np.ndarray, boxes: list[Box], jitters: int = NUM_JITTERS,
                    mirror: bool = MIRROR_AVERAGE, chips: list | None = None) -> list[tuple[np.ndarray | None, str]]:
        """`encode_with_reason()` of several faces of one picture, the recogniser run once on
        all their chips (and once more on all their mirror images); `chips`: from `chips_of()`."""
        rgb = _checked(rgb)
        chips = self.chips_of(rgb, boxes) if chips is None else chips
        usable = [box for box, (chip, _) in zip(boxes, chips) if chip is not None]
        vectors = iter(self._descriptors([chip for chip, _ in chips if chip is not None], jitters))
        if mirror:
            vectors = iter([(v + m) / 2 for v, m in zip(vectors, self._mirrored(rgb, usable, jitters))])
        out: list[tuple[np.ndarray | None, str]] = []
        for box, (chip, why) in zip(boxes, chips):
            if chip is None:
                out.append((None, why))
                continue
            vector = next(vectors)
            if vector.shape != (128,) or not np.isfinite(vector).all():
                raise RuntimeError(f"the recogniser returned an unusable face descriptor for the face at {box}")
            out.append((vector, ""))
        return out

    def chips_of(self, rgb: np.ndarray, boxes: list[Box]) -> list[tuple[np.ndarray | None, str]]:
        """Each face's aligned chip (what its descriptor is made from), or None and why not."""
        return [self._chip(_checked(rgb), box) for box in boxes]

    def _chip(self, rgb: np.ndarray, box: Box) -> tuple[np.ndarray | None, str]:
        """dlib's aligned 150 px chip of the face, or None and why it cannot be identified."""
        left, top, bw, bh = box
        if bw < self.settings.min_face_px:
            return None, f"face {bw} px wide, too small to identify (under {self.settings.min_face_px} px)"
        rect = self._dlib.rectangle(int(left), int(top), int(left + bw), int(top + bh))
        shape = self._landmarks(rgb, rect)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        chip = self._dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING)
        why = too_poor(points, chip)
        return (None, why) if why else (chip, "")

    def mirror_averaged_many(self, rgb: np.ndarray, boxes: list[Box], vectors: list[np.ndarray],
                             jitters: int = NUM_JITTERS) -> list[np.ndarray]:
        """`vectors` (from `encode_many(..., mirror=False)`) averaged with their mirror images'."""
        return [(v + m) / 2 for v, m in zip(vectors, self._mirrored(_checked(rgb), boxes, jitters))]

    def _mirrored(self, rgb: np.ndarray, boxes: list[Box], jitters: int) -> list[np.ndarray]:
        """The descriptors of the faces mirrored left to right (a crop around each, flipped)."""
        chips = []
        for left, top, bw, bh in boxes:
            x0, y0 = max(0, int(left - bw)), max(0, int(top - bh))
            x1, y1 = min(rgb.shape[1], int(left + 2 * bw)), min(rgb.shape[0], int(top + 2 * bh))
            crop = np.ascontiguousarray(rgb[y0:y1, x0:x1][:, ::-1])
            mleft = (x1 - x0) - (left - x0) - bw  # the box's left edge once the crop is flipped
            rect = self._dlib.rectangle(int(mleft), int(top - y0), int(mleft + bw), int(top - y0 + bh))
            shape = self._landmarks(crop, rect)
            chips.append(self._dlib.get_face_chip(crop, shape, CHIP_SIZE, CHIP_PADDING))
        return list(self._descriptors(chips, jitters))

    def _descriptors(self, chips: list[np.ndarray], jitters: int) -> list[np.ndarray]:
        """The 128-d descriptors of aligned chips: onnxruntime where it was built and checked, in
        one batch; dlib otherwise (and for random jitter, which only dlib does)."""
        if not chips:
            return []
        if self._fast is not None and jitters <= 1:
            return list(self._fast.descriptors(chips))
        return [self._descriptor(chip, jitters) for chip in chips]

    def _descriptor(self, chip: np.ndarray, jitters: int) -> np.ndarray:
        """dlib's own descriptor of one chip."""
        return np.asarray(self._dlib_resnet().compute_face_descriptor(chip, jitters), dtype=np.float64)

    def _dlib_resnet(self):
        if self._resnet is None:
            self._resnet = self._dlib.face_recognition_model_v1(str(self._resnet_file))
        return self._resnet


def _unturned(x: float, y: float, k: int, w: int, h: int) -> tuple[float, float]:
    """A point of np.rot90(image, k) back in the image (w x h) it was turned from."""
    if k == 1:
        return w - y, x
    if k == 2:
        return w - x, h - y
    return y, h - x


def _checked(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got {getattr(rgb, 'shape', type(rgb))}")
    return np.ascontiguousarray(rgb)


def _resized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if width < w else cv2.INTER_CUBIC)


def _box(left: float, top: float, right: float, bottom: float) -> Box:
    x, y = round(left), round(top)
    return (x, y, max(1, round(right) - x), max(1, round(bottom) - y))


def _hog_like(x: float, y: float, w: float, h: float) -> Box:
    side = w * HOG_SIDE
    cx, cy = x + w / 2, y + h / 2 + h * HOG_SHIFT_Y
    return _box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def _clip(box: Box, w: int, h: int) -> Box:
    left, top = max(0, box[0]), max(0, box[1])
    right, bottom = min(w, box[0] + box[2]), min(h, box[1] + box[3])
    return (left, top, max(1, right - left), max(1, bottom - top))


def _visible(box: Box, w: int, h: int) -> bool:
    """Some of the face lies within the photo (a face cut by the edge still counts)."""
    return box[0] < w and box[1] < h and box[0] + box[2] > 0 and box[1] + box[3] > 0


def _merge(found: list) -> list:
    """One detection per face, the most confident; where tiles and views overlap on one face."""
    kept: list = []
    for item in sorted(found, key=lambda f: -f[1]):
        if all(cover(item[0], k[0]) < SAME_FACE_OVERLAP for k in kept):
            kept.append(item)
    return kept

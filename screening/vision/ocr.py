"""Scene text: where text lines are (PP-OCRv4 detection) and what they say (PP-OCRv4 recognition).

Both ONNX models ship inside the rapidocr-onnxruntime wheel and run on onnxruntime with one
intra-op thread (the process pool is the parallelism). Nothing is downloaded: the engine
refuses to start when a model file is missing rather than fetch one.

Cost is bounded by working at a scale chosen from the smallest letters worth reading:
detection runs on a copy where `min_letter_px`-high capitals are DET_LETTER_PX high (0.3x for
20 px, so a 12 MP photo is searched at 1200 px; never below FLOOR_SIDE), cut into overlapping
tiles when that copy is still longer than `tile_side`. Recognition reads each detected line
from the full-resolution picture, and runs only where detection found something.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from screening.model import Box
from screening.vision import ocr_arcs

# A line whose quad is this much taller than wide is vertical text: read it turned.
_VERTICAL = 1.5
# Detection works on a copy where the smallest letters worth reading are this high (pixels).
DET_LETTER_PX = 6.0
# Detection never works on a copy shorter than this on its long side (unless the photo is).
FLOOR_SIDE = 960
# Tiles overlap by this many working pixels, so a line cut by one tile is whole in the next.
_TILE_OVERLAP = 96


# The ways a line is read: as it lies, turned over (180 degrees), mirrored left to right, mirrored
# top to bottom. The lines of a sign turned over or mirrored top to bottom follow in reverse order.
_FLIPS = (lambda c: c, lambda c: c[::-1, ::-1], lambda c: c[:, ::-1], lambda c: c[::-1, :])
REVERSED_ORDER = (False, True, False, True)
# A line read this surely as it lies or turned over is not read mirrored too (about half the lines
# of a sign; a mirrored line read as it lies scored at most 0.88 on the bench set's signs).
SURE = 0.95


class OcrUnavailable(Exception):
    """The OCR models cannot be loaded; the message says which file and why."""


@dataclass(frozen=True)
class TextLine:
    """One line of text as read: where (full-resolution upright pixels) and what."""

    quad: tuple[tuple[int, int], ...]  # 4 corners, clockwise from top-left
    box: Box  # the quad's bounding box, [left, top, width, height]
    text: str
    score: float  # recognition confidence 0..1 (mean of the characters' probabilities)
    height: int  # the line's height across the text, in pixels (about twice a capital's height)
    # (text, score) read as the line lies, turned over, and when neither was sure (SURE) mirrored
    # and mirrored turned over (_FLIPS);
    # `text` is the surest of them; empty for lines not read by the engine
    readings: tuple[tuple[str, float], ...] = ()
    # read unrolled along an arc (ocr_arcs): `quad` is only the arc's bounding box, which read as a
    # straight line is not the lettering (a video's text pass detects such a line again: RT24-6)
    arc: bool = False


def model_dir() -> Path:
    """The folder of the ONNX models inside the installed rapidocr_onnxruntime package."""
    try:
        import rapidocr_onnxruntime
    except ImportError as exc:
        raise OcrUnavailable(f"rapidocr-onnxruntime is not installed ({exc})") from None
    return Path(rapidocr_onnxruntime.__file__).resolve().parent


_MODELS: dict[int, tuple] = {}  # _models(): loaded once per process and thread count


def _models(threads: int) -> tuple:
    """rapidocr's text detector, its pre-processing and the text recogniser, with `threads`
    intra-op threads; loaded once per process (a failure is raised again each time, never kept)."""
    if threads in _MODELS:
        return _MODELS[threads]
    try:
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        from rapidocr_onnxruntime.utils import read_yaml
    except ImportError as exc:
        raise OcrUnavailable(f"rapidocr-onnxruntime cannot be imported ({exc})") from None
    root = model_dir()
    config = read_yaml(str(root / "config.yaml"))
    det_cfg, rec_cfg = dict(config["Det"]), dict(config["Rec"])
    for cfg in (det_cfg, rec_cfg):
        path = root / cfg["model_path"]
        if not path.is_file():
            raise OcrUnavailable(f"OCR model {path} is missing: reinstall rapidocr-onnxruntime")
        cfg.update(model_path=str(path), intra_op_num_threads=threads, inter_op_num_threads=1,
                   use_cuda=False, use_dml=False)
    models = (TextDetector(det_cfg), DetPreProcess(32, "min", det_cfg["mean"], det_cfg["std"]), TextRecognizer(rec_cfg))
    _MODELS[threads] = models
    return models


class OcrEngine:
    """PP-OCRv4 text detection and recognition; models load once, in __init__."""

    def __init__(self, *, min_letter_px: int = 20, det_letter_px: float = DET_LETTER_PX, tile_side: int = 1600,
                 threads: int = 1):
        self.scale = min(1.0, det_letter_px / min_letter_px)
        self.tile_side = tile_side
        # detection, its pre-processing (resizes only to a multiple of 32: the working scale is
        # chosen here, not by rapidocr) and recognition; stateless between calls, so one process
        # loads them once (the scan pool's forkserver loads them before its workers fork)
        self.det, self.det_pre, self.rec = _models(threads)

    def read(self, rgb: np.ndarray, scale: float | None = None) -> list[TextLine]:
        """Every text line in an RGB picture, read; an empty list when detection finds none.
        `scale`: detection's working scale, instead of the one `working_scale()` gives the
        picture's size (a crop of a video frame is worked on at its whole frame's)."""
        quads, arcs = self._located(rgb, scale)
        # lettering along an arc is read unrolled, each band of it as a line of its own (ocr_arcs)
        strips = [(arc.quad(), strip, arc.thickness) for arc in arcs for strip in ocr_arcs.unrolled(rgb, arc)]
        return self.read_at(rgb, quads, strips)

    def read_at(self, rgb: np.ndarray, quads: list[np.ndarray], strips: list = ()) -> list[TextLine]:
        """The lines at `quads` (4x2 float, pixels of `rgb`, clockwise from top-left) and the
        unrolled `strips` of arcs, read without detecting them again (a video's text pass reads a
        line it knows again where it changed: video_text.py)."""
        strips = list(strips)
        if not quads and not strips:
            return []
        crops = [_crop(rgb, q) for q in quads] + [strip for _, strip, _ in strips]
        # each line is read as it lies and turned over, and, unless one of those is sure, mirrored
        # and mirrored turned over: a line's outline does not say which way up its letters are (a
        # photo stored upside down or sideways, a vertical banner read bottom to top) nor whether
        # they are seen through glass or in a mirror
        readings = self._read_ways(crops, _FLIPS[:2])
        unsure = [i for i, r in enumerate(readings) if max(score for _, score in r) < SURE]
        for i, more in zip(unsure, self._read_ways([crops[i] for i in unsure], _FLIPS[2:])):
            readings[i] += more
        results = [max(r, key=lambda t: t[1]) for r in readings]
        lines = []
        heights = [min(_side(q, 0, 3), _side(q, 0, 1)) for q in quads] + [3 * t for _, _, t in strips]
        for k, (quad, height, (text, score), ways) in enumerate(zip(quads + [q for q, _, _ in strips], heights,
                                                                    results, readings)):
            pts = np.round(quad).astype(int)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append(TextLine(tuple((int(x), int(y)) for x, y in pts), (int(x0), int(y0), int(x1 - x0), int(y1 - y0)),
                                  text, score, round(height), ways, arc=k >= len(quads)))
        return lines

    def _read_ways(self, crops: list[np.ndarray], flips) -> list[tuple[tuple[str, float], ...]]:
        """(text, score) of each crop read each of the `flips` ways."""
        if not crops:
            return []
        n = len(crops)
        batch = [np.ascontiguousarray(flip(c)) for flip in flips for c in crops]
        read, _ = self.rec([c[:, :, ::-1] for c in batch])  # the recogniser was trained on BGR pictures
        return [tuple((str(read[k * n + i][0]).strip(), float(read[k * n + i][1])) for k in range(len(flips)))
                for i in range(n)]

    def working_scale(self, long_side: int) -> float:
        """Detection's scale for a picture whose longer side is `long_side` px: min_letter_px
        capitals at det_letter_px, never below FLOOR_SIDE px long (a small photo costs little
        at full size and its text is small too), at most full size."""
        return max(self.scale, min(1.0, FLOOR_SIDE / max(1, long_side)))

    def locate(self, rgb: np.ndarray, scale: float | None = None) -> list[np.ndarray]:
        """Quads (4x2 float, full-resolution pixels) of the text lines detection finds."""
        return self._located(rgb, scale)[0]

    def _located(self, rgb: np.ndarray, scale: float | None = None) -> tuple[list[np.ndarray], list]:
        """The quads of locate(), and the arcs of lettering (ocr_arcs.Arc, full-resolution pixels)."""
        h, w = rgb.shape[:2]
        s = self.working_scale(max(h, w)) if scale is None else min(1.0, max(self.scale, scale))
        work = rgb if s >= 1 else cv2.resize(rgb, (max(32, round(w * s)), max(32, round(h * s))),
                                             interpolation=cv2.INTER_AREA)
        sx, sy = w / work.shape[1], h / work.shape[0]
        quads, arcs = [], []
        for x, y, tile in _tiles(work, self.tile_side):
            found, bent = self._detect(tile)
            for q in found:
                q = q + np.array([x, y], dtype=np.float32)
                quads.append(q * np.array([sx, sy], dtype=np.float32))
            arcs += [arc.scaled(sx, sy, x, y) for arc in bent]
        return _unique(quads), arcs[:ocr_arcs.MAX_ARCS]

    def _detect(self, rgb: np.ndarray) -> tuple[list[np.ndarray], list]:
        """Quads of the lines in one tile, and its arcs of lettering (pixels of the tile)."""
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        x = self.det_pre(bgr)
        if x is None:
            return [], []
        pred = self.det.infer(x)[0]
        ph, pw = pred.shape[2:]
        arcs = [a.scaled(bgr.shape[1] / pw, bgr.shape[0] / ph)
                for a in ocr_arcs.arcs_in(pred[0, 0], self.det.postprocess_op.thresh)]
        boxes, _ = self.det.postprocess_op(pred, bgr.shape[:2])
        if len(boxes) == 0:
            return [], arcs
        return [np.asarray(b, dtype=np.float32) for b in self.det.filter_tag_det_res(boxes, bgr.shape[:2])], arcs


def _tiles(work: np.ndarray, side: int):
    """(x, y, tile) covering `work` with tiles at most `side` across, overlapping."""
    h, w = work.shape[:2]
    if max(h, w) <= side:
        yield 0, 0, work
        return
    step = side - _TILE_OVERLAP
    for y in range(0, max(1, h - _TILE_OVERLAP), step):
        for x in range(0, max(1, w - _TILE_OVERLAP), step):
            yield x, y, work[y:y + side, x:x + side]


def _unique(quads: list[np.ndarray]) -> list[np.ndarray]:
    """Drop a quad lying mostly inside a larger one (the same line seen by two tiles)."""
    rects = [cv2.boundingRect(q.astype(np.float32)) for q in quads]
    order = sorted(range(len(quads)), key=lambda i: -rects[i][2] * rects[i][3])
    kept: list[int] = []
    for i in order:
        x, y, w, h = rects[i]
        inside = False
        for j in kept:
            X, Y, W, H = rects[j]
            ix = max(0, min(x + w, X + W) - max(x, X))
            iy = max(0, min(y + h, Y + H) - max(y, Y))
            if ix * iy >= 0.8 * w * h:
                inside = True
                break
        if not inside:
            kept.append(i)
    return [quads[i] for i in sorted(kept, key=lambda i: (rects[i][1], rects[i][0]))]


def _side(quad: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(quad[a] - quad[b]))


def _crop(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The line straightened out of the full-resolution picture (turned upright when vertical)."""
    width = max(_side(quad, 0, 1), _side(quad, 3, 2))
    height = max(_side(quad, 0, 3), _side(quad, 1, 2))
    width, height = max(2, math.ceil(width)), max(2, math.ceil(height))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    crop = cv2.warpPerspective(rgb, m, (width, height), borderMode=cv2.BORDER_REPLICATE,
                               flags=cv2.INTER_CUBIC)
    if height / width >= _VERTICAL:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)

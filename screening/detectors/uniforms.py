"""Academy uniform being worn: each person's torso against every academy's uniform.

People come from the face check (the torso is below each face) and from a HOG people
detector (bodies whose face is not visible). A torso is compared in Lab with each academy's
`uniform_colours` (the main garment colour first, then trims), and searched for the
academy's crest at higher zoom with the logo matcher. The detector reports the colour score
and whether the crest was found; decide() alone decides what needs permission.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.config import Config
from screening.model import Box, Check, FaceFinding, UniformFinding

# How far (weighted ΔE, lightness counting half) a pixel may be from a uniform colour.
MAIN_TOLERANCE = 16.0
# Share of the torso in the main colour that counts as a full colour match.
FULL_SHARE = 0.5
# Share of the torso in a trim colour that counts as the trim being there.
TRIM_SHARE = 0.02
# Findings below this colour score and without a crest are not worth reporting.
REPORT_FLOOR = 0.2
# The chest is searched for a crest at this working size (pixels, longer side)...
CHEST_SIDE = 480
# ...enlarging a small chest at most this much.
CHEST_ZOOM = 4.0
# Bodies are looked for at this working size (pixels, longer side).
BODY_SIDE = 800


class UniformDetector:
    """Built once per process: the academies' colours in Lab, the logo matcher, HOG."""

    def __init__(self, config: Config, logos=None):
        self.academies = [(a.id, _lab_of([_hex(c) for c in a.uniform_colours]))
                          for a in config.academies if a.uniform_colours]
        self.crest_ids = {a.id for a in config.academies if a.logos is not None}
        if logos is None and self.crest_ids:
            from screening.detectors.logos import LogoDetector

            logos = LogoDetector(config)
        self.logos = logos
        self.crest_min_score = config.logos.min_score
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, picture, earlier) -> list[UniformFinding]:
        faces = earlier.get(Check.FACES)
        face_boxes = [] if faces is None or not faces.complete else [
            (f.frame, f.box) for f in faces.findings if isinstance(f, FaceFinding)]
        findings = []
        for i, frame in enumerate(picture.frames):
            torsos = [(torso_below_face(box, frame.shape), f"below the face at {list(box)}")
                      for fi, box in face_boxes if fi == i]
            torsos = [(t, why) for t, why in torsos if t is not None]
            for body in self.bodies(frame):
                t = torso_of_body(body)
                if all(_overlap(t, other) < 0.3 for other, _ in torsos):
                    torsos.append((t, f"of the person at {list(body)}"))
            for torso, why in torsos:
                finding = self.torso(frame, torso, why, i)
                if finding is not None:
                    findings.append(finding)
        return findings

    def bodies(self, rgb: np.ndarray) -> list[Box]:
        """People standing in the photo (HOG), boxes in full-res pixels."""
        scale = min(1.0, BODY_SIDE / max(rgb.shape[:2]))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        if min(small.shape[:2]) < 128:
            return []
        rects, weights = self.hog.detectMultiScale(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY),
                                                   winStride=(8, 8), padding=(8, 8), scale=1.08)
        keep = [r for r, w in zip(rects, np.ravel(weights)) if w > 0.5]
        return [tuple(int(round(v / scale)) for v in r) for r in keep]

    def torso(self, rgb: np.ndarray, box: Box, why: str, frame: int) -> UniformFinding | None:
        """The best academy match for one torso, or None when nothing is worth reporting."""
        x, y, w, h = box
        region = rgb[y:y + h, x:x + w]
        if region.size == 0 or not self.academies:
            return None
        scores = {aid: colour_score(region, colours) for aid, colours in self.academies}
        crest = None
        if self.logos is not None:
            found = [f for f in self.logos.search(rgb, box, academies=self.crest_ids, max_side=CHEST_SIDE,
                                                  max_zoom=CHEST_ZOOM, frame=frame)
                     if f.score >= self.crest_min_score]
            crest = max(found, key=lambda f: f.score, default=None)
        if crest is not None:
            aid = crest.academy
        else:
            aid = max(scores, key=lambda k: scores[k][0])
        score, main_share, trims = scores.get(aid, (0.0, 0.0, 0))
        if crest is None and score < REPORT_FLOOR:
            return None
        detail = f"torso {why}: {main_share:.0%} in the main uniform colour"
        if trims:
            detail += f", {trims} trim colour{'s' if trims > 1 else ''} seen"
        if crest is not None:
            detail += f"; crest on the chest at {list(crest.box)} (score {crest.score:.2f})"
        return UniformFinding(aid, box, round(score, 3), crest is not None, detail, frame)


def torso_below_face(face: Box, shape) -> Box | None:
    """The chest and belly below a face: about 2.2 face widths wide, 2 face heights tall."""
    x, y, w, h = face
    H, W = shape[:2]
    cx = x + w / 2
    x0, x1 = max(0, round(cx - 1.1 * w)), min(W, round(cx + 1.1 * w))
    y0, y1 = max(0, round(y + 1.25 * h)), min(H, round(y + 3.25 * h))
    if y1 - y0 < 0.5 * h or x1 - x0 < w:
        return None  # the torso is out of the picture
    return x0, y0, x1 - x0, y1 - y0


def torso_of_body(body: Box) -> Box:
    """The torso inside a HOG person box (which has a margin around the person)."""
    x, y, w, h = body
    return round(x + 0.25 * w), round(y + 0.25 * h), round(0.5 * w), round(0.3 * h)


def colour_score(region: np.ndarray, colours: np.ndarray) -> tuple[float, float, int]:
    """(score 0..1, share of pixels in the main colour, trim colours seen) for one torso."""
    lab = _lab_of(_central(region).reshape(-1, 3))
    if len(lab) == 0:
        return 0.0, 0.0, 0
    weight = np.float32([0.5, 1, 1])  # lightness counts half: folds and shade vary it
    near = [(np.linalg.norm((lab - c) * weight, axis=1) < MAIN_TOLERANCE).mean() for c in colours]
    main = float(near[0])
    trims = sum(1 for s in near[1:] if s >= TRIM_SHARE)
    score = 0.8 * min(1.0, main / FULL_SHARE) + (0.2 if trims else 0.0) * min(1.0, main / FULL_SHARE)
    return score, main, trims


def _central(region: np.ndarray) -> np.ndarray:
    """The middle of a torso box, subsampled: sleeves and background stay out."""
    h, w = region.shape[:2]
    inner = region[: h, round(0.15 * w): round(0.85 * w)]
    step = max(1, int(np.sqrt(inner.shape[0] * inner.shape[1] / 20000)))
    return np.ascontiguousarray(inner[::step, ::step])


def _lab_of(rgb) -> np.ndarray:
    """CIE Lab (L 0..100) of RGB uint8 pixels, any leading shape, as (N, 3) float32."""
    arr = np.asarray(rgb, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(arr, cv2.COLOR_RGB2LAB).reshape(-1, 3)


def _hex(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return iw * ih / smaller if smaller else 0.0

"""Academy uniform being worn: each person's torso against every academy's uniform at once.

People come from the face check: the torso is below each face, and the bodies it saw (its
HOG people detector) give the torsos of people whose face is not visible. Only when the face
check did not run to the end does this check look for bodies itself. Each torso is measured once against the
colours of all academies together (CIE Lab, lightness counting half): the share in each
academy's main colour (`score`), and how far its trim colours lie in a uniform's structure
(`trim_score`: lapel stripes, tie, V collar, piping are thin, symmetric and near the middle
of the chest; a patterned top in the same colours is not). The chest is searched for the
academies' crests at higher zoom with the logo matcher (`crest_score`), a crest cut by the
frame or partly hidden included. The detector reports these scores; decide() alone applies
the thresholds of [uniforms].
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.config import Config
from screening.model import Box, Check, FaceFinding, LogoFinding, PersonFinding, UniformFinding
from screening.vision.geometry import cover, iou
from screening.vision.logo_match.halves import find_halves
from screening.vision.trims import trim_stripes, trim_structure, trim_words

# How far (weighted ΔE, lightness counting half) a pixel may be from a uniform colour.
MAIN_TOLERANCE = 16.0
# A garment's main colour is also recognised in shade or light: the colour scaled by a factor
# in this range (_shaded_distances), when it has at least this chroma (Lab a/b).
SHADE = (0.45, 1.1)
SHADE_CHROMA = 20.0
# ...where the trims score at least this (the lowest [uniforms] min_trim_score a config may set).
TRIMS_WORN = 0.3
# Trims are thin: their pixels are mixed with the garment's at the edges and by JPEG's colour.
TRIM_TOLERANCE = 20.0
# Share of the torso in the main colour that counts as a full colour match.
FULL_SHARE = 0.5
# Share of the torso in a trim colour that counts as the trim being there.
TRIM_SHARE = 0.02
# Findings below this colour score, without trims in structure and without a crest, are not reported.
REPORT_FLOOR = 0.2
# Crests on the chest scoring below this are not mentioned (decide() applies the real threshold).
CREST_FLOOR = 0.3
# The chest is searched for a crest at this working size (pixels, longer side)...
CHEST_SIDE = 480
# ...enlarging a small chest at most this much.
CHEST_ZOOM = 4.0
# Half a crest (logo_match.halves) counts from this appearance of its half, for a badge this
# many face widths wide.
HALF_SURE = 0.8
HALF_PLACED = 0.65
HALF_WIDTHS = (0.4, 0.5, 0.62, 0.77, 0.95, 1.15)
# Bodies are looked for at this working size (pixels, longer side).
BODY_SIDE = 800
# Bodies (HOG SVM margin) at least this sure are searched for a torso.
BODY_SCORE = 0.5
# The trims are measured on the torso from the neck down, at most this many pixels wide.
TRIM_SIDE = 96


class UniformDetector:
    """Built once per process: every academy's colours in one Lab table, the logo matcher, HOG."""

    def __init__(self, config: Config, logos=None):
        # one table of the trust's distinct uniform colours (academies share them: a large trust's
        # 50 academies wear about 15), each academy pointing at its main and trim colours in it: a
        # torso's pixels are compared with every colour once, whatever the number of academies
        self.academies = [a for a in config.academies if a.uniform_colours]
        slots: dict[tuple[int, int, int], int] = {}
        for a in self.academies:
            for c in a.uniform_colours:
                slots.setdefault(_hex(c), len(slots))
        self.table = _lab_of(list(slots)).reshape(-1, 3) if slots else np.zeros((0, 3), np.float32)
        self.main = [slots[_hex(a.uniform_colours[0])] for a in self.academies]
        self.trims = [[slots[_hex(c)] for c in a.uniform_colours[1:]] for a in self.academies]
        self.patterns = [a.uniform_pattern for a in self.academies]
        # the distinct main colours, and each academy's place among them (shade is measured per main colour)
        self.mains = sorted(set(self.main))
        self.main_at = [self.mains.index(m) for m in self.main]
        self.crest_ids = {a.id for a in config.academies if a.logos is not None}
        self.sure = config.logos.min_score
        if logos is None and self.crest_ids:
            from screening.detectors.logos import LogoDetector

            logos = LogoDetector(config)
        self.logos = logos
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, picture, earlier) -> list[UniformFinding]:
        faces = earlier.get(Check.FACES)
        complete = faces is not None and faces.complete
        face_boxes = [(f.frame, f.box) for f in faces.findings if isinstance(f, FaceFinding)] if complete else []
        # the face check reports every body it saw (HOG, finer than ours): used as they are, and
        # searched for here only when that check did not run to the end
        seen = [(f.frame, f.box) for f in faces.findings if isinstance(f, PersonFinding)
                and f.score >= BODY_SCORE] if complete else None
        logos = earlier.get(Check.LOGOS)  # crests the logo check already found, sure ones only
        crests = [f for f in logos.findings if isinstance(f, LogoFinding) and not f.view
                  and f.score >= self.sure] if logos is not None and logos.complete else []
        findings = []
        for i, frame in enumerate(picture.frames):
            torsos = []
            for fi, box in face_boxes:
                t = torso_below_face(box, frame.shape) if fi == i else None
                if t is not None:
                    torsos.append((t, f"below the face at {list(box)}", box))
            bodies = self.bodies(frame) if seen is None else [box for fi, box in seen if fi == i]
            for body in bodies:
                t = torso_of_body(body)
                if all(cover(t, other) < 0.3 for other, _, _ in torsos):
                    torsos.append((t, f"of the person at {list(body)}", None))
            for torso, why, face in torsos:
                findings += self.torso(frame, torso, why, i, face, crests)
        return findings

    def bodies(self, rgb: np.ndarray) -> list[Box]:
        """People standing in the photo (HOG), boxes in full-res pixels."""
        scale = min(1.0, BODY_SIDE / max(rgb.shape[:2]))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        if min(small.shape[:2]) < 128:
            return []
        rects, weights = self.hog.detectMultiScale(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY),
                                                   winStride=(8, 8), padding=(8, 8), scale=1.08)
        keep = [r for r, w in zip(rects, np.ravel(weights)) if w > BODY_SCORE]
        return [tuple(int(round(v / scale)) for v in r) for r in keep]

    def torso(self, rgb: np.ndarray, box: Box, why: str, frame: int, face: Box | None = None,
              crests=()) -> list[UniformFinding]:
        """What one torso has of each academy's uniform: at most the crest's academy and the colours' one."""
        x, y, w, h = box
        region = rgb[y:y + h, x:x + w]
        if region.size == 0 or not self.academies:
            return []
        trims = self._trim_scores(rgb, box, face)
        # the main colour in shade or light counts where the academy's trims are worn as its
        # uniform wears them; without them, only the colour itself (a shaded pink is no maroon)
        colour = [colour_score_from(shaded if trims[k][0] >= TRIMS_WORN else strict, shares)
                  for k, (strict, shaded, shares) in enumerate(self._main_shares(region))]
        crest = self._crest(rgb, box, frame, crests)
        if crest is None or crest.score < self.sure:  # half a crest (cut by the frame, half covered)?
            crest = self._half_crest(rgb, box, face, frame, {self.academies[k].id for k in range(len(colour))
                                                               if colour[k][0] >= REPORT_FLOOR}, crest) or crest
        by_colour = max(range(len(self.academies)), key=lambda k: (colour[k][0] >= REPORT_FLOOR) * (
            colour[k][0] + trims[k][0]))
        chosen = [by_colour]
        if crest is not None:
            k = next((k for k, a in enumerate(self.academies) if a.id == crest.academy), None)
            if k is None:  # an academy with a crest but no uniform colours
                return [UniformFinding(crest.academy, box, 0.0, 0.0, round(crest.score, 3),
                                       f"torso {why}: {crest.detail}", frame)]
            chosen = [k] if k == by_colour or colour[by_colour][0] < REPORT_FLOOR else [k, by_colour]
        out = []
        for k in chosen:
            score, main_share, n_trims = colour[k]
            trim_score, trim_what = trims[k]
            has_crest = crest is not None and self.academies[k].id == crest.academy
            if not has_crest and score < REPORT_FLOOR:
                continue
            detail = f"torso {why}: {main_share:.0%} in the main uniform colour"
            if trim_what:
                detail += f", trims {trim_what} (trim score {trim_score:.2f})"
            elif n_trims:
                detail += f", {n_trims} trim colour{'s' if n_trims > 1 else ''} seen"
            if has_crest:
                detail += f"; {crest.detail}"
            out.append(UniformFinding(self.academies[k].id, box, round(score, 3), round(trim_score, 3),
                                      round(crest.score, 3) if has_crest else 0.0, detail, frame))
        return out

    def _main_shares(self, region: np.ndarray) -> list[tuple[float, float, list[float]]]:
        """(main-colour share, the same in shade or light, [trim-colour shares]) of the torso's
        middle, for every academy at once."""
        lab = _lab_of(_central(region).reshape(-1, 3))
        if len(lab) == 0:
            return [(0.0, 0.0, [0.0] * len(t)) for t in self.trims]
        share = (_distances(lab, self.table) < MAIN_TOLERANCE).mean(axis=0)  # (colours,)
        shaded = (_shaded_distances(lab, self.table[self.mains]) < MAIN_TOLERANCE).mean(axis=0)  # (main colours,)
        return [(float(share[m]), float(shaded[j]), [float(share[t]) for t in ts])
                for m, j, ts in zip(self.main, self.main_at, self.trims)]

    def _trim_scores(self, rgb: np.ndarray, box: Box, face: Box | None) -> list[tuple[float, str]]:
        """(trim score 0..1, what was seen) per academy: its trim colours in a uniform's structure."""
        out = [(0.0, "")] * len(self.academies)
        if face is None or not any(self.trims):
            return out
        fx, fy, fw, fh = face
        H, W = rgb.shape[:2]
        cx = fx + fw / 2
        # from the neck (just below the chin) down the torso box, as wide as the torso box
        y0, y1 = max(0, round(fy + 1.05 * fh)), min(H, box[1] + box[3])
        x0, x1 = box[0], min(W, box[0] + box[2])
        region = rgb[y0:y1, x0:x1]
        if region.size == 0 or y1 - y0 < 0.5 * fh:
            return out
        s = min(1.0, TRIM_SIDE / max(region.shape[:2]))
        small = cv2.resize(region, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else region
        hh, ww = small.shape[:2]
        lab = _lab_of(small.reshape(-1, 3))
        dist = _distances(lab, self.table).reshape(hh, ww, -1)
        # where the structure of a uniform's trims lies: the V from the neck, the tie, the front
        ys, xs = np.mgrid[0:hh, 0:ww].astype(np.float32)
        u = (x0 + (xs + 0.5) / s - cx) / fw  # across, in face widths from the middle
        v = (y0 + (ys + 0.5) / s - (fy + 1.05 * fh)) / fh  # down, in face heights from the neck
        # (widened to the shoulders at the neck line it flagged striped tops and other schools'
        # uniforms: docs/academies.md, RT15-9)
        zone = (np.abs(u) < 0.45) & (v < 2.0)
        mirror_x = np.clip(np.round(2 * (cx - x0) * s - 1 - xs).astype(int), 0, ww - 1)
        shaded = _shaded_distances(lab, self.table[self.mains]).reshape(hh, ww, -1)  # per main colour
        main_near = [shaded[..., j] < MAIN_TOLERANCE for j in range(len(self.mains))]
        stroke = max(2, round(0.3 * fw * s))  # thicker than this is a patch (a shirt), not a trim
        seen: dict[tuple[int, int, str], tuple[float, str]] = {}  # academies sharing a main and trim colour
        for k, ts in enumerate(self.trims):
            j = self.main_at[k]
            if not ts or main_near[j].mean() < 0.15:
                continue
            best = (0.0, "")
            for t in ts:
                key = (j, t, self.patterns[k])
                if key not in seen:
                    seen[key] = self._trim(dist[..., t], shaded[..., j], main_near[j], self.patterns[k],
                                           (zone, mirror_x, stroke, u, v))
                if seen[key][0] > best[0]:
                    best = seen[key]
            out[k] = best
        return out

    @staticmethod
    def _trim(dist: np.ndarray, garment_dist: np.ndarray, garment: np.ndarray, pattern: str,
              where) -> tuple[float, str]:
        """(score, what was seen) of one trim colour on a garment of one main colour."""
        zone, mirror_x, stroke, u, v = where
        # nearer the trim colour than the garment's in any shade (dark trims on a dark cloth)
        trim = (dist < TRIM_TOLERANCE) & (dist < garment_dist)
        if int(trim.sum()) < 4:
            return 0.0, ""
        score = (trim_structure if pattern == "trims" else trim_stripes)(trim, zone, mirror_x, stroke, garment)
        return score, (trim_words(trim, zone, u, v) if pattern == "trims" else "in stripes") if score > 0 else ""

    def _crest(self, rgb: np.ndarray, box: Box, frame: int, crests=()) -> LogoFinding | None:
        """The best academy crest on the chest, whole or in part, or None.

        A crest the logo check found on the chest at its own threshold is that crest: the chest
        is searched again, at higher zoom, only where it found none (a small badge it missed).
        """
        known = [f for f in crests if f.frame == frame and f.academy in self.crest_ids
                 and cover(f.box, box) >= 0.5 and _inside(f.box, box)]
        if known:
            return max(known, key=lambda f: f.score)
        if self.logos is None:
            return None
        found = [f for f in self.logos.search(rgb, box, academies=self.crest_ids, max_side=CHEST_SIDE,
                                              max_zoom=CHEST_ZOOM, frame=frame) if f.score >= CREST_FLOOR]
        return max(found, key=lambda f: f.score, default=None)

    def _half_crest(self, rgb: np.ndarray, box: Box, face: Box | None, frame: int, academies,
                    weak: LogoFinding | None = None) -> LogoFinding | None:
        """Half of an academy's crest on the chest, judged on that half (logo_match.halves), or None.

        Searched only for the academies whose colours the torso is in; a half counts from
        HALF_SURE, stricter than a whole crest (half the evidence: checks in the academy's
        colours matched a half at up to 0.72 on the bench's tops), or from HALF_PLACED where the
        keypoints placed the academy's crest (`weak`, below [logos] min_score) at the same place.
        """
        if self.logos is None or not academies:
            return None
        refs = [r for r in self.logos.references if r.academy in academies & self.crest_ids]
        x, y, w, h = box
        unit = face[2] if face is not None else w / 2.2  # a chest badge is about 0.4 to 1.1 face widths
        # a half whose place the keypoints placed the crest at too (its appearance there fell
        # short: the covered half counted as unlike) needs less of its own
        placed_academy = weak.academy if weak is not None and "matching points" in weak.detail else None

        def sure(m) -> bool:
            placed = m.reference.academy == placed_academy \
                and iou(weak.box, (x + m.box[0], y + m.box[1], m.box[2], m.box[3])) >= 0.3
            return m.score >= (HALF_PLACED if placed else HALF_SURE)

        # the least each academy's half must score to be sure anywhere: a half not placed by the
        # keypoints is scored only as far as it can still reach HALF_SURE
        def floor(ref) -> float:
            return min(HALF_SURE, HALF_PLACED) if ref.academy == placed_academy else HALF_SURE

        found = [m for m in find_halves(rgb[y:y + h, x:x + w], refs, [unit * f for f in HALF_WIDTHS],
                                         floor=floor) if sure(m)]
        if not found:
            return None
        m = found[0]
        bx, by, bw, bh = m.box
        return LogoFinding(m.reference.academy, (x + bx, y + by, bw, bh), round(m.score, 3),
                           f"matches the {m.side} half of {m.reference.name} (appearance {m.score:.2f}); "
                           f"crest partly visible (its {m.side} half in view)", frame)


def _inside(inner: Box, outer: Box) -> bool:
    """Whether the middle of `inner` lies in `outer`."""
    cx, cy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    return outer[0] <= cx <= outer[0] + outer[2] and outer[1] <= cy <= outer[1] + outer[3]


def colour_score_from(main: float, trim_shares) -> tuple[float, float, int]:
    """(score 0..1, main-colour share, trim colours seen) from the shares of a torso's colours."""
    n_trims = sum(1 for t in trim_shares if t >= TRIM_SHARE)
    full = min(1.0, main / FULL_SHARE)
    return 0.8 * full + (0.2 if n_trims else 0.0) * full, main, n_trims


def colour_score(region: np.ndarray, colours: np.ndarray) -> tuple[float, float, int]:
    """(score 0..1, share of pixels in the main colour, trim colours seen) for one torso."""
    lab = _lab_of(_central(region).reshape(-1, 3))
    if len(lab) == 0:
        return 0.0, 0.0, 0
    near = (_distances(lab, colours) < MAIN_TOLERANCE).mean(axis=0)
    return colour_score_from(float(near[0]), near[1:])


def _shaded_distances(lab: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(N, K) as _distances, to each colour as cloth in shade or in light shows it.

    A fold or a shadow darkens a garment's colour, in Lab roughly all three values scaled
    together ((44, 60, 40) red measured (33, 46, 32) in shade): each pixel is compared with the
    colour scaled by the factor (within SHADE) that brings it nearest, but never so far down that
    its chroma falls below SHADE_CHROMA: shaded navy is black and black cloth is common, so is
    grey (a colour without chroma, such as white, is compared as it is).
    """
    weight = np.float32([0.5, 1, 1])
    c = np.asarray(colours, np.float32) * weight  # (K, 3)
    p = np.asarray(lab, np.float32) * weight  # (N, 3)
    scale = (p @ c.T) / np.maximum((c * c).sum(axis=1), 1e-6)  # the best factor per pixel and colour
    # never so dark that the colour's chroma fades below SHADE_CHROMA (navy in shade is black)
    lowest = np.maximum(SHADE[0], SHADE_CHROMA / np.maximum(np.hypot(c[:, 1], c[:, 2]), 1e-6))
    scale = np.where(lowest[None, :] < 1.0, np.clip(scale, lowest[None, :], SHADE[1]), 1.0)
    # |p - s c|^2 = |p|^2 - 2 s (p . c) + s^2 |c|^2, all pixels against all colours in one product
    pc = p @ c.T
    d2 = (p * p).sum(axis=1)[:, None] - 2 * scale * pc + scale * scale * (c * c).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(d2, 0))


def _distances(lab: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(N, K) weighted ΔE of N Lab pixels to K Lab colours, lightness counting half."""
    weight = np.float32([0.5, 1, 1])  # lightness counts half: folds and shade vary it
    p = np.asarray(lab, np.float32) * weight
    c = np.asarray(colours, np.float32).reshape(-1, 3) * weight
    # |p - c|^2 = |p|^2 - 2 p . c + |c|^2: every pixel against every academy colour in one product
    d2 = (p * p).sum(axis=1)[:, None] - 2 * (p @ c.T) + (c * c).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(d2, 0))


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


def _central(region: np.ndarray) -> np.ndarray:
    """The middle of a torso box, subsampled: sleeves and background stay out."""
    h, w = region.shape[:2]
    inner = region[: h, round(0.15 * w): round(0.85 * w)]
    step = max(1, int(np.sqrt(inner.shape[0] * inner.shape[1] / 6000)))
    return np.ascontiguousarray(inner[::step, ::step])


def _lab_of(rgb) -> np.ndarray:
    """CIE Lab (L 0..100) of RGB uint8 pixels, any leading shape, as (N, 3) float32."""
    arr = np.asarray(rgb, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(arr, cv2.COLOR_RGB2LAB).reshape(-1, 3)


def _hex(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

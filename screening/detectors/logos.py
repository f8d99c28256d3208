"""Academy logos and crests anywhere in a photo: signage, banners, minibuses, badges, kit.

References are every image in each academy's `logos` folder. Their features are computed
once per process, in __init__, and cached across runs on disk by content hash (see
`cache_dir`). The matching itself lives in screening/vision/logo_match/; this module turns a
picture into working images and placements into LogoFindings. It reports; decide() decides.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from screening.config import Academy, Config
from screening.formats.logo import logo_files, read_logo
from screening.model import Box, LogoFinding
from screening.vision import logo_match as lm
from screening.vision.logo_match import cast, hidden, small
from screening.vision.geometry import iou

# Bump when reference features change meaning, so old cache entries are never read.
CACHE_VERSION = "logo-ref-3"
# "own-resolution": fine detail and a crest's size judged at the photo's own resolution (an enlarged
# working image holds no finer detail); "confirm": placements near the floor show their fine detail
# (logo_match.confirm). Both issue 16, crestrecall4; without them the check is as before, exactly.
# "cast": a placement whose colour pattern fails as taken is judged again with the photo's colour cast
# taken out (logo_match.cast; issue 16, crestrecall5). "degenerate": where RANSAC's best affine fit is not one a crest could have, the similarity most
# matches agree with is proposed instead (logo_match.placements; crestrecall6). "hidden": a crest with a block
# of it unlike the reference is judged on the rest (logo_match.hidden; crestrecall7). "windows": the small-crest
# windows take each academy's best place before another size's (logo_match.small._merge; recall33).
STEPS = frozenset({"multiscale", "verify", "colour-shape", "refine", "prefilter", "index", "small", "confirm",
                   "own-resolution", "cast", "degenerate", "hidden", "windows"})
# Not shipped (opt in: steps=STEPS | {"photo-grey"}): an enlarged photo's grey keypoints from the photo
# as taken, not from the enlargement (0.6x the logo check's CPU on such photos), loses small crests
# (30-40 px in 500-700 px photos) whose matches come from the enlargement's doubled scale, and the
# small-crest windows do not propose them all (issue 16, siftcost; docs/academies.md).
# Placements scoring below this are not worth reporting at all; decide() applies the real threshold.
REPORT_FLOOR = 0.3
# Placements scoring at least this are aligned pixel by pixel (ECC) and checked again.
REFINE_FROM = 0.25
# Without the appearance step (bench ablation only), a placement counts from this many inliers.
CLASSIC_INLIERS = 10
# Longest side of the coarse view the colour-and-shape cue segments.
COLOUR_SHAPE_SIDE = 640
# A crest with less than this share of itself in the frame, or of its parts agreeing, is
# reported as partly visible (it is still judged on what is visible: logo_match.verify).
PARTLY_VISIBLE = 0.9
# A detailed crest placed by colour and outline is checked only when enough matched photo
# keypoints lie in its crest box widened by this share of its size on each side: its
# keypoints must agree with it in the end (lm.MIN_SUPPORT), and refine() moves it only a little.
NEAR_MARGIN = 0.5
# Placements whose crest boxes overlap this much (IoU) are one place: one crest is there.
SAME_PLACE_IOU = 0.3
# Of the academies matching one place, those scoring within this of the best are compared by colour.
SAME_PLACE_MARGIN = 0.1
# A small crest's window (logo_match.small) is searched again enlarged so the crest is about this
# many pixels across (a 40 px crest: 3.2x), at most SMALL_MAX_ZOOM times its size in the photo.
SMALL_VIEW = 128
# A detailed crest at least this large (working pixels) must have MIN_SUPPORT keypoint matches
# agreeing with its placement, as one placed by colour and outline must (_few_points_large).
FEW_POINTS_UP_TO = 160
SMALL_MAX_ZOOM = 4.0


class LogoReferenceError(Exception):
    """A reference image in an academy's logos folder cannot be used; names the file."""


def cache_dir() -> Path:
    """Where reference features are cached: $SCREENING_CACHE, else ~/.cache/screening."""
    base = os.environ.get("SCREENING_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "screening")
    return Path(base) / "logos"


class LogoDetector:
    """Finds the crests of the Config's academies; construction loads every reference."""

    def __init__(self, config: Config, *, cache: Path | None = None, steps=STEPS):
        self.settings = config.logos
        self.steps = frozenset(steps)
        self.references = [ref for academy in config.academies
                           for ref in load_references(academy, cache, "multiscale" in self.steps)]
        self.index = lm.ReferenceIndex(self.references)
        # each reference's rivals: other academies' references drawn on the same layout
        self.rivals = [[self.references[j] for j in js] for js in lm.same_layout(self.references)]
        self._position = {id(r): i for i, r in enumerate(self.references)}
        self._small_templates = {id(r): small.templates(r) for r in self.references}  # small crests' colours
        self._fragile: dict[int, bool] = {}  # per reference: can a cast break its colours (cast.fragile)

    def detect(self, picture, earlier) -> list[LogoFinding]:
        findings: list[LogoFinding] = []
        for i, frame in enumerate(picture.frames):
            findings += self.search(frame, frame=i)
        return findings

    def search(self, rgb: np.ndarray, box: Box | None = None, *, academies=None,
               max_side: int | None = None, max_zoom: float | None = None,
               frame: int = 0, small_crests: bool = True) -> list[LogoFinding]:
        """Crests in `rgb`, or in its `box` at higher zoom; boxes in full-res pixels of `rgb`.

        The region is resized so its longer side is `max_side` (default [logos] max_side),
        enlarged at most `max_zoom` times (default [logos] max_zoom). `academies` limits the
        search to those academy ids. The uniform check searches a chest this way. `small_crests`
        False leaves out the small-crest pass (a clip's changed crops: its whole looks have it).
        """
        x0, y0 = (0, 0) if box is None else (max(0, box[0]), max(0, box[1]))
        region = rgb if box is None else rgb[y0:box[1] + box[3], x0:box[0] + box[2]]
        if region.size == 0:
            return []
        side = max_side or self.settings.max_side
        scale = min(side / max(region.shape[:2]), max_zoom or self.settings.max_zoom)
        size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
        work = cv2.resize(region, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        refs = [r for r in self.references if academies is None or r.academy in academies]
        findings = []
        # "photo-grey" (not shipped): the whole photo, enlarged, has its grey keypoints from the photo as taken
        photo = region if box is None and scale > 1 and "photo-grey" in self.steps else None
        for p in self.find(work, refs, zoom=max(1.0, scale) if "own-resolution" in self.steps else 1.0,
                           photo=photo, whole=rgb):
            bx, by, bw, bh = p.crest_box()
            full = (round(x0 + bx / scale), round(y0 + by / scale), round(bw / scale), round(bh / scale))
            detail = (f"matches {p.reference.name} ({p.inliers} matching points, "
                      f"appearance {p.appearance:.2f})" if p.source == "features" else
                      f"matches {p.reference.name} by colour and shape (appearance {p.appearance:.2f})")
            if p.visible < PARTLY_VISIBLE:
                detail += f"; crest partly visible ({p.visible:.0%} of it in the frame)"
            elif p.hidden > 0:
                detail += f"; crest partly visible (some of its parts hidden: {p.hidden:.0%} of it judged covered)"
            elif p.parts < PARTLY_VISIBLE:
                detail += "; crest partly visible (some of its parts hidden or unlike the reference)"
            findings.append(LogoFinding(p.reference.academy, _clip(full, rgb.shape), round(p.score, 3),
                                        detail, frame, also=p.also))
        if box is None and small_crests and "small" in self.steps:
            findings = self._small_crests(rgb, work, scale, refs, findings, frame)
        return findings

    def _small_crests(self, rgb, work, scale, refs, findings, frame) -> list[LogoFinding]:
        """The findings with those of small crests added: places where an academy not yet found
        has its colours in its crest's proportions (logo_match.small) are searched again at the
        photo's own resolution, enlarged so the crest is about SMALL_VIEW px across, with the
        same matcher and appearance check. A place keeps its best finding."""
        done = {a for f in findings if f.score >= self.settings.min_score for a in (f.academy, *f.also)}
        left = [r for r in refs if r.academy not in done]
        for win in small.windows(work, scale, left, self._small_templates, photo=rgb, each_first="windows" in self.steps):
            x, y, w, h = (v / scale for v in win.box)
            side = max(w, h)
            zoom = min(SMALL_MAX_ZOOM, SMALL_VIEW / side)
            crop = (round(x - w), round(y - h), round(3 * w), round(3 * h))
            for f in self.search(rgb, crop, academies=win.academies, max_side=int(3 * side * zoom) + 2,
                                 max_zoom=zoom, frame=frame):
                same = [g for g in findings if iou(g.box, f.box) >= SAME_PLACE_IOU]
                if all(f.score > g.score for g in same):
                    findings = [g for g in findings if g not in same] + [f]
        return findings

    def find(self, rgb: np.ndarray, refs, zoom: float = 1.0, photo=None, whole=None) -> list[lm.Placement]:
        """Every placement of the references in a working-size RGB image, best per place.

        `zoom` is how much `rgb` was enlarged from the photo (1 when it was not): what a crest's
        size allows is judged at the photo's own resolution (_placed). `photo`: grey keypoints from it
        (lm.image_features); `whole`: the photo, whose greys measure a cast (cast.Balanced).

        The photo is worked on once for all references: its colour views (and each academy colour's
        map in them) and its keypoints, which query the one index of every academy's reference
        features. References whose main colours never meet in the photo are ruled out first.
        """
        if not refs:
            return []
        size = (rgb.shape[1], rgb.shape[0])
        verify = "verify" in self.steps
        cs = min(1.0, COLOUR_SHAPE_SIDE / max(size))
        small = cv2.resize(rgb, None, fx=cs, fy=cs, interpolation=cv2.INTER_AREA) if cs < 1 else rgb
        presence = lm.ColourPresence(lm.colour_views(small))
        to_work = np.diag([1 / cs, 1 / cs, 1.0])
        if "prefilter" in self.steps:
            refs = [r for r in refs if presence.possible(r)]
            if not refs:
                return []
        image = lm.image_features(rgb, set().union(*(r.channels for r in refs)), photo=photo)
        if "index" in self.steps:  # one query of all references' index by the photo's features
            matched = self.index.match(image, [self._position[id(r)] for r in refs])
            pairs = [matched[self._position[id(r)]] for r in refs]
        else:  # each reference's features query the photo's index (cost grows with the references)
            pairs = lm.match_all(refs, image)
        found: list[lm.Placement] = []
        if verify:
            v_grey, v_ab = lm.appearance_channels(rgb)
            balanced = cast.Balanced(rgb, rgb if whole is None else whole) if "cast" in self.steps else None
        shapes = "colour-shape" in self.steps and verify
        for ref, (src, dst) in zip(refs, pairs):
            cands = lm.placements(ref, src, dst, size, min_inliers=5 if verify else CLASSIC_INLIERS,
                                  few_inliers=3 if "refine" in self.steps else 0, degenerate="degenerate" in self.steps)
            if not verify:  # bench ablation only: a geometric fit is a finding
                for p in cands:
                    p.score = 1.0
                found += cands
                continue
            mine = self._placed(ref, cands, src, dst, v_grey, v_ab, zoom, balanced)
            # a detailed crest needs MIN_SUPPORT agreeing matches to be placed by colour and
            # outline (below): with fewer matches in all, its proposals are not worth making;
            # nor are they for a crest its keypoints have already placed well. A placement from
            # a few keypoints can be off (a 46 px shield scored 0.55 placed by 16 matches and
            # 0.68 by its outline), so below min_score the outline is asked too; one place keeps
            # its best placement (_best_per_place)
            if shapes and not (ref.detailed and len(src) < lm.MIN_SUPPORT) and \
                    not any(p.score >= self.settings.min_score for p in mine):
                mine += self._placed(ref, _shaped(ref, presence, to_work, dst), src, dst, v_grey, v_ab, zoom, balanced)
            found += mine
        if not found:
            return []

        def name(p: lm.Placement) -> tuple[lm.Reference, list[lm.Reference]]:
            return lm.name(p, self.rivals[self._position[id(p.reference)]], v_grey, v_ab)

        return _best_per_place(found, name if verify else None)

    def _placed(self, ref, cands, src, dst, v_grey, v_ab, zoom: float = 1.0,
                balanced: cast.Balanced | None = None) -> list[lm.Placement]:
        """The candidates that survive the appearance check (refined when worth it), scored; `zoom`
        as in find(): fine detail and "large" are judged at the photo's own resolution. With
        `balanced` (the photo with its colour cast taken out), a candidate whose colour pattern
        fails as taken is judged again there (logo_match.cast)."""
        found = []
        for cand in cands:
            p = cand
            # a placement by colour and outline must look UNMATCHED_PENALTY more alike to be reported
            enough = max(REFINE_FROM, REPORT_FLOOR + lm.UNMATCHED_PENALTY) if p.source == "colour-shape" \
                else REFINE_FROM
            lm.verify(p, v_grey, v_ab, enough)
            if REFINE_FROM <= p.appearance and "refine" in self.steps:
                q = lm.aligned(p, v_grey, v_ab, src, dst, enough, zoom)  # ECC, kept only where it holds
                # a placement near the floor shows its fine detail (an aligned one already has)
                p = lm.confirmed(p, v_grey, v_ab, zoom) if q is p and "confirm" in self.steps else q
            if balanced is not None and cast.worth(p, self.settings.min_score, balanced) and self._cast_fragile(ref):
                p = cast.cast_free(cand, p, v_grey, balanced, src, dst, enough, REFINE_FROM, zoom)
            if "hidden" in self.steps and hidden.worth(p, self.settings.min_score):  # judged on the part in view
                cast_out = balanced is not None and balanced.cast and self._cast_fragile(ref)
                p = hidden.uncovered(p, v_grey, [v_ab, balanced.ab] if cast_out else [v_ab], zoom)
            if p.source == "colour-shape" and ref.detailed:
                p.support = lm.support(p, src, dst)
                if p.support < lm.MIN_SUPPORT:
                    continue  # a detailed crest whose keypoints do not agree: a look-alike outline
            elif _few_points_large(p, zoom):
                p.support = lm.support(p, src, dst)
                if p.support < lm.MIN_SUPPORT:
                    continue  # a large detailed crest placed from 3-4 points: another school's badge
            if p.score >= REPORT_FLOOR:
                found.append(p)
        return found

    def _cast_fragile(self, ref: lm.Reference) -> bool:
        """cast.fragile(ref), worked out the first time a placement of it asks."""
        if id(ref) not in self._fragile:
            self._fragile[id(ref)] = cast.fragile(ref)
        return self._fragile[id(ref)]


def _best_per_place(found: list[lm.Placement], name=None) -> list[lm.Placement]:
    """One placement per place: the academy whose colours agree best, of those scoring about the best.

    Academies that share a crest layout (one shield, each in its own colours, initials and
    emblem) all fit one crest's pattern; its colours say whose it is. So where several
    academies' references match one place, the one whose colours agree best is kept, among
    those whose score is within SAME_PLACE_MARGIN of the best there, with the best score of
    the place; the others are dropped. Then `name` (identity.name, when given) checks that
    choice against every academy drawn on the same layout, on the parts where they differ:
    it may name another, or keep the choice with the academies it cannot be told from
    (`also`: the finding then names them all, never only a wrong one).
    """
    found.sort(key=lambda p: -p.score)
    groups: list[list[lm.Placement]] = []
    for p in found:
        box = p.crest_box()
        for g in groups:
            if iou(g[0].crest_box(), box) >= SAME_PLACE_IOU:
                g.append(p)
                break
        else:
            groups.append([p])
    kept = []
    for g in groups:
        close = [p for p in g if p.score >= g[0].score - SAME_PLACE_MARGIN]
        chosen = max(close, key=lambda p: (round(p.colour_fit, 2), p.score))
        # the place keeps the best agreement found there: naming the academy by colour must never
        # lower it below a threshold the best reference reached (fail closed)
        chosen.score = g[0].score
        if name is not None:
            ref, others = name(chosen)
            if ref is not chosen.reference:
                chosen = dataclasses.replace(chosen, reference=ref)
            chosen.also = tuple(sorted({r.academy for r in others} - {ref.academy}))
        kept.append(chosen)
    return kept


def _shaped(ref: lm.Reference, presence: lm.ColourPresence, to_work: np.ndarray,
            dst: np.ndarray) -> list[lm.Placement]:
    """The colour-and-outline proposals of `ref`, in working pixels, worth an appearance check.

    A detailed crest's placement needs MIN_SUPPORT agreeing matches (_placed): with fewer
    matched photo keypoints anywhere near it, it cannot get them, so it is not proposed.
    """
    out = []
    for p in lm.colour_shape_placements(ref, presence):
        p.H = to_work @ p.H
        if not ref.detailed or _near(p, dst) >= lm.MIN_SUPPORT:
            out.append(p)
    return out


def _few_points_large(p: lm.Placement, zoom: float = 1.0) -> bool:
    """A detailed crest placed by the few-point similarity (fewer than MIN_SUPPORT inliers) and
    large at the photo's own resolution (its working size over `zoom`, the enlargement). Where
    such a crest really is, at that size its lettering and emblem give many matches; another
    school's badge of the same shape gave 3 (bench 0512: a ring-lettered badge in other colours,
    778 px, scored 0.78). An enlarged crest has no more detail than the photo holds: a 56 px
    wordmark searched 3.2x enlarged in a small-crest window (176 working px) gave 3 (bench 0324)."""
    if p.source != "features" or p.inliers >= lm.MIN_SUPPORT or not p.reference.detailed:
        return False
    _, _, w, h = p.crest_box()
    return max(w, h) / max(1.0, zoom) >= FEW_POINTS_UP_TO


def _near(p: lm.Placement, dst: np.ndarray) -> int:
    """How many matched photo keypoints lie near a placement's crest: in its box widened by
    NEAR_MARGIN of its size on every side (room for refine() to move it)."""
    if len(dst) == 0:
        return 0
    x, y, w, h = p.crest_box()
    mx, my = NEAR_MARGIN * w, NEAR_MARGIN * h
    inside = (dst[:, 0] >= x - mx) & (dst[:, 0] <= x + w + mx) & (dst[:, 1] >= y - my) & (dst[:, 1] <= y + h + my)
    return int(inside.sum())


def _clip(box, shape) -> Box:
    h, w = shape[:2]
    x, y, bw, bh = box
    x0, y0 = max(0, min(w, x)), max(0, min(h, y))
    x1, y1 = max(0, min(w, x + bw)), max(0, min(h, y + bh))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


# ---------------------------------------------------------------- references and their cache


def load_references(academy: Academy, cache: Path | None = None, multiscale: bool = True) -> list[lm.Reference]:
    """Every reference image in the academy's logos folder, features from the cache when known."""
    if academy.logos is None or not academy.logos.is_dir():
        return []
    folder = cache or cache_dir()
    refs = []
    for path in logo_files(academy.logos):
        data = path.read_bytes()
        key = hashlib.sha256(data + f"{CACHE_VERSION}/{multiscale}/{lm.CANONICAL}".encode()).hexdigest()
        name = f"{academy.logos.name}/{path.relative_to(academy.logos)}"
        ref = _read_cached(folder / f"{key}.npz", academy.id, name)
        if ref is None:
            try:
                ref = lm.make_reference(academy.id, name, read_logo(path), multiscale)
            except Exception as exc:
                raise LogoReferenceError(f"{path}: cannot be used as a logo reference for academy "
                                         f"{academy.id!r}: {exc}") from exc
            _write_cached(folder / f"{key}.npz", ref)
        refs.append(ref)
    return refs


_CACHED = ("rgb", "mask", "pts", "desc", "chan", "colours", "field", "field_colour")


def _read_cached(path: Path, academy: str, name: str) -> lm.Reference | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in _CACHED}
    except (OSError, KeyError, ValueError):
        return None
    arrays["field_colour"] = int(arrays["field_colour"])
    return lm.reference_from_arrays(academy, name, **arrays)


def _write_cached(path: Path, ref: lm.Reference) -> None:
    """Atomically; a cache that cannot be written only costs time next run."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            arrays = {k: getattr(ref, k) for k in _CACHED}
            if arrays["field"] is None:  # no field outline: stored empty
                arrays["field"] = np.zeros((0, 1, 2), np.int32)
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        pass

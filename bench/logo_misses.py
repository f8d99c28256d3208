"""Why each missed crest is missed: the stage of the logo check that drops it, run by hand:
`.venv/bin/python bench/logo_misses.py FINDINGS.json [--bands "40-60 px" 5-10%]`.

FINDINGS.json is a `bench/logo_findings.py dump` of the bench trust. For every crest case in it
whose academy is not named at min_score (and every decoy flagged), the case is searched again
step by step with the academy's references alone in the trust's detector, and the table says:
the crest's size (photo and working pixels), its drawing style, and where it fell:

- `prefilter`: the colour prefilter ruled the academy out (its main colours never side by side);
- `matches`: fewer keypoint matches than a placement needs (3), and no colour-and-outline proposal;
- `placed elsewhere`: placements, none on the crest (box IoU < 0.3);
- `appearance`: placed on the crest, best score below min_score (the score and its parts given).

Then the small-crest pass (logo_match.small) as the detector runs it: whether one of its windows
(every academy's templates, as in a scan) holds the crest, and what the window's enlarged search
scores there for the case's academy (`window`: held, best score; `no window`: none holds it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.config import LogoSettings, load_config  # noqa: E402
from screening.detectors import logos as L  # noqa: E402
from screening.vision import logo_match as lm  # noqa: E402
from screening.vision.logo_match import cast  # noqa: E402
from screening.vision.geometry import iou  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"
STYLE = {"badge": "badge", "wordmark": "wordmark", "shaded": "shaded", "embroidered": "embroidered"}


def stage(det: L.LogoDetector, rgb: np.ndarray, truth: dict) -> tuple[str, str]:
    """(stage, detail) for the case's academy, searched alone, as LogoDetector.find does."""
    side, zoom = det.settings.max_side, det.settings.max_zoom
    scale = min(side / max(rgb.shape[:2]), zoom)
    work = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    bx, by, bw, bh = truth["box"]
    box = (bx * scale, by * scale, bw * scale, bh * scale)
    refs = [r for r in det.references if r.academy == truth["academy"]]
    size = f"{bw}x{bh} px ({bw * scale:.0f} working)"
    cs = min(1.0, L.COLOUR_SHAPE_SIDE / max(work.shape[:2]))
    small = cv2.resize(work, None, fx=cs, fy=cs, interpolation=cv2.INTER_AREA) if cs < 1 else work
    presence = lm.ColourPresence(lm.colour_views(small))
    if not any(presence.possible(r) for r in refs):
        return "prefilter", size
    kept = [r for r in refs if presence.possible(r)]
    image = lm.image_features(work, set().union(*(r.channels for r in kept)))
    matched = det.index.match(image, [det._position[id(r)] for r in kept])
    v_grey, v_ab = lm.appearance_channels(work)
    balanced = cast.Balanced(work, rgb) if "cast" in det.steps else None
    best, n_match, n_near = None, 0, 0
    for ref in kept:
        src, dst = matched[det._position[id(ref)]]
        n_match = max(n_match, len(src))
        inside = ((dst[:, 0] >= box[0]) & (dst[:, 0] <= box[0] + box[2]) &
                  (dst[:, 1] >= box[1]) & (dst[:, 1] <= box[1] + box[3])) if len(dst) else np.zeros(0, bool)
        n_near = max(n_near, int(inside.sum()))
        cands = lm.placements(ref, src, dst, (work.shape[1], work.shape[0]), min_inliers=5, few_inliers=3)
        cands += L._shaped(ref, presence, np.diag([1 / cs, 1 / cs, 1.0]), dst)
        for p in cands:
            if iou(p.crest_box(), box) < 0.3:
                continue
            for q in det._placed(ref, [p], src, dst, v_grey, v_ab, max(1.0, scale), balanced) or [p]:
                if best is None or q.score > best.score:
                    best = q
    detail = f"{size}; {n_match} matches, {n_near} on the crest"
    detail += "; " + _small_stage(det, rgb, work, scale, box, truth)
    if best is None:
        return ("matches" if n_near < 3 else "placed elsewhere"), detail
    return "appearance", (f"{detail}; best {best.source} score {best.score:.2f} (structure {best.structure:.2f}, "
                          f"chroma {best.chroma:.2f}, shift {best.shift:.0f}, parts {best.parts:.2f}, "
                          f"inliers {best.inliers})")


def _small_stage(det: L.LogoDetector, rgb: np.ndarray, work: np.ndarray, scale: float, box, truth) -> str:
    """Whether the small-crest pass's windows hold the crest, and what its window search scores."""
    from screening.vision.logo_match import small

    wins = small.windows(work, scale, det.references, det._small_templates)
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    for rank, win in enumerate(wins):
        x, y, w, h = win.box
        if not (x - w / 2 <= cx <= x + 1.5 * w and y - h / 2 <= cy <= y + 1.5 * h):
            continue
        x, y, w, h = (v / scale for v in win.box)
        side = max(w, h)
        zoom = min(L.SMALL_MAX_ZOOM, L.SMALL_VIEW / side)
        crop = (round(x - w), round(y - h), round(3 * w), round(3 * h))
        found = det.search(rgb, crop, academies={truth["academy"]}, max_side=int(3 * side * zoom) + 2,
                           max_zoom=zoom, small_crests=False)
        top = max((f.score for f in found), default=0.0)
        return (f"window {rank + 1}/{len(wins)} holds it ({truth['academy']} "
                f"{'proposed' if truth['academy'] in win.academies else 'not proposed'}), searched alone: "
                f"best {top:.2f}")
    return f"no window of {len(wins)} holds it"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("findings")
    ap.add_argument("--bands", nargs="*", default=None)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    min_score = LogoSettings().min_score
    truth = {json.loads(line)["file"]: json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")}
    det = L.LogoDetector(load_config(SET / "screening.toml"), cache=SET / "cache")
    print("| case | band | academy (style) | size | stage | detail |\n|---|---|---|---|---|---|")
    for row in json.loads(Path(args.findings).read_text(encoding="utf-8")):
        t = truth[row["file"]]
        named = {a for f in row["findings"] if f["score"] >= min_score for a in (f["academy"], *f["also"])}
        if row["kind"] == "decoy" and named:
            print(f"| {row['file']} | {t.get('band')} | decoy of {t.get('lookalike')} | {t['box'][2]} px | flagged "
                  f"| {sorted(named)} |")
            continue
        if row["kind"] != "crest" or t["academy"] in named or (args.bands and t["band"] not in args.bands):
            continue
        rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
        where, detail = stage(det, rgb, t)
        print(f"| {row['file']} | {t['band']} | {t['academy']} ({STYLE.get(t['academy'], 'shield')}) | "
              f"{t['box'][2]}x{t['box'][3]} | {where} | {detail} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which photo keypoints make the matches that find crests: SIFT octave, size and channel of inliers.

    .venv/bin/python bench/sift_octaves.py dump OUT.json [--only even] [--kinds crest family_crest]
                                              [--ablate fine-enlarged|fine-full|chroma] [--tree PATH]
    .venv/bin/python bench/sift_octaves.py table OUT.json

`dump` runs the logo check on bench cases (bench/logo_findings.py's selection) and, for every
placement it keeps, the photo keypoints that agree with it (its matches within 4 working px of
where the placement puts their reference points): each one's channel, signed octave
(kp.octave & 255; -1 is the doubled input OpenCV's SIFT always builds first) and size in working
pixels. The findings are written as logo_findings.py writes them, so `logo_findings.py compare`
compares two dumps. `--ablate` drops keypoints of the whole-photo search before matching (to ask
whether any crest needs them): `fine-enlarged` the grey doubled octave of photos enlarged to the
working size, `fine-full` that of photos searched at or below their own size, `chroma` every
colour-channel keypoint. `--tree` imports `screening` from another checkout (e.g. main).
`table` prints the study by size band and by whether the photo was enlarged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
_W: dict = {}


def _init(trust: str, tree: str | None, ablate: str | None, without=(), pair=None) -> None:
    if tree:
        sys.path.insert(0, tree)
    else:
        sys.path.insert(0, str(HERE.parent))
    import cv2

    cv2.setNumThreads(1)
    from screening.config import load_config
    from screening.detectors.logos import STEPS, LogoDetector

    sys.path.insert(0, str(HERE))
    import logo_findings

    _W["set"] = logo_findings.SET
    config = load_config(logo_findings.SET / trust)
    # --pair STEP: each case run with STEP (OUT) and without it (OUT.before.json), one after the other
    _W["det"] = LogoDetector(config, cache=logo_findings.SET / "cache",
                             steps=(STEPS - set(without)) | ({pair} if pair else set()))
    _W["before"] = LogoDetector(config, cache=logo_findings.SET / "cache", steps=STEPS - {pair}) if pair else None
    _W["ablate"] = ablate
    _instrument()


def _signed(octave: int) -> int:
    o = octave & 255
    return o - 256 if o >= 128 else o


def _instrument() -> None:
    """Wrap the matcher to record each photo keypoint's octave and size, and each kept placement's inliers."""
    import cv2

    import screening.vision.logo_match as lm
    from screening.detectors import logos as L
    from screening.vision.logo_match import index as ix

    S = _W
    S["placed"], S["where"] = [], None
    log: list = []

    def features(grey):
        kps, desc = lm.sift().detectAndCompute(grey, None)
        chan = S["order"][len(log)] if len(log) < len(S["order"]) else -1
        if desc is None:
            log.append((np.zeros(0, np.int32), np.zeros(0, np.float32), grey.shape))
            return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
        octv = np.int32([_signed(k.octave) for k in kps])
        size = np.float32([k.size for k in kps])
        pts = np.float32([k.pt for k in kps])
        keep = np.ones(len(kps), bool)
        ab, zoom = S["ablate"], S.get("zoom", 1.0)
        if S["where"] == "photo" and ab:
            if ab == "fine-enlarged" and chan == lm.GREY and zoom > 1:
                keep = octv >= 0
            elif ab == "fine-full" and chan == lm.GREY and zoom <= 1:
                keep = octv >= 0
            elif ab == "chroma" and chan != lm.GREY:
                keep[:] = False
        log.append((octv[keep], size[keep], grey.shape))
        return pts[keep], desc.astype(np.float32)[keep]

    ix.features = features
    original = ix.image_features

    def image_features(rgb, channels, *a, **kw):
        log.clear()
        S["order"] = [c for c in (lm.GREY, lm.CHROMA_A, lm.CHROMA_B) if c in channels]
        out = original(rgb, channels, *a, **kw)
        table = {}
        for c, (octv, size, shape) in zip(S["order"], log):
            f = out[c]
            k = rgb.shape[1] / shape[1]  # working px per SIFT-image px
            for (x, y), o, s in zip(f.pts.tolist(), octv.tolist(), size.tolist()):
                table[(round(x, 2), round(y, 2))] = (c, o, s * k)
        S["table"] = table
        return out

    lm.image_features = image_features
    find, search, placed = L.LogoDetector.find, L.LogoDetector.search, L.LogoDetector._placed

    def find_(self, rgb, refs, zoom=1.0, **kw):
        S["zoom"], S["side"] = zoom, max(rgb.shape[:2])
        return find(self, rgb, refs, zoom, **kw)

    def search_(self, rgb, box=None, **kw):
        before = S["where"]
        S["where"] = "photo" if box is None else "window"
        try:
            return search(self, rgb, box, **kw)
        finally:
            S["where"] = before

    def placed_(self, ref, cands, src, dst, v_grey, v_ab, zoom=1.0):
        out = placed(self, ref, cands, src, dst, v_grey, v_ab, zoom)
        for p in out:
            inl = []
            if len(src):
                proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float32), p.H).reshape(-1, 2)
                for (x, y) in dst[np.linalg.norm(proj - dst, axis=1) < 4].tolist():
                    inl.append(S["table"].get((round(x, 2), round(y, 2)), (-1, 99, 0.0)))
            S["placed"].append({"academy": ref.academy, "score": round(p.score, 3), "source": p.source,
                                "where": S["where"], "zoom": round(S["zoom"], 3), "inliers": inl})
        return out

    L.LogoDetector.find, L.LogoDetector.search, L.LogoDetector._placed = find_, search_, placed_


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def _run(row: dict) -> dict | tuple[dict, dict]:
    from PIL import Image

    rgb = np.asarray(Image.open(_W["set"] / "cases" / row["file"]).convert("RGB"))
    if _W["before"] is None:
        return _case(_W["det"], row, rgb)
    return _case(_W["before"], row, rgb), _case(_W["det"], row, rgb)


def _case(det, row: dict, rgb: np.ndarray) -> dict:
    from screening.config import LogoSettings

    _W["placed"] = []
    t = time.perf_counter()
    c = time.process_time()
    found = det.detect(_Picture(rgb), {})
    out = {"file": row["file"], "kind": row["kind"], "band": row.get("band"), "academy": row.get("academy"),
           "seconds": time.perf_counter() - t, "cpu": time.process_time() - c, "side": max(rgb.shape[:2]),
           "findings": [{"academy": f.academy, "also": list(f.also), "score": f.score, "box": list(f.box),
                         "detail": f.detail} for f in found]}
    mine = [p for p in _W["placed"] if p["academy"] == row.get("academy")
            and p["score"] >= LogoSettings().min_score]
    out["crest"] = max(mine, key=lambda p: p["score"]) if mine else None
    return out


def dump(args) -> int:
    sys.path.insert(0, str(HERE))
    import logo_findings

    rows = [r for r in logo_findings.cases(args.every, None, None if args.only == "all" else args.only) if r["kind"] in args.kinds]
    if args.enlarged is not None:  # only photos smaller (or not) than the working size
        from PIL import Image

        rows = [r for r in rows if (max(Image.open(logo_findings.SET / "cases" / r["file"]).size) < 1400)
                == args.enlarged]
    groups = defaultdict(list)  # kinds and bands taken in turn: a run cut short still samples each
    for r in rows:
        groups[r["kind"], r.get("band")].append(r)
    rows = [g[k] for k in range(max(map(len, groups.values()), default=0)) for g in groups.values() if k < len(g)]
    if args.part:  # k/n: every nth case from the kth (runs side by side share the set)
        k, n = map(int, args.part.split("/"))
        rows = rows[k::n]
    t = time.perf_counter()
    out, before = [], []
    init = (args.trust, args.tree, args.ablate, args.without, args.pair)
    with Pool(args.workers, initializer=_init, initargs=init) as pool, \
            open(f"{args.out}.partial", "w", encoding="utf-8") as partial, \
            open(f"{args.out}.before.partial", "w", encoding="utf-8") as partial_before:
        for got in pool.imap(_run, rows, chunksize=1):
            if args.pair:
                before.append(got[0])
                partial_before.write(json.dumps(got[0]) + "\n")
                partial_before.flush()
                got = got[1]
            out.append(got)
            partial.write(json.dumps(got) + "\n")
            partial.flush()
    Path(args.out).write_text(json.dumps(out, indent=0), encoding="utf-8")
    if args.pair:
        Path(f"{args.out}.before.json").write_text(json.dumps(before, indent=0), encoding="utf-8")
    print(f"{len(out)} cases in {time.perf_counter() - t:.0f} s -> {args.out}")
    return 0


def table(args) -> int:
    """Inliers of each found crest's best placement, by size band and enlarged or not."""
    text = Path(args.dump).read_text(encoding="utf-8")
    rows = [json.loads(x) for x in text.splitlines() if x.strip()] if args.dump.endswith(".partial") \
        else json.loads(text)
    groups = defaultdict(list)
    for r in rows:
        if r.get("crest"):
            groups[r["band"], "enlarged" if r["crest"]["where"] == "photo" and r["side"] < 1400 else
                   "window" if r["crest"]["where"] == "window" else "full-size"].append(r)
    print("| band | photo | found | inliers (median) | grey at octave -1 | grey at 0 / 1 / >=2 | colour channels "
          "| crests with < 5 inliers outside the doubled grey octave | crests with colour inliers (of them, mostly "
          "colour) | colour inliers at octave -1 | sizes of grey octave -1 inliers (working px, median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (band, where), rs in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        inl = [i for r in rs for i in r["crest"]["inliers"]]
        grey = [i for i in inl if i[0] == 0]
        fine = [i for i in grey if i[1] == -1]
        colour = [i for i in inl if i[0] in (1, 2)]
        need = [r["file"] for r in rs if sum(1 for i in r["crest"]["inliers"] if not (i[0] == 0 and i[1] == -1)) < 5]
        with_colour = [r["file"] for r in rs if any(i[0] in (1, 2) for i in r["crest"]["inliers"])]
        mostly = [r["file"] for r in rs if 2 * sum(1 for i in r["crest"]["inliers"] if i[0] in (1, 2))
                  > len(r["crest"]["inliers"]) > 0]
        by = [sum(1 for i in grey if i[1] == o) for o in (0, 1)] + [sum(1 for i in grey if i[1] >= 2)]
        med = int(np.median([len(r["crest"]["inliers"]) for r in rs]))
        sizes = np.median([i[2] for i in fine]) if fine else 0
        print(f"| {band} | {where} | {len(rs)} | {med} | {len(fine)}/{len(grey)} | {' / '.join(map(str, by))} "
              f"| {len(colour)} | {len(need)} {need[:6]} | {len(with_colour)} ({len(mostly)}) "
              f"| {sum(1 for i in colour if i[1] == -1)}/{len(colour)} | {sizes:.1f} |")
    found = sum(1 for r in rows if r.get("crest"))
    print(f"{found} of {len(rows)} cases with a placement of their academy at min_score")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--every", type=int, default=1)
    d.add_argument("--only", choices=("odd", "even", "all"), default="even")
    d.add_argument("--kinds", nargs="*", default=["crest", "family_crest"])
    d.add_argument("--ablate", choices=("fine-enlarged", "fine-full", "chroma"), default=None)
    d.add_argument("--tree", default=None, help="import screening from this checkout")
    d.add_argument("--trust", default="screening.toml")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--without", nargs="*", default=[], help="logo steps left out")
    d.add_argument("--pair", default=None, help="also run each case without this step: OUT.before.json")
    d.add_argument("--enlarged", type=lambda v: v == "yes", default=None, help="yes/no: photos under 1400 px or not")
    d.add_argument("--part", default=None, help="k/n: every nth case from the kth")
    t = sub.add_parser("table")
    t.add_argument("dump")
    args = ap.parse_args()
    return table(args) if args.cmd == "table" else dump(args)


if __name__ == "__main__":
    sys.exit(main())

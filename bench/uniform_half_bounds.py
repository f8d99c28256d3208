"""How many of the half-crest search's placements could a bound over every place rule out, and
what would the bound cost? A measurement for issue 16 (the uniform check's cost at 50 academies),
run by hand:

    .venv/bin/python bench/uniform_half_bounds.py EARLIER.pkl [--academies N]
    .venv/bin/python bench/uniform_half_bounds.py KIND --academies N     # e.g. blazer_crest_cut

EARLIER.pkl is `bench/uniform_findings.py earlier ... --scan --academies N` (the whole-scan
table's photos, the face and logo checks' findings); KIND, the bench's uniform cases of that kind
(their true face given, no logo findings: every chest searched). The uniform check runs on them; every time the half-crest search places one half of one reference at one badge width
(`halves._match`), this also works out, at *every* place of the view, upper bounds of the score
`_alike` would give there (its parts and lightness pattern counted as agreeing):

- `shift`: the colour factor alone (the mean colour of the half's crest pixels at each place
  against the reference's: `_alike`'s first test);
- `strength`: that, and the colour pattern's strength (`_chroma_corr` with its correlation
  counted as 1): both need only sums over the half's mask, the same for every academy of one
  crest layout;
- `colour`: that, with the colour pattern's correlation itself (one correlation of the view's
  Lab a, b with each reference's half: a correlation per reference, as the search's own).

A bound below the academy's floor everywhere means the search cannot find that half there: it
could be skipped and nothing would change. Printed: how many placements each bound rules out,
where `_alike` turned down the place the search chose (which of its tests), and the CPU time of
the search against that of the `colour` bound's correlations (OpenCV, one thread).
"""

from __future__ import annotations

import argparse
import collections
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from screening.vision.logo_match import halves  # noqa: E402
from screening.vision.logo_match.params import ACHROMATIC, CHROMA_AGREES, SHIFT_CAST, SHIFT_FAR  # noqa: E402
from screening.vision.logo_match.verify import _chroma_corr, _ncc  # noqa: E402

# a bound must fall this far below the floor to count as ruling a half out (float32 correlations)
MARGIN = 0.01
stats: collections.Counter = collections.Counter()
seconds: collections.Counter = collections.Counter()


def _corr(img: np.ndarray, t: np.ndarray) -> np.ndarray:
    return cv2.matchTemplate(np.ascontiguousarray(img, np.float32), np.ascontiguousarray(t, np.float32),
                             cv2.TM_CCORR)


def _score(ch, far):
    """The most `_alike` can give with colour pattern `ch` and colour factor `far`."""
    return (0.7 + 0.3 * ch) * np.minimum(1, ch / CHROMA_AGREES) * far


def bounds(ab: np.ndarray, ref, half) -> dict[str, float] | None:
    """The three bounds' best over every place of the view (None: the half does not fit)."""
    th, tw = half.mask.shape
    if ab.shape[0] < th or ab.shape[1] < tw:
        return None
    mask = half.mask.astype(np.float32)
    n = float(mask.sum())
    r = ref.v_ab[half.ys, half.xs]
    r_mean = r[half.mask].mean(axis=0)
    e_r = float(((r[half.mask] - r_mean) ** 2).sum())
    r_norm = np.sqrt(e_r / n)
    centre = ab.reshape(-1, 2).mean(axis=0)  # sums of a centred view: less single-precision cancellation
    q = ab - centre
    mu = np.dstack([_corr(q[..., c], mask) for c in range(2)]) / n  # mean colour at every place
    e_q = np.maximum(_corr((q * q).sum(axis=2), mask) - n * (mu * mu).sum(axis=2), 1e-6)
    shift = np.linalg.norm(mu + centre - r_mean, axis=2)
    far = np.clip((SHIFT_FAR - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1)
    q_norm = np.sqrt(e_q / n)
    out = {"shift": float(_score(1.0, far).max())}
    if r_norm < ACHROMATIC:  # `_chroma_corr` of an achromatic crest needs no correlation
        ch = np.maximum(0, 1 - q_norm / 12)
        out["strength"] = out["colour"] = float(_score(ch, far).max())
        return out
    strength = np.minimum(1, 0.5 + np.minimum(q_norm, r_norm) / np.maximum(np.maximum(q_norm, r_norm), 1e-6))
    out["strength"] = float(_score(strength, far).max())
    t = time.process_time()
    dev = (r - r_mean) * half.mask[..., None]
    corr = (_corr(q[..., 0], dev[..., 0]) + _corr(q[..., 1], dev[..., 1])) / np.sqrt(e_q * e_r)
    seconds["colour bound's correlations"] += time.process_time() - t
    out["colour"] = float(_score(np.maximum(0, corr) * strength, far).max())
    return out


_match = halves._match
_alike = halves._alike


def match(ref, side, half, views, ab, s, floor=0.0):
    t, noted = time.process_time(), seconds["noting"]
    m = _match(ref, side, half, views, ab, s, floor)
    seconds["the search (halves._match)"] += time.process_time() - t - (seconds["noting"] - noted)
    got = bounds(ab, ref, half) if half is not None else None
    if got is not None:
        stats["placements"] += 1
        for name, b in got.items():
            stats[f"ruled out by the {name} bound"] += b < floor - MARGIN
            if m is not None and m.score > b + 1e-3:
                stats[f"BROKEN: the {name} bound below a score found"] += 1
        stats["scored in full (past _alike's early tests)"] += m is not None
    return m


def alike(patch, patch_ab, ref, half, floor=0.0):
    """`_alike`, noting which of its tests turned the place down (its time not the search's)."""
    t = time.process_time()
    mask, ys, xs = half.mask, half.ys, half.xs
    ref_ab, ab = ref.v_ab[ys, xs][mask], patch_ab[mask]
    far = float(np.clip((SHIFT_FAR - float(np.linalg.norm(ab.mean(axis=0) - ref_ab.mean(axis=0))))
                        / (SHIFT_FAR - SHIFT_CAST), 0, 1))
    if far < floor:
        stats["the chosen place failed: mean colour"] += 1
    else:
        chroma = _chroma_corr(ab, ref_ab)
        colour = min(1.0, chroma / CHROMA_AGREES) * far
        if (0.7 + 0.3 * chroma) * colour < floor:
            stats["the chosen place failed: colour pattern"] += 1
        elif (0.4 * max(0.0, _ncc(patch[mask], half.pattern[mask])) + 0.3 * chroma + 0.3) * colour < floor:
            stats["the chosen place failed: lightness pattern"] += 1
    seconds["noting"] += time.process_time() - t
    return _alike(patch, patch_ab, ref, half, floor)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="an `earlier` pickle, or a uniform kind (e.g. blazer_crest_cut)")
    ap.add_argument("--academies", type=int, default=None, help="the trust's first N (default: as saved)")
    ap.add_argument("--trust", default="trust50.toml")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    import uniform_findings as uf
    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector
    from screening.model import Check, CheckResult, FaceFinding

    if args.source.endswith(".pkl"):
        with open(args.source, "rb") as fh:
            saved = pickle.load(fh)
        rows, given, trust = saved["rows"], saved["results"], saved["trust"]
        n = args.academies if args.academies is not None else saved.get("academies")
    else:
        rows = [r for r in uf.cases(10 ** 9) if r.get("face") and r["kind"] == args.source]
        given = {r["file"]: {Check.FACES: CheckResult(Check.FACES, (FaceFinding(tuple(r["face"])),))} for r in rows}
        trust, n = args.trust, args.academies
    config = uf._config(trust, n)
    det = UniformDetector(config, LogoDetector(config, cache=uf.SET / "cache"))
    halves._match, halves._alike = match, alike
    for row in rows:
        det.detect(uf._picture(row), dict(given[row["file"]]))
    print(f"{len(rows)} photos, {n or 'all'} academies of {trust}")
    for k, v in sorted(stats.items()):
        print(f"  {k}: {v}")
    for k, v in seconds.items():
        if k != "noting":
            print(f"  CPU, {k}: {v:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

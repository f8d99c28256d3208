"""Which academies the uniform check's half-crest search is asked for, torso by torso, and how
many would be left if an academy's trim colour had to be on the torso too (a measurement for
issue 16: not what the check does), run by hand:

    .venv/bin/python bench/uniform_half_pairs.py EARLIER.pkl            # as `uniform_findings.py earlier` saved
    .venv/bin/python bench/uniform_half_pairs.py KIND --academies N      # a uniform kind, true faces, no logos

For each torso searched: the academies (with a crest) whose main colour qualifies them today,
those of them with a trim colour at `TRIM_SHARE` or more of the torso's middle, and the half
crest found, if any (would it still be searched with the trim colour required?).
"""

from __future__ import annotations

import argparse
import collections
import pickle
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import screening.detectors.uniforms as uniforms  # noqa: E402

log: list[tuple[str, list[str], list[str], str | None]] = []
_now: dict = {}
_torso = uniforms.UniformDetector.torso
_half_crest = uniforms.UniformDetector._half_crest


def torso(self, rgb, box, why, frame, face=None, crests=()):
    x, y, w, h = box
    region = rgb[y:y + h, x:x + w]
    _now["shares"] = self._main_shares(region) if region.size else []
    return _torso(self, rgb, box, why, frame, face, crests)


def half_crest(self, rgb, box, face, frame, academies, weak=None):
    got = _half_crest(self, rgb, box, face, frame, academies, weak)
    ids = [a.id for a in self.academies]
    trims = {ids[k]: any(t >= uniforms.TRIM_SHARE for t in shares[2]) for k, shares in enumerate(_now["shares"])}
    searched = sorted(a for a in academies if a in self.crest_ids)
    log.append((_now["file"], searched, [a for a in searched if trims.get(a)], got.academy if got else None))
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="an `earlier` pickle, or a uniform kind (e.g. blazer_crest_cut)")
    ap.add_argument("--academies", type=int, default=None)
    ap.add_argument("--trust", default="trust50.toml")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    import uniform_findings as uf
    from screening.detectors.logos import LogoDetector
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
    det = uniforms.UniformDetector(config, LogoDetector(config, cache=uf.SET / "cache"))
    uniforms.UniformDetector.torso, uniforms.UniformDetector._half_crest = torso, half_crest
    for row in rows:
        _now["file"] = row["file"]
        det.detect(uf._picture(row), dict(given[row["file"]]))
    pairs, kept = sum(len(s) for _, s, _, _ in log), sum(len(k) for _, _, k, _ in log)
    print(f"{len(rows)} photos, {n or 'all'} academies of {trust}: {len(log)} torsos searched for half crests, "
          f"{pairs} academy-torso pairs; with the trim colour required too: {kept}")
    print("academies searched (torsos):", dict(collections.Counter(a for _, s, _, _ in log for a in s).most_common()))
    for name, searched, with_trims, got in log:
        if got:
            print(f"  half found: {name} {got} ({'its trim colour on the torso' if got in with_trims else 'NO trim colour: lost if required'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

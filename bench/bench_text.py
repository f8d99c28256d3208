"""How well the text check finds academy and register names, and what it costs (one run, one process).

Needs the set from bench/make_text_set.py. Prints: recall of academy names/aliases and of register
full names by capital height, surface, angle, perspective and contrast; decoys and clean photos
flagged; the effect of [text] min_similarity; the check's time per 12 MP photo against the face
check's on the same photos; and Tesseract (Debian's tesseract-ocr, when on the PATH) on the same set.

    .venv/bin/python bench/make_text_set.py --quick && .venv/bin/python bench/bench_text.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening import imaging  # noqa: E402
from screening.config import load_config  # noqa: E402
from screening.detectors.text import TextDetector  # noqa: E402
from screening.model import Check, CheckResult, Kind  # noqa: E402
from screening.consent.register import load_register  # noqa: E402
from screening.policy import rules_for  # noqa: E402
from screening.vision.ocr import DET_LETTER_PX, OcrEngine, TextLine  # noqa: E402

SET = REPO / "bench" / "out" / "text_set"


def flagged(findings, rules, truth) -> tuple[bool, bool]:
    """(the expected name was flagged, anything was flagged as text)."""
    from screening.policy import decide

    reasons = [r for r in decide([CheckResult(Check.TEXT, tuple(findings))], rules).reasons if r.kind is Kind.TEXT]
    expect = truth.get("expect") or {}
    hit = any(all(r.extra.get(k) == v for k, v in expect.items()) for r in reasons) if expect else False
    return hit, bool(reasons)


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "-"


def tesseract_lines(path: Path) -> list[TextLine]:
    """Tesseract's words grouped into its lines, as TextLines (score: mean word confidence)."""
    out = subprocess.run(["tesseract", str(path), "stdout", "--psm", "11", "tsv"], capture_output=True,
                         text=True, timeout=300).stdout
    groups: dict[tuple, list] = defaultdict(list)
    for row in out.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip() or float(cols[10]) < 0:
            continue
        left, top, w, h = map(int, cols[6:10])
        groups[tuple(cols[1:5])].append((left, top, w, h, float(cols[10]) / 100, cols[11]))
    lines = []
    for words in groups.values():
        x0 = min(w[0] for w in words)
        y0 = min(w[1] for w in words)
        x1 = max(w[0] + w[2] for w in words)
        y1 = max(w[1] + w[3] for w in words)
        quad = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        lines.append(TextLine(quad, (x0, y0, x1 - x0, y1 - y0), " ".join(w[5] for w in words),
                              float(np.mean([w[4] for w in words])), y1 - y0))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer 12 MP timing photos")
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--tesseract-every", type=int, default=1, help="run Tesseract on every Nth case only")
    ap.add_argument("--det-letter-px", type=float, default=DET_LETTER_PX,
                    help="capital height (px) the smallest letters have where detection works")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} not found: run bench/make_text_set.py first")
        return 0
    config = load_config(SET / "screening.toml")
    register = load_register(config.register, config.channels, tuple(a.id for a in config.academies))
    names = tuple((p.person_id, p.name) for p in register.people.values())
    rules = rules_for(config, register, config.default_channel, __import__("datetime").date(2026, 11, 27))
    rules = dataclasses.replace(rules, required=(Check.TEXT,))
    detector = TextDetector(config, names, engine=engine(config, args.det_letter_px))
    truth = [json.loads(line) for line in (SET / "truth.jsonl").read_text().splitlines()]
    tesseract = None if args.no_tesseract else shutil.which("tesseract")

    rows = []
    seconds, t_seconds = [], []
    for t in truth:
        picture = imaging.load(SET / "cases" / t["case"])
        started = time.perf_counter()
        findings = detector.detect(picture, {})
        seconds.append((time.perf_counter() - started, picture.size))
        row = {"truth": t, "findings": findings}
        if tesseract and len(rows) % args.tesseract_every == 0:
            started = time.perf_counter()
            row["tesseract"] = detector.findings(tesseract_lines(SET / "cases" / t["case"]))
            t_seconds.append(time.perf_counter() - started)
        rows.append(row)
        print(f"\r{len(rows)}/{len(truth)} cases", end="", file=sys.stderr, flush=True)

    def table(engine: str, rules, only: str | None = None) -> dict:
        agg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        misses, false = [], []
        for row in rows:
            if only and only not in row:
                continue
            t = row["truth"]
            hit, any_text = flagged(row[engine], rules, t)
            kind = t["kind"]
            if kind in ("academy", "person"):
                keys = [kind, f"{kind} {t['band']}", f"surface {t['surface']}",
                        f"angle {'0-5' if abs(t['angle']) < 5 else '5-10' if abs(t['angle']) < 10 else '10-15'}",
                        f"perspective {t['perspective']}", f"contrast {t['contrast']}"]
                for k in keys:
                    agg[k][0] += hit
                    agg[k][1] += 1
                if not hit:
                    misses.append(t)
            else:
                for k in (kind, f"{kind}: {t['category']}", "decoys and clean"):
                    agg[k][0] += any_text
                    agg[k][1] += 1
                if any_text:
                    false.append((t, row[engine]))
        return {"agg": agg, "misses": misses, "false": false}

    ours = table("findings", rules)
    print(f"\n## Text check on {len(rows)} cases ({SET.relative_to(REPO)}), min_similarity {rules.text_min_similarity}")
    peer = table("tesseract", rules, only="tesseract") if tesseract else None
    same = table("findings", rules, only="tesseract") if tesseract else None
    print("\n| measure | screening (PP-OCRv4) | screening, Tesseract's cases | Tesseract "
          + (_version() if tesseract else "(not installed)") + " |")
    print("|---|---|---|---|")
    for key in sorted(ours["agg"], key=_order):
        a = ours["agg"][key]
        b = peer["agg"].get(key) if peer else None
        c = same["agg"].get(key) if same else None
        print(f"| {key} | {pct(*a)} | {pct(*c) if c else '-'} | {pct(*b) if b else '-'} |")
    speed = np.mean([s for s, _ in seconds])
    print(f"| mean seconds per case (sizes {min(max(z) for _, z in seconds)}-{max(max(z) for _, z in seconds)} px) "
          f"| {speed:.2f} | | {np.mean(t_seconds):.2f} |" if t_seconds else f"| mean seconds per case | {speed:.2f} | | - |")

    print("\n### min_similarity (screening's findings, decided again)")
    print("| min_similarity | academy names | register names | decoys flagged | clean flagged |")
    print("|---|---|---|---|---|")
    for s in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        agg = table("findings", dataclasses.replace(rules, text_min_similarity=s))["agg"]
        print(f"| {s} | {pct(*agg['academy'])} | {pct(*agg['person'])} | {pct(*agg['decoy'])} | {pct(*agg['clean'])} |")

    print("\n### unreadable text as a reason ([text] unreadable_min_px; min_read_score "
          f"{rules.text_min_read_score})")
    print("| unreadable_min_px | academy names | register names | decoys flagged | clean flagged |")
    print("|---|---|---|---|---|")
    for px in (0, 120, 80, 60, 40):
        agg = table("findings", dataclasses.replace(rules, text_unreadable_min_px=px))["agg"]
        print(f"| {px or 'off (default)'} | {pct(*agg['academy'])} | {pct(*agg['person'])} | {pct(*agg['decoy'])} "
              f"| {pct(*agg['clean'])} |")

    print("\n### missed (screening)")
    for t in ours["misses"][:25]:
        print(f"- {t['case']}: {t['text']!r} {t['surface']} {t['letter_px']} px, {t['angle']} deg, "
              f"persp {t['perspective']}, {t['contrast']} contrast, {t['font']}")
    print("\n### decoys and clean photos flagged (screening)")
    for t, findings in ours["false"][:25]:
        got = [f"{f.text!r}->{f.name or 'unreadable'} {f.similarity}" for f in findings if f.target]
        print(f"- {t['case']}: {t.get('name') or t.get('text') or t.get('source')!r} ({t['category']}): {got}")

    print(f"\n(detection at {args.det_letter_px} px for {config.text.min_letter_px} px capitals)")
    timing(config, names, 4 if args.quick else 10, detector)
    return 0


def _order(key: str):
    head = ["academy", "person", "decoy", "clean", "decoys and clean"]
    return (head.index(key) if key in head else len(head), key)


def _version() -> str:
    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split()
    return out[1] if len(out) > 1 else ""


def engine(config, det_letter_px: float) -> OcrEngine:
    return OcrEngine(min_letter_px=config.text.min_letter_px, det_letter_px=det_letter_px,
                     tile_side=config.text.tile_side)


def timing(config, names, count: int, text: TextDetector) -> None:
    """Text check vs face check on the same 12 MP photos (4000x3000), one process, one thread each."""
    import cv2
    from PIL import Image

    from screening.detectors.faces import FaceDetector
    from screening.imaging import Picture

    cv2.setNumThreads(1)
    faces = FaceDetector(config.faces, None)
    cases = sorted((SET / "cases").glob("*-academy.jpg"))[:count]
    pictures = []
    for p in cases:
        im = Image.open(p).convert("RGB").resize((4000, 3000), Image.LANCZOS)
        pictures.append(Picture(path=p, data=b"", format="JPEG", frames=[np.asarray(im)]))
    text.detect(pictures[0], {})  # warm both up: first-run costs are not per photo
    faces.detect(pictures[0], {})
    face_s, text_s = [], []
    for pic in pictures:
        started = time.perf_counter()
        faces.detect(pic, {})
        face_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        text.detect(pic, {})
        text_s.append(time.perf_counter() - started)
    f, t = float(np.mean(face_s)), float(np.mean(text_s))
    print(f"\n### cost per 12 MP photo ({len(pictures)} photos, one process, 1 thread)")
    print("| check | seconds per photo | vs faces |")
    print("|---|---|---|")
    print(f"| faces | {f:.2f} | 1.00x |")
    print(f"| text | {t:.2f} | {t / f:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())

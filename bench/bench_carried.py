"""Does the search for carried pictures change anything on real files? For every image and clip
under ../shared/data (or the folders given), load it as screening does (decode, every view) and
print one JSON line: the file, the views, the repeats, the error. Run it with two versions' Python
(PYTHONPATH=<tree>) and compare the outputs with --compare A B: files whose outcome changed.

    PYTHONPATH=. .venv/bin/python bench/bench_carried.py > new.jsonl
    PYTHONPATH=../main ../main/.venv/bin/python bench/bench_carried.py > old.jsonl
    .venv/bin/python bench/bench_carried.py --compare old.jsonl new.jsonl
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def outcome(path: Path) -> dict:
    from screening import imaging
    from screening.formats import video

    head = path.read_bytes()[:64]
    fmt = video.sniff(head)
    start = time.perf_counter()
    try:
        if fmt:
            from screening.formats import carried

            try:
                items = carried.clip_pictures(path, fmt)
            except TypeError:  # the version before: MP4 only
                items = carried.clip_pictures(path) if fmt == video.MP4 else []
            return {"views": [i.where for i in items], "repeats": [], "error": None, "s": time.perf_counter() - start}
        picture = imaging.load(path)
        return {"views": picture.views, "repeats": [w for w, _ in picture.repeats], "error": None,
                "s": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return {"views": [], "repeats": [], "error": f"{type(exc).__name__}: {exc}", "s": time.perf_counter() - start}


def files(roots: list[Path]):
    from screening.formats import sniff
    from screening.formats.video import sniff as video_sniff

    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            head = path.read_bytes()[:64]
            if sniff(head) or video_sniff(head):
                yield path


def compare(old: Path, new: Path) -> None:
    a = {r["file"]: r for r in map(json.loads, old.read_text().splitlines())}
    b = {r["file"]: r for r in map(json.loads, new.read_text().splitlines())}
    changed = [f for f in a if (a[f]["error"] is None) != (b[f]["error"] is None) or a[f]["views"] != b[f]["views"]
               or a[f]["repeats"] != b[f]["repeats"]]
    errors = (sum(r["error"] is not None for r in a.values()), sum(r["error"] is not None for r in b.values()))
    print(f"| files | errors before | errors after | files whose views, repeats or error changed | "
          f"load time before | after |\n|---|---|---|---|---|---|\n| {len(a)} | {errors[0]} | {errors[1]} | "
          f"{len(changed)} | {sum(r['s'] for r in a.values()):.1f} s | {sum(r['s'] for r in b.values()):.1f} s |")
    for f in changed:
        print(f, a[f], b[f], sep="\n  ")


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        compare(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    roots = [Path(a) for a in sys.argv[1:]] or [Path(__file__).resolve().parents[1].parent / "shared" / "data"]
    for path in files(roots):
        print(json.dumps({"file": str(path), **outcome(path)}), flush=True)


if __name__ == "__main__":
    main()

"""Needless location flags from text: the coordinate and postcode parsers (formats/coordtext.py)
run over every caption the product reads in ../shared/data, and (as a stress control) over every
other metadata text it does not read (camera make and model, software, serial numbers, dates,
XMP tool fields) and every file name. Prints how many texts are flagged and why.

    .venv/bin/python bench/bench_location_text.py [--quick] [--show] [--corpus FILE_OR_FOLDER ...]

--corpus adds ordinary prose full of numbers, versions, dates and codes (e.g. the Debian
changelogs under /usr/share/doc, gzipped or not), each line read as one caption. The code
measured is the `screening` imported: PYTHONPATH=<another checkout> measures that one.

Measurement only: nothing under ../shared/data is written or copied.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
import warnings
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared_photos import SHARED  # noqa: E402

from screening.formats import captions, coordtext  # noqa: E402
from screening.formats.metadata import read_blocks  # noqa: E402

try:  # what3words addresses and short plus codes (RT29-19); absent in checkouts before it
    from screening.formats import geocodes  # noqa: E402
except ImportError:
    geocodes = None

IMAGES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heif", ".heic", ".webp", ".gif")


def files(quick: bool) -> list[Path]:
    if not SHARED.is_dir():
        return []
    found = sorted(p for p in SHARED.rglob("*") if p.is_file() and p.suffix.lower() in IMAGES)
    return found[::3] if quick else found


def read_texts(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(captions the product reads, other metadata texts it does not read) of one file."""
    data = path.read_bytes()
    info: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as im:
                info = dict(im.info)
                exif = im.getexif()
                every = [(f"EXIF 0x{k:04X}", v) for k, v in list(exif.items()) + list(exif.get_ifd(0x8769).items())]
        except Exception:
            every = []
    own = captions.photo_captions(data)
    read = own + captions.info_captions(info, own) + captions.sidecar_captions(path)
    known = {text for _, text in read}
    other = [(w, v.strip("\x00 ")) for w, v in every if isinstance(v, str) and v.strip("\x00 ") not in known]
    try:
        for packet in read_blocks(data).xmp:  # every XMP text value and attribute, tool fields included
            text = packet.decode("utf-8", "replace")
            other += [("XMP value", v) for v in re.findall(r">([^<>]{2,200})<", text) if v.strip() not in known]
            other += [("XMP attribute", v) for v in re.findall(r'="([^"]{2,200})"', text) if v not in known]
    except Exception:
        pass
    other.append(("file name", path.name))
    return read, [(w, v) for w, v in other if v.strip()]


def flags(text: str) -> list[str]:
    out = [f"position {p.lat},{p.lon} from {p.raw!r}" if p.problem is None else f"malformed {p.raw!r}"
           for p in coordtext.positions(text)]
    places = [f"{p.label} {p.value!r}" for p in geocodes.places(coordtext.plain(text))] if geocodes else []
    return out + [f"postcode {c!r}" for c in coordtext.postcodes(text)] + places


def corpus_lines(roots: list[str], limit: int) -> list[tuple[str, str]]:
    """(file, line) of the text files under `roots`, sorted, up to `limit` lines with a digit."""
    paths = sorted(q for r in roots for q in ([Path(r)] if Path(r).is_file() else Path(r).rglob("*"))
                   if q.is_file() and not q.is_symlink())
    out: list[tuple[str, str]] = []
    for path in paths:
        try:
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        if b"\x00" in raw[:4096]:
            continue  # binary
        out += [(path.name, line.strip()) for line in raw.decode("utf-8", "replace").splitlines()
                if re.search(r"\d", line)]
        if len(out) >= limit:
            return out[:limit]
    return out


def run_corpus(roots: list[str], limit: int, show: bool) -> None:
    start = time.perf_counter()
    lines = corpus_lines(roots, limit)
    why: dict[str, int] = {}
    flagged = 0
    for name, line in lines:
        found = flags(line)
        flagged += bool(found)
        for f in found:
            kind = f.split(" ")[0]
            why[kind] = why.get(kind, 0) + 1
        if found and show:
            print(f"  corpus: {name}: {line[:90]!r} -> {'; '.join(found)}")
    print(f"corpus: {len(lines)} lines with a digit, {flagged} flagged {why} ({time.perf_counter() - start:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="every third file")
    ap.add_argument("--show", action="store_true", help="print each flagged text")
    ap.add_argument("--corpus", nargs="*", default=[], help="text files or folders of ordinary prose")
    ap.add_argument("--lines", type=int, default=200_000, help="at most this many corpus lines")
    args = ap.parse_args()
    if args.corpus:
        run_corpus(args.corpus, args.lines // (4 if args.quick else 1), args.show)
    paths = files(args.quick)
    if not paths:
        print("no ../shared/data: nothing measured")
        return
    start = time.perf_counter()
    tally = {"caption": [0, 0, 0], "other": [0, 0, 0]}  # texts, with a digit, flagged
    flagged_files: set[Path] = set()
    for path in paths:
        read, other = read_texts(path)
        for kind, texts in (("caption", read), ("other", other)):
            for where, text in texts:
                tally[kind][0] += 1
                tally[kind][1] += bool(re.search(r"\d", text))
                why = flags(text)
                if why:
                    tally[kind][2] += 1
                    flagged_files.add(path) if kind == "caption" else None
                    if args.show:
                        print(f"  {kind}: {path.relative_to(SHARED)} {where}: {text[:80]!r} -> {'; '.join(why)}")
    print(f"{len(paths)} files in {time.perf_counter() - start:.1f} s")
    print("texts                                   | texts | with a digit | flagged")
    print(f"captions the product reads               | {tally['caption'][0]:5} | {tally['caption'][1]:12} | "
          f"{tally['caption'][2]:7}")
    print(f"other metadata + file names (not read)   | {tally['other'][0]:5} | {tally['other'][1]:12} | "
          f"{tally['other'][2]:7}")
    print(f"files with a flagged caption: {len(flagged_files)}")


if __name__ == "__main__":
    main()

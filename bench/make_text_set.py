"""Build the text evaluation set into bench/out/text_set/ (git-ignored).

Names drawn on signs, banners, badges, certificates, display boards and kit, composited onto
the photos of ../shared/data (or, without it, the two public-domain photos of samples/) at
capital heights from 20 px, turned up to 15 degrees, in perspective, in low contrast, saved as
JPEG 70-95. Decoys in the same styles: other schools' names, ordinary signage, people who are not
in the register, a first name alone, words close to an academy's name. Clean photos: the shared
photos untouched, and photos with a camera date stamp or a label drawn on.

    .venv/bin/python bench/make_text_set.py [--quick] [--seed 1]

Writes screening.toml (three academies with aliases), register.csv, cases/*.jpg and
truth.jsonl (one line per case: kind, expected academy or person_id, letter_px, how it was made).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from shared_photos import big_enough, shared_photos  # bench/, beside this script

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO / "samples" / "public-domain"
OUT = REPO / "bench" / "out" / "text_set"

ACADEMIES = {
    "north": ("Trinity North Academy", ["Trinity North", "TNA"]),
    "aidan": ("St Aidan's Academy", ["St Aidans"]),
    "field": ("Northfield Primary Academy", ["Northfield"]),
}
FIRST = ["Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Freya", "Arthur", "Ivy", "Theo", "Rosie",
         "Harry", "Grace", "Jack", "Mia", "Alfie", "Poppy", "Oscar", "Daisy", "Muhammad", "Zara", "Kai",
         "Esme", "Finley", "Aisha", "Reuben", "Niamh", "Tomasz", "Chloe", "Ethan"]
LAST = ["Hart", "Bennett", "Okafor", "Patel", "Nowak", "Clarke", "Hughes", "Khan", "Murphy", "Walsh",
        "Fletcher", "Adeyemi", "Kowalski", "Brennan", "Sutton", "Ahmed", "Gallagher", "Price", "Doyle",
        "Whitfield", "Osei", "Lund", "Marsh", "Rahman", "Quinn", "Ellis", "Baxter", "Dunn", "Farrow", "Shaw"]
DECOYS = {
    "other school": ["St Andrew's Academy", "Northgate Primary Academy", "Trinity South Academy",
                     "Oakwood High School", "Holy Cross Catholic Primary", "Westfield Academy",
                     "St Aiden's Church of England School"],
    "signage": ["FIRE EXIT", "Car Park", "Reception", "Please sign in at reception", "NO ENTRY",
                "Keep Clear", "Library", "Toilets", "Visitors report to the office", "Sports Hall",
                "Happy Birthday!", "Open Evening Thursday 7pm"],
    "not in register": ["Amelia Hartley", "Emily Hart", "Oliver Grant", "Sophie Turner", "Jacob Hart",
                        "Isla Bennet-Smith", "Harriet Walsham"],
    "first name alone": ["Amelia", "Oliver", "Isla", "Zara"],
    "near-miss word": ["Northfleet", "Aidensfield", "Trinity Church", "North Academy Road", "Hartfield Way",
                       "Trinity Northern Rail", "Northfold"],
}
BANDS = {"20-30": (20, 30), "30-45": (30, 45), "45-80": (45, 80)}
SURFACES = ("sign", "banner", "badge", "certificate", "board", "kit")


def fonts() -> list[Path]:
    found = []
    for folder in (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")):
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed-Bold.ttf",
                     "LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSerif-Regular.ttf",
                     "LiberationSerif-Bold.ttf"):
            if (folder / name).is_file():
                found.append(folder / name)
    return found


def font(path: Path | None, cap_px: float) -> ImageFont.FreeTypeFont:
    """A font whose capital letters are about cap_px high."""
    probe = ImageFont.truetype(str(path), 100) if path else ImageFont.load_default(100)
    _, top, _, bottom = probe.getbbox("H")
    size = max(6, round(100 * cap_px / max(1, bottom - top)))
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def register_people(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(person_id, name, academy, biometric_consent): 30 pupils, P3001 is Amelia Hart."""
    lasts = LAST[:]
    rng.shuffle(lasts)
    lasts.remove("Hart")
    people = [("P3001", "Amelia Hart", "aidan", "yes")]
    for i, (first, last) in enumerate(zip(FIRST[1:], lasts), start=2):
        people.append((f"P30{i:02d}", f"{first} {last}", rng.choice(list(ACADEMIES)), rng.choice(["yes", "no"])))
    return people


def surface(kind: str, lines: list[str], cap: float, rng: random.Random, contrast: str,
            font_path: Path | None) -> Image.Image:
    """An RGBA drawing of the surface with `lines` on it (the name among ordinary words)."""
    palettes = {
        "sign": [((27, 42, 74), (255, 255, 255)), ((31, 77, 43), (242, 209, 107)), ((240, 240, 232), (20, 20, 20))],
        "banner": [((200, 30, 40), (255, 255, 255)), ((255, 255, 255), (27, 42, 74)), ((20, 90, 160), (255, 240, 0))],
        "badge": [((255, 255, 255), (10, 10, 10)), ((230, 240, 255), (10, 30, 90))],
        "certificate": [((250, 246, 230), (40, 30, 20)), ((255, 255, 255), (20, 40, 100))],
        "board": [((255, 255, 255), (20, 20, 20)), ((255, 250, 200), (30, 30, 30))],
        "kit": [((27, 42, 74), (200, 162, 0)), ((120, 20, 40), (255, 255, 255)), ((240, 240, 240), (20, 60, 20))],
    }
    bg, fg = rng.choice(palettes[kind])
    if contrast == "low":  # text only slightly lighter or darker than its ground
        fg = tuple(round(b + (f - b) * rng.uniform(0.22, 0.35)) for b, f in zip(bg, fg))
    f = font(font_path, cap)
    small = font(font_path, cap * 0.7)
    styled = [(t, small if (kind == "certificate" and t.lower() in ("awarded to", "certificate of achievement"))
               else f) for t in lines]
    widths = [int(fnt.getlength(t)) for t, fnt in styled]
    gap = int(cap * 0.9)
    heights = [int(fnt.getbbox("Hg")[3]) for _, fnt in styled]
    pad = int(cap * (1.2 if kind in ("sign", "banner", "certificate") else 0.7))
    w = max(widths) + 2 * pad
    h = sum(heights) + gap * (len(lines) - 1) + 2 * pad
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    radius = int(cap * 0.6) if kind in ("badge", "kit") else 2
    d.rounded_rectangle((0, 0, w - 1, h - 1), radius=radius, fill=bg + (255,))
    if kind == "certificate":
        d.rectangle((pad // 3, pad // 3, w - pad // 3, h - pad // 3), outline=fg + (255,), width=max(1, int(cap / 8)))
    y = pad
    for (t, fnt), tw, th in zip(styled, widths, heights):
        d.text(((w - tw) // 2, y), t, font=fnt, fill=fg + (255,))
        y += th + gap
    return img


def warp(layer: Image.Image, angle: float, perspective: float, rng: random.Random) -> Image.Image:
    """Turned by `angle` degrees, then seen at a slant (perspective: share the far side shrinks)."""
    out = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
    if perspective > 0:
        w, h = out.size
        d = perspective * h / 2
        # coefficients mapping the output quad back to the input (PIL's PERSPECTIVE transform)
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
        dst = np.array([[0, 0], [w, d], [w, h - d], [0, h]], dtype=np.float64) if rng.random() < 0.5 else \
            np.array([[0, d], [w, 0], [w, h], [0, h - d]], dtype=np.float64)
        out = out.transform((w, h), Image.PERSPECTIVE, _coeffs(dst, src), Image.BICUBIC)
    return out


def _coeffs(pa: np.ndarray, pb: np.ndarray) -> list[float]:
    rows = []
    for (x, y), (X, Y) in zip(pa, pb):
        rows.append([x, y, 1, 0, 0, 0, -X * x, -X * y])
        rows.append([0, 0, 0, x, y, 1, -Y * x, -Y * y])
    a = np.array(rows)
    b = pb.reshape(8)
    return list(np.linalg.solve(a, b))


def backgrounds(rng: random.Random) -> list[Path]:
    good = big_enough(shared_photos() + sorted(PUBLIC.glob("*.png")))
    rng.shuffle(good)
    return good


def open_rgb(path: Path, long_side: int) -> Image.Image:
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    s = long_side / max(im.size)
    return im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)


def lines_for(kind: str, text: str, rng: random.Random, is_person: bool) -> list[str]:
    """The lines of a surface carrying `text`, with the ordinary words such surfaces have."""
    if kind == "banner":
        return rng.choice([["Welcome to", text], [text], [text, "Open Evening Thursday 7pm"]])
    if kind == "certificate":
        return ["Certificate of Achievement", "awarded to", text] if is_person else \
            ["Certificate of Achievement", text]
    if kind == "board":
        return [rng.choice(["Star of the Week", "Our Class Values", "Well done!"]), text]
    if kind == "sign" and not is_person and len(text.split()) >= 3 and rng.random() < 0.4:
        words = text.split()  # a name broken over two lines
        cut = rng.randint(1, len(words) - 1)
        return [" ".join(words[:cut]), " ".join(words[cut:])]
    if kind == "badge" and is_person and rng.random() < 0.4:
        first, last = text.split(" ", 1) if " " in text else (text, "")
        return [first, last] if last else [text]
    return [text]


def spelling(text: str, kind: str, rng: random.Random, is_person: bool) -> str:
    if is_person:
        first, last = text.split(" ", 1)
        return rng.choice([text, text, f"{last.upper()} {first}", f"{last}, {first}"])
    if kind in ("sign", "kit") or rng.random() < 0.3:
        return text.upper()
    return text


def make_case(bg: Image.Image, text: str, kind: str, cap: float, rng: random.Random, is_person: bool,
              font_path: Path | None) -> tuple[Image.Image, dict]:
    contrast = "low" if rng.random() < 0.25 else "normal"
    angle = rng.uniform(-15, 15)
    perspective = rng.choice([0.0, 0.0, 0.15, 0.3])
    shown = spelling(text, kind, rng, is_person)
    lines = lines_for(kind, shown, rng, is_person)
    layer = warp(surface(kind, lines, cap, rng, contrast, font_path), angle, perspective, rng)
    if layer.width >= bg.width or layer.height >= bg.height:
        s = 0.9 * min(bg.width / layer.width, bg.height / layer.height)
        layer = layer.resize((max(1, int(layer.width * s)), max(1, int(layer.height * s))), Image.LANCZOS)
        cap *= s
    x = rng.randint(0, bg.width - layer.width)
    y = rng.randint(0, bg.height - layer.height)
    out = bg.copy()
    out.paste(layer, (x, y), layer)
    meta = {"text": " / ".join(lines), "surface": kind, "letter_px": round(cap, 1), "angle": round(angle, 1),
            "perspective": perspective, "contrast": contrast, "font": font_path.name if font_path else "default",
            "box": [x, y, layer.width, layer.height]}
    return out, meta


def stamped(bg: Image.Image, rng: random.Random) -> tuple[Image.Image, str]:
    """A clean photo with a camera date stamp or a label, as many real photos have."""
    out = bg.copy()
    d = ImageDraw.Draw(out)
    what = rng.choice(["date", "date", "label"])
    if what == "date":
        text = f"'{rng.randint(19, 26):02d} {rng.randint(1, 12):2d} {rng.randint(1, 28):2d}"
        f = font(None, max(20, bg.height / 40))
        x, y = bg.width - int(f.getlength(text)) - 40, bg.height - int(f.size * 1.6)
        d.text((x, y), text, font=f, fill=(255, 140, 20))
    else:
        text = rng.choice(["IMG_0042", "Sports Day 2026", "Year 6 trip", "DSC01234", "Summer 2025"])
        f = font(None, max(20, bg.height / 35))
        d.text((30, 30), text, font=f, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    return out, text


class Cases:
    """The cases written so far, numbered in order, and their truth lines."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.truth: list[dict] = []
        self.n = 0

    def save(self, im: Image.Image, record: dict) -> None:
        self.n += 1
        name = f"{self.n:04d}-{record['kind'].replace(' ', '-')}.jpg"
        im.save(OUT / "cases" / name, quality=self.rng.randint(70, 95))
        self.truth.append({"case": name, **record})

    def copy(self, photo: Path) -> None:
        """An untouched photo."""
        self.n += 1
        name = f"{self.n:04d}-clean{photo.suffix.lower()}"
        (OUT / "cases" / name).write_bytes(photo.read_bytes())
        self.truth.append({"case": name, "kind": "clean", "category": "untouched photo", "source": photo.name})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small set (the bench's --quick)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    n_academy, n_person, n_decoy, n_stamped = (24, 20, 28, 10) if args.quick else (120, 100, 140, 30)
    n_clean = 12 if args.quick else 10_000
    (OUT / "cases").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "cases").iterdir():
        old.unlink()
    people = register_people(rng)
    write_trust(people)
    bgs = backgrounds(rng)
    typefaces: list[Path | None] = [*fonts(), None]
    cases = Cases(rng)
    for kind, count in [("academy", n_academy), ("person", n_person), ("decoy", n_decoy)]:
        for i in range(count):
            band = list(BANDS)[i % len(BANDS)]
            cap = rng.uniform(*BANDS[band])
            bg = open_rgb(bgs[(cases.n + i) % len(bgs)], rng.choice([1600, 2000, 2400, 2800]))
            cases.save(*text_case(kind, i, bg, cap, band, rng, people, typefaces))
    for i in range(n_stamped):
        im, text = stamped(open_rgb(bgs[i % len(bgs)], rng.choice([2000, 3000])), rng)
        cases.save(im, {"kind": "clean", "category": "date stamp or label", "text": text})
    for p in bgs[:n_clean]:
        cases.copy(p)
    with open(OUT / "truth.jsonl", "w", encoding="utf-8") as f:
        for t in cases.truth:
            f.write(json.dumps(t) + "\n")
    print(f"{len(cases.truth)} cases in {OUT}")
    return 0


def text_case(kind: str, i: int, bg: Image.Image, cap: float, band: str, rng: random.Random,
              people: list, typefaces: list) -> tuple[Image.Image, dict]:
    """The i-th case of a kind: an academy's name or alias, a pupil's name, or a decoy, drawn on bg."""
    if kind == "academy":
        aid = rng.choice(list(ACADEMIES))
        text = rng.choice([ACADEMIES[aid][0], *ACADEMIES[aid][1]])
        surf = rng.choice(["sign", "banner", "board", "kit", "certificate"])
        im, meta = make_case(bg, text, surf, cap, rng, False, rng.choice(typefaces))
        return im, {"kind": kind, "expect": {"academy": aid}, "name": text, "band": band, **meta}
    if kind == "person":
        pid, name, _, _ = rng.choice(people)
        surf = rng.choice(["badge", "certificate", "board", "banner"])
        im, meta = make_case(bg, name, surf, cap, rng, True, rng.choice(typefaces))
        return im, {"kind": kind, "expect": {"person_id": pid}, "name": name, "band": band, **meta}
    category = list(DECOYS)[i % len(DECOYS)]
    text = rng.choice(DECOYS[category])
    surf = rng.choice(SURFACES)
    im, meta = make_case(bg, text, surf, cap, rng, False, rng.choice(typefaces))
    return im, {"kind": kind, "category": category, "name": text, "band": band, **meta}


def write_trust(people: list) -> None:
    """screening.toml (the academies with their aliases) and register.csv (the pupils)."""
    toml = ['trust = "Bench Trust"', "", "[consent]", 'register = "register.csv"', 'photos = "photos"', ""]
    for aid, (name, aliases) in ACADEMIES.items():
        quoted = ", ".join(json.dumps(a) for a in aliases)
        toml += ["[[academy]]", f'id = "{aid}"', f"name = {json.dumps(name)}", f"aliases = [{quoted}]", ""]
    (OUT / "screening.toml").write_text("\n".join(toml), encoding="utf-8")
    (OUT / "register.csv").write_text(
        "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
        + "".join(f"{pid},{name},pupil,{aid},{bio},yes,yes,yes,,\n" for pid, name, aid, bio in people),
        encoding="utf-8")
    (OUT / "photos").mkdir(exist_ok=True)


if __name__ == "__main__":
    sys.exit(main())

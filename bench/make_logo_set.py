"""Build the logo and uniform evaluation set into bench/out/logo_set/ (git-ignored).

Crest drawings (tests.crests) composited onto the real photos of ../shared/data at many
sizes, angles, perspectives, JPEG qualities, colour casts and occlusions; decoy crests of the
same shapes that belong to no academy; untouched photos; uniforms painted onto people. The
photos are for measurement only and never leave bench/out/.

    .venv/bin/python bench/make_logo_set.py [--photos 60] [--seed 1]

Writes screening.toml (the bench academies), logos/<academy>/*.png, cases/*.jpg and
truth.jsonl (one line per case: kind, academy, box, and how it was made).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared_photos import SHARED, big_enough, shared_photos  # noqa: E402
from tests import crests  # noqa: E402

OUT = REPO / "bench" / "out" / "logo_set"
MAX_SIDE = 3000  # larger photos are shrunk first, to keep the bench quick

# The bench trust: the demo's presets, a flat crest, and drawn styles from seeds.
ACADEMIES = {
    "north": (crests.PRESETS["north"], ("#1b2a4a", "#c8a200")),
    "south": (crests.PRESETS["south"], ("#7a1f2b", "#e8e8e8")),
    "east": (crests.PRESETS["east"], ("#1f4d2b", "#f2d16b")),
    "flat": (crests.PRESETS["flat"], ("#c62828", "#f2d16b")),
    "s101": (crests.style_from_seed(101), None),
    "s202": (crests.style_from_seed(202), None),
    "s303": (crests.style_from_seed(303, simple=True), None),
}
# Academies whose logos are drawn in other styles (crests.draw_other): a round badge with ring
# lettering, a text-only wordmark, a shaded photo-like shield. Their colours are the seed's.
OTHER = {"badge": ("badge", 41), "wordmark": ("wordmark", 42), "shaded": ("shaded", 43),
         "embroidered": ("embroidered", 44)}
# Extra crest cases per photo, beyond the size bands: a crest 40-60 px across, and a crest turned
# 30-45 degrees away from the camera (foreshortened, its far side shorter).
EXTRA = ("40-60 px", "turned 30-45")
# The 50-academy trust of the cost and same-layout measures: the bench academies above and
# academies sharing north's layout, each in its own colour pair, initials and emblem.
FAMILY = 40
BANDS = {"5-10%": (0.05, 0.10), "10-20%": (0.10, 0.20), ">20%": (0.20, 0.60)}
ANGLES = (0, 5, 10, 15, 30)


def photos(limit: int, rng: random.Random) -> list[Path]:
    paths = shared_photos()
    rng.shuffle(paths)
    return big_enough(paths, limit)


def load(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    if max(im.size) > MAX_SIDE:
        s = MAX_SIDE / max(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    return im


def degrade(im: Image.Image, rng: random.Random, meta: dict) -> Image.Image:
    if rng.random() < 0.4:
        gains = tuple(round(rng.uniform(0.8, 1.15), 2) for _ in range(3))
        im = crests.colour_cast(im, gains)
        meta["cast"] = gains
    meta["quality"] = rng.choice((70, 75, 80, 85, 90, 95))
    return crests.jpeg(im, meta["quality"])


def crest_case(im: Image.Image, crest: Image.Image, rng: random.Random, band: str, angle: int,
               seed: int, extra: str | None = None) -> tuple[Image.Image, dict]:
    lo, hi = BANDS[band]
    frac = rng.uniform(lo, hi)
    yaw = 0.0
    if extra == "40-60 px":
        frac = rng.uniform(40, 60) / im.width
    elif extra == "turned 30-45":
        frac = rng.uniform(0.10, 0.20)
        yaw = round(rng.uniform(30, 45) * rng.choice((-1, 1)), 1)
    aspect = crest.height / crest.width
    # keep the crest inside the photo
    fx_room = frac / 2 + 0.02
    fy_room = frac * aspect * im.width / im.height / 2 + 0.02
    frac = min(frac, 0.95 * im.height / im.width / aspect)
    centre = (rng.uniform(fx_room, max(fx_room, 1 - fx_room)), rng.uniform(fy_room, max(fy_room, 1 - fy_room)))
    signed = angle * rng.choice((-1, 1))
    tilt = rng.choice((0.0, 0.05, 0.1, 0.15, 0.25)) if extra is None else rng.choice((0.0, 0.05, 0.1))
    occlude = rng.choice((0.0, 0.0, 0.0, 0.15, 0.25)) if extra is None else 0.0
    shade = round(rng.uniform(0.75, 1.1), 2)
    out = im.copy()
    box = crests.composite(out, crest, width_frac=frac, centre=centre, angle=signed, tilt=tilt,
                           shade=shade, occlude=occlude, seed=seed, yaw=yaw)
    meta = {"band": extra or band, "angle": signed, "width_frac": round(frac, 3), "tilt": tilt,
            "occlude": occlude, "shade": shade, "yaw": yaw, "box": list(box)}
    return out, meta


def standard(meta: dict) -> bool:
    """The issue's standard case: >= 10% width, rotation <= 15, mild perspective, JPEG 70+."""
    return (meta["width_frac"] >= 0.10 and abs(meta["angle"]) <= 15 and meta["tilt"] <= 0.15
            and meta["quality"] >= 70 and meta["occlude"] == 0)


class Cases:
    """The cases written so far, numbered in order, and their truth lines."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.rows: list[dict] = []
        self.n = 0

    def save(self, im: Image.Image, meta: dict) -> None:
        self.n += 1
        name = f"{self.n:04d}_{meta['kind']}.jpg"
        im = degrade(im, self.rng, meta)
        im.save(OUT / "cases" / name, quality=98)
        meta["file"] = name
        self.rows.append(meta)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not (SHARED / "MANIFEST.md").is_file():
        print(f"{SHARED} not found: the evaluation needs ../shared/data beside the checkout")
        return 2
    rng = random.Random(args.seed)
    (OUT / "cases").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "cases").iterdir():
        old.unlink()
    drawn, family = write_trusts(args.seed)
    cases = Cases(rng)
    pics = photos(args.photos, rng)
    for i, path in enumerate(pics):
        im = load(path)
        src = str(path.relative_to(SHARED))
        cases.save(im, {"kind": "clean", "photo": src})
        crest_cases(cases, im, i, src, drawn, family)
        face = crests.find_face(im)
        if face is None or face[2] < 40 or face[1] + face[3] * 3 > im.height:
            continue
        uniform_cases(cases, im, i, src, face, drawn)

    # every other real photo, untouched: none shows an academy crest, so any flag is false
    for path in photos(10_000, random.Random(0)):
        if path not in pics:
            cases.save(load(path), {"kind": "clean", "photo": str(path.relative_to(SHARED))})

    with open(OUT / "truth.jsonl", "w", encoding="utf-8") as f:
        for r in cases.rows:
            f.write(json.dumps(r) + "\n")
    kinds = {}
    for r in cases.rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"{len(cases.rows)} cases from {len(pics)} photos in {OUT}: {kinds}")
    return 0


def write_trusts(seed: int) -> tuple[dict, list]:
    """The bench trust (screening.toml, a crest per academy) and the 50-academy one (trust50.toml,
    with the academies sharing north's layout); the drawn crests and the family's styles."""
    toml = ['trust = "Bench Trust"', '[consent]', 'register = "register.csv"', 'photos = "photos"', ""]
    drawn = {}
    for aid in [*ACADEMIES, *OTHER]:
        folder = OUT / "logos" / aid
        folder.mkdir(parents=True, exist_ok=True)
        drawn[aid] = (crests.draw_crest(ACADEMIES[aid][0], 512) if aid in ACADEMIES else
                      crests.embroidered(crests.style_from_seed(OTHER[aid][1], simple=False), seed=OTHER[aid][1])
                      if aid == "embroidered" else crests.draw_other(*OTHER[aid]))
        drawn[aid].save(folder / "crest.png")
        toml += ["[[academy]]", f'id = "{aid}"', f'logos = "logos/{aid}"']
        if aid in ACADEMIES:
            style, colours = ACADEMIES[aid]
            toml.append(f"uniform_colours = {json.dumps(list(colours or (style.field, style.charge)))}")
        toml.append("")
    (OUT / "screening.toml").write_text("\n".join(toml), encoding="utf-8")
    family = crests.template_family(FAMILY, "north", seed=seed)
    big = list(toml)
    for k, style in enumerate(family):
        aid = f"family{k:02d}"
        folder = OUT / "logos" / aid
        folder.mkdir(parents=True, exist_ok=True)
        crests.draw_crest(style, 512).save(folder / "crest.png")
        big += ["[[academy]]", f'id = "{aid}"', f'logos = "logos/{aid}"',
                f"uniform_colours = {json.dumps([style.field, style.charge])}", ""]
    (OUT / "trust50.toml").write_text("\n".join(big), encoding="utf-8")
    (OUT / "register.csv").write_text("person_id,name,role,academy,biometric_consent,website,social_media,print,"
                                      "expires,withdrawn\n", encoding="utf-8")
    (OUT / "photos").mkdir(exist_ok=True)
    return drawn, family


def crest_cases(cases: Cases, im: Image.Image, i: int, src: str, drawn: dict, family: list) -> None:
    """The crests pasted on the i-th photo: one per size band, a small and a turned one, now and
    then a same-layout academy's, and two decoys."""
    rng, ids = cases.rng, [*ACADEMIES, *OTHER]
    for band in BANDS:  # one crest per size band per photo, rotations cycling
        aid = ids[(i + len(cases.rows)) % len(ids)]
        angle = ANGLES[(i + list(BANDS).index(band)) % len(ANGLES)]
        out, meta = crest_case(im, drawn[aid], rng, band, angle, seed=cases.n)
        cases.save(out, {"kind": "crest", "academy": aid, "photo": src, **meta})
    for extra in EXTRA:  # a small crest, or one turned away, in every drawing style in turn
        aid = ids[(i * 2 + EXTRA.index(extra)) % len(ids)]
        out, meta = crest_case(im, drawn[aid], rng, "5-10%", 0, seed=cases.n, extra=extra)
        cases.save(out, {"kind": "crest", "academy": aid, "photo": src, **meta})
    if i % 6 == 0:  # a crest of a same-layout academy of the 50-academy trust
        k = (i // 6) % FAMILY
        out, meta = crest_case(im, crests.draw_crest(family[k], 512), rng, "10-20%", 5, seed=cases.n)
        cases.save(out, {"kind": "family_crest", "academy": f"family{k:02d}", "photo": src, **meta})
    # decoys: same shape, another school (new colours; every third keeps the colours)
    aid = list(ACADEMIES)[i % len(ACADEMIES)]
    decoy = crests.draw_crest(crests.decoy_of(ACADEMIES[aid][0], seed=1000 + i, keep_colours=i % 3 == 0), 512)
    band = rng.choice(list(BANDS))
    out, meta = crest_case(im, decoy, rng, band, rng.choice(ANGLES), seed=cases.n)
    cases.save(out, {"kind": "decoy", "academy": None, "lookalike": aid, "keep_colours": i % 3 == 0,
                     "photo": src, **meta})
    # a random badge of another school, in the shield style or in one of the other styles
    other = (crests.draw_crest(crests.style_from_seed(5000 + i), 512) if i % 2 else
             crests.draw_other(crests.OTHER_STYLES[i % 3], 5000 + i))
    out, meta = crest_case(im, other, rng, rng.choice(list(BANDS)), rng.choice(ANGLES), seed=cases.n)
    cases.save(out, {"kind": "decoy", "academy": None, "lookalike": None, "photo": src, **meta})


def uniform_cases(cases: Cases, im: Image.Image, i: int, src: str, face, drawn: dict) -> None:
    """Tops painted below the face of the i-th photo: the academy's uniform with its crest, in
    its colours alone, a plain top, blazers (whole crest, crest cut by the frame, none), a
    patterned top in its colours, and a decoy school's uniform."""
    rng = cases.rng
    aid = list(ACADEMIES)[i % len(ACADEMIES)]
    style, colours = ACADEMIES[aid]
    colours = colours or (style.field, style.charge)
    base = {"photo": src, "face": list(face), "academy": aid}
    cases.save(crests.paint_uniform(im, colours, crest=drawn[aid], face_box=face, seed=cases.n),
               {"kind": "uniform_crest", **base})
    cases.save(crests.paint_uniform(im, colours, face_box=face, seed=cases.n), {"kind": "uniform_colours", **base})
    plain = plain_colour(rng, [c for a in ACADEMIES.values() for c in (a[1] or (a[0].field, a[0].charge))])
    cases.save(crests.paint_uniform(im, (plain,), face_box=face, seed=cases.n),
               {"kind": "plain_top", "photo": src, "face": list(face), "academy": None, "colour": plain})
    # blazers as parents see them: lapel stripes and a tie in the trim colour; with the crest
    # whole, with the crest cut by the frame (a portrait crop), and with no crest at all
    cases.save(crests.paint_uniform(im, colours, crest=drawn[aid], face_box=face, seed=cases.n, garment="blazer"),
               {"kind": "blazer_crest", **base})
    visible = round(rng.uniform(0.5, 0.8), 2)
    cut, _ = crests.cut_through_crest(
        crests.paint_uniform(im, colours, crest=drawn[aid], face_box=face, seed=cases.n, garment="blazer"),
        face, visible)
    cases.save(cut, {"kind": "blazer_crest_cut", "visible": visible, **base})
    cases.save(crests.paint_uniform(im, colours, face_box=face, seed=cases.n, garment="blazer"),
               {"kind": "blazer_trims", **base})
    # a patterned top in the academy's colours, without trims: not a uniform
    pattern = ("stripes", "checks")[i % 2]
    cases.save(crests.paint_uniform(im, colours, face_box=face, seed=cases.n, garment=pattern),
               {"kind": "patterned_top", "photo": src, "face": list(face), "academy": None, "pattern": pattern})
    dec = crests.decoy_of(style, seed=2000 + i)
    cases.save(crests.paint_uniform(im, (dec.field, dec.charge), crest=crests.draw_crest(dec, 512),
                                    face_box=face, seed=cases.n),
               {"kind": "decoy_uniform", "photo": src, "face": list(face), "academy": None})


def plain_colour(rng: random.Random, avoid: list[str]) -> str:
    """A garment colour far (in Lab) from every academy colour."""
    while True:
        c = "#%02x%02x%02x" % tuple(rng.randrange(256) for _ in range(3))
        if all(crests.delta_e(c, a) > 30 for a in avoid):
            return c


if __name__ == "__main__":
    sys.exit(main())

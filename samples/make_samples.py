"""Make the demo trust: academy crests in logos/, a register and reference photos in consents/,
and a batch in samples/batch/ that shows every outcome. Deterministic; run by `make demo`.

Everything is drawn here or made from the two public-domain photos in samples/public-domain/
(see LICENSE.md there). Run again at any time: it rewrites the same files.
"""

from __future__ import annotations

import io
import math
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.TiffImagePlugin import IFDRational

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/crests.py draws the demo crests (not part of the shipped package)
PUBLIC = REPO / "samples" / "public-domain"

# Trinity North Academy's site (samples/screening.toml); the GPS sample is taken 180 m away.
NORTH_SITE = (53.8008, -1.5491)


def landscape(seed: int, size=(1200, 800)) -> Image.Image:
    """A drawn playing-field scene: sky, hills, hedges, goalposts. No people, no logos."""
    rng = random.Random(seed)
    w, h = size
    sky = np.linspace([120, 170, 230], [200, 225, 250], h // 2).astype(np.uint8)
    img = Image.new("RGB", size, (90, 150, 70))
    img.paste(Image.fromarray(np.repeat(sky[:, None, :], w, axis=1)), (0, 0))
    d = ImageDraw.Draw(img)
    for i in range(3):
        base = h // 2 + i * 40
        pts = [(x, base - 60 * math.sin(x / w * math.pi * (1 + i) + rng.random())) for x in range(0, w + 40, 40)]
        d.polygon([(0, h)] + pts + [(w, h)], fill=(70 + 20 * i, 130 + 15 * i, 60 + 10 * i))
    # Hedges, wide and low: drawn lollipop trees (a trunk under a round crown) stand like people
    # to the HOG people detector (scores up to 2.4, docs/faces.md), and the clean photos must stay clean.
    for _ in range(7):
        x, y = rng.randrange(40, w - 40), rng.randrange(h // 2 - 20, h // 2 + 60)
        d.ellipse([x - 90, y - 30, x + 90, y + 25], fill=(40, 100 + rng.randrange(40), 40))
    d.line([(w * 0.6, h * 0.7), (w * 0.6, h * 0.5), (w * 0.8, h * 0.5), (w * 0.8, h * 0.7)], fill="white", width=8)
    d.ellipse([w * 0.1, h * 0.08, w * 0.1 + 90, h * 0.08 + 90], fill=(255, 240, 170))
    return img.filter(ImageFilter.GaussianBlur(1.2))


def gps_exif(lat: float, lon: float) -> bytes:
    """An EXIF block with a GPS IFD, as a phone writes it."""
    exif = Image.Exif()

    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 100))

    gps = exif.get_ifd(0x8825)
    gps.update({1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)})
    exif[0x010F] = "Demo Phone"
    return exif.tobytes()


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat))))


def save_jpeg(img: Image.Image, path: Path, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, format="JPEG", quality=90, **kw)


def make_consents(root: Path) -> None:
    """Register and reference photos. The astronaut (NASA, public domain) is enrolled staff
    member S1001 with social-media consent; the man with the camera is not registered."""
    photos = root / "consents" / "photos"
    (photos / "S1001").mkdir(parents=True, exist_ok=True)
    astronaut = Image.open(PUBLIC / "astronaut.png").convert("RGB")
    # The reference photo is a head-and-shoulders crop, as a school's photo system would hold.
    save_jpeg(astronaut.crop((100, 0, 356, 300)).resize((384, 450)), photos / "S1001" / "portrait.jpg")
    (root / "consents" / "register.csv").write_text(
        "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
        "S1001,Eileen Collins,staff,north,yes,yes,yes,yes,2027-08-31,\n"
        "P1006,Sam Patel,pupil,north,no,yes,yes,no,,2026-09-01\n"
        "P1007,Alex Doe,pupil,south,no,yes,yes,yes,,\n",
        encoding="utf-8",
    )


def make_logos(root: Path) -> dict[str, Image.Image]:
    from tests import crests

    made = {}
    for academy, preset in (("north", "north"), ("south", "south")):
        crest = crests.preset(preset, 512)
        folder = root / "logos" / academy
        folder.mkdir(parents=True, exist_ok=True)
        crest.save(folder / "crest.png")
        made[academy] = crest
    return made


def make_batch(root: Path, logos: dict[str, Image.Image]) -> None:
    from tests import crests

    batch = root / "samples" / "batch"
    batch.mkdir(parents=True, exist_ok=True)
    for old in batch.iterdir():
        old.unlink()
    scene = landscape(1)
    save_jpeg(scene, batch / "clean.jpg")
    lat, lon = offset(*NORTH_SITE, 150, 100)
    save_jpeg(landscape(2), batch / "gps.jpg", exif=gps_exif(lat, lon))

    banner = landscape(3)
    crests.composite(banner, logos["north"], width_frac=0.22, centre=(0.3, 0.35), angle=8, seed=3)
    save_jpeg(banner, batch / "banner.jpg")

    decoy = landscape(4)
    crests.composite(decoy, crests.preset("decoy", 512), width_frac=0.22, centre=(0.3, 0.35), angle=-5, seed=4)
    save_jpeg(decoy, batch / "decoy.jpg")

    astronaut = Image.open(PUBLIC / "astronaut.png").convert("RGB")
    save_jpeg(astronaut, batch / "consented.jpg")
    camera = Image.open(PUBLIC / "camera.png").convert("RGB")
    save_jpeg(camera, batch / "unknown.jpg")

    sign = landscape(7)  # the school's name board at the gate: the text check reads it
    draw = ImageDraw.Draw(sign)
    font = ImageFont.load_default(44)
    draw.rectangle((150, 180, 760, 360), fill=(122, 31, 43))
    draw.text((190, 205), "Welcome to", font=font, fill=(232, 232, 232))
    draw.text((190, 275), "ST AIDAN'S ACADEMY", font=font, fill=(232, 232, 232))
    save_jpeg(sign, batch / "sign.jpg")

    pupil = crests.paint_uniform(astronaut, colours=("#1b2a4a", "#c8a200"), crest=logos["north"], seed=5)
    save_jpeg(pupil, batch / "uniform.jpg")

    buf = io.BytesIO()
    save_jpeg(landscape(6), batch / ".tmp.jpg")
    data = (batch / ".tmp.jpg").read_bytes()
    (batch / ".tmp.jpg").unlink()
    buf.write(data[: len(data) // 2])
    (batch / "broken.jpg").write_bytes(buf.getvalue())


def make(root: Path = REPO) -> Path:
    """Make the demo trust under `root` (the checkout by default); returns its samples/ folder."""
    samples = root / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    if root != REPO:
        (samples / "screening.toml").write_bytes((REPO / "samples" / "screening.toml").read_bytes())
    make_consents(root)
    make_batch(root, make_logos(root))
    return samples


def main() -> int:
    samples = make()
    print(f"demo trust ready: {(samples / 'screening.toml').relative_to(REPO)}; "
          f"batch: {(samples / 'batch').relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

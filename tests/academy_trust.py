"""A small trust with drawn crests (north, south), shared by the logo and uniform tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from screening.config import load_config
from tests import crests

NORTH_COLOURS = ("#1b2a4a", "#c8a200")
SOUTH_COLOURS = ("#7a1f2b", "#e8e8e8")


def make_trust(root: Path):
    """screening.toml with academies north and south, each with one drawn crest."""
    for aid in ("north", "south"):
        (root / "logos" / aid).mkdir(parents=True, exist_ok=True)
        crests.preset(aid, 512).save(root / "logos" / aid / "crest.png")
    (root / "screening.toml").write_text(
        'trust = "Test Trust"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
        '[[academy]]\nid = "north"\nname = "Trinity North Academy"\nlogos = "logos/north"\n'
        f'uniform_colours = ["{NORTH_COLOURS[0]}", "{NORTH_COLOURS[1]}"]\n'
        '[[academy]]\nid = "south"\nname = "St Aidan\'s Academy"\nlogos = "logos/south"\n'
        f'uniform_colours = ["{SOUTH_COLOURS[0]}", "{SOUTH_COLOURS[1]}"]\n',
        encoding="utf-8")
    return load_config(root / "screening.toml")


def backdrop(seed: int, size=(900, 600)) -> Image.Image:
    """A generated outdoor-ish scene: sky, grass, blobs of texture. No crest in it."""
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    sky = np.array([120, 170, 230]) * (1 - y) + np.array([200, 220, 240]) * y
    img = np.where(y < 0.55, sky, np.array([60, 140, 60]) * (1.2 - y * 0.4)).repeat(w, axis=1)
    img = img + rng.normal(0, 6, (h, w, 3))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    from PIL import ImageDraw

    d = ImageDraw.Draw(pil)
    for _ in range(25):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(10, 60))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        d.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=colour)
    return pil


class FakePicture:
    """What imaging.Picture offers the detectors: upright RGB frames and the size."""

    def __init__(self, image: Image.Image, path: str = "test.jpg"):
        self.frames = [np.asarray(image.convert("RGB"))]
        self.path = Path(path)

    @property
    def size(self):
        h, w = self.frames[0].shape[:2]
        return w, h


def logo_folder(folder: Path) -> Path:
    """An academy's logos folder holding one small drawn logo (a config refuses an empty one)."""
    from PIL import ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (120, 120), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.ellipse((10, 10, 110, 110), fill=(27, 42, 74))
    draw.rectangle((45, 30, 75, 90), fill=(200, 162, 0))
    img.save(folder / "logo.png")
    return folder

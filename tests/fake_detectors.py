"""Fake detectors importable by worker processes (pool, Dask, a `screening watch` subprocess).

Outcomes are picked by the image's first pixel, so a test chooses them by drawing:
red -> a location finding (needs permission), anything else -> nothing found.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from screening.model import Check, LocationFinding


class FindNothing:
    def detect(self, picture, earlier):
        return []


class GpsIfRed:
    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0]
        if r > 200 and g < 50:
            return [LocationFinding("EXIF GPS", "GPS in EXIF: 53.80000, -1.54000", 53.8, -1.54)]
        return []


class Counting:
    """Counts the images it is shown (in this process), to prove a cache hit skipped screening."""

    seen: list[str] = []

    def detect(self, picture, earlier):
        Counting.seen.append(picture.path.name)
        return []


def by_colour(config, gallery, people=None):
    """Every check present: red images need permission, the others are cleared."""
    return {Check.LOCATION: GpsIfRed(), Check.FACES: FindNothing(), Check.LOGOS: FindNothing(),
            Check.UNIFORMS: FindNothing(), Check.TEXT: FindNothing()}


by_colour.screening_test_factory = True


class Slowly:
    """Takes a while per image, so a test can kill a job in the middle of a batch."""

    def detect(self, picture, earlier):
        import time

        time.sleep(0.15)
        return []


def by_colour_slowly(config, gallery, people=None):
    return {**by_colour(config, gallery), Check.UNIFORMS: Slowly()}


by_colour_slowly.screening_test_factory = True


def counting(config, gallery, people=None):
    return {**by_colour(config, gallery), Check.FACES: Counting()}


def photo(path: Path, colour, size=(40, 60)) -> Path:
    """A small drawn PNG of one colour, with a pixel of noise so every file's bytes differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((*size, 3), colour, np.uint8)
    pixels[-1, -2:] = np.frombuffer(hashlib.sha256(path.name.encode()).digest()[:6], np.uint8).reshape(2, 3)
    Image.fromarray(pixels).save(path, format="PNG")
    return path

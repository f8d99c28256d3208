"""The real photos of ../shared/data as the logo tests and bench/sweep_real_photos.py search them.

Decoded once per process, upright, shrunk to WORK_SIDE; the same pixels twice are one photo.
`sweep` searches photos with the demo trust's logo check in two processes (one per core) and
returns every finding at or above min_score: none of ../shared/data shows an academy crest,
so every one would be a false flag.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import multiprocessing
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from screening import imaging
from screening.config import LogoSettings

from .academy_trust import FakePicture, make_trust

WORK_SIDE = 1600  # photos are shrunk to this first: the criteria are about the crest, not megapixels


def real_photos(shared_data) -> list:
    """Every image in ../shared/data that decodes, except the public-domain pair: (path, RGB
    image with its longer side WORK_SIDE at most), decoded once per process."""
    return _decoded(str(shared_data))


@functools.lru_cache(maxsize=1)
def _decoded(root: str) -> list:
    found, seen = [], set()
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or "public-domain" in path.parts:
            continue
        image = decoded(path)
        if image is None:
            continue
        # the same pixels again (a copy, or an orientation sample once turned upright): the
        # checks would see exactly the same picture, so it is searched once
        key = (image.size, hashlib.sha256(image.tobytes()).digest())
        if key not in seen:
            seen.add(key)
            found.append((path, image))
    return found


def decoded(path: Path) -> Image.Image | None:
    """The photo upright, shrunk to WORK_SIDE: a JPEG decoded at the smallest DCT scale that is
    still at least that large (what the checks search is at most 1400 px anyway), any other
    format the project's way. None when it does not decode."""
    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB", (WORK_SIDE, WORK_SIDE))
                return shrunk(np.asarray(ImageOps.exif_transpose(im).convert("RGB")))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    try:
        return shrunk(imaging.load(path).frames[0])
    except (imaging.ImageError, OSError):
        return None


def shrunk(rgb: np.ndarray) -> Image.Image:
    im = Image.fromarray(rgb)
    s = WORK_SIDE / max(im.size)
    return im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS) if s < 1 else im


def sweep(root: Path, paths: list[Path], work: Path, processes: int = 2) -> list[str]:
    """The demo trust's logo findings at or above min_score in these photos ("path: academy score
    detail"), the photos dealt round-robin to `processes` spawned workers (one per core)."""
    jobs = [(str(root), str(work / f"trust{k}"), [str(p) for p in paths[k::processes]]) for k in range(processes)]
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [flag for part in pool.map(_flags_in, jobs) for flag in part]


def _flags_in(job: tuple[str, str, list[str]]) -> list[str]:
    """The logo findings at or above min_score in these photos (run in a worker process)."""
    from screening.detectors.logos import LogoDetector

    root, folder, paths = job
    Path(folder).mkdir(parents=True)
    det = LogoDetector(make_trust(Path(folder)), cache=Path(folder) / "cache")
    min_score = LogoSettings().min_score
    flags = []
    for name in paths:
        path = Path(name)
        for f in det.detect(FakePicture(decoded(path)), {}):
            if f.score >= min_score:
                flags.append(f"{path.relative_to(root)}: {f.academy} {f.score:.2f} {f.detail}")
    return flags

"""The real photos the bench sets are drawn on: ../shared/data beside the checkout (measurement
only: they never leave bench/out/ and are never committed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"


def shared_photos() -> list[Path]:
    """Every JPEG and PNG of the shared data, sorted; none when it is absent. Its public-domain
    pair is left out (samples/ ships them)."""
    if not SHARED.is_dir():
        return []
    return sorted(p for p in SHARED.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                  and "public-domain" not in p.parts)


def big_enough(paths: Iterable[Path], limit: int | None = None, min_side: int = 300) -> list[Path]:
    """The paths that open as images at least `min_side` px on their short side, in the order
    given, up to `limit` of them."""
    good = []
    for p in paths:
        try:
            with Image.open(p) as im:
                if min(im.size) >= min_side:
                    good.append(p)
        except Exception:
            continue
        if limit is not None and len(good) >= limit:
            break
    return good

"""Pixels as a viewer sees them: any mode to RGB by its real range, alpha views, one budget per file."""

from __future__ import annotations

import numpy as np
from PIL import Image

from screening.formats.common import ImageError

# Rows composited at a time: keeps the 16-bit temporaries of a large RGBA image small.
_STRIP = 512


class Budget:
    """The pixels one file may still decode to, all frames and views together."""

    def __init__(self, pixels: int):
        self.left = pixels
        self.total = pixels

    def take(self, pixels: int, what: str) -> None:
        self.left -= pixels
        if self.left < 0:
            raise ImageError(f"refused as a decompression bomb: {what} takes the file over its budget "
                             f"of {self.total / 1e6:.0f} MP for all frames and embedded images together")


def to_rgb(img: Image.Image | np.ndarray) -> np.ndarray:
    """RGB uint8 from any mode or array: wide and float values by their real range, alpha dropped."""
    if isinstance(img, np.ndarray):
        return _array_to_rgb(img)
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        return _array_to_rgb(np.asarray(img))
    if mode != "RGB":
        img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    arr = np.asarray(img)
    return np.ascontiguousarray(arr[..., :3])


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    """uint8 stays; 16-bit scales by 65535; anything else (32-bit, float) by its real range."""
    if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[2] not in (3, 4):
        arr = np.moveaxis(arr, 0, 2)  # planar samples
    if arr.ndim == 3:
        arr = arr[..., :3] if arr.shape[2] >= 3 else arr[..., :1]
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype.kind in "ui" and arr.min(initial=0) >= 0 and arr.max(initial=0) <= 65535:
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        out = (arr.astype(np.float32) * (255.0 / top) + 0.5).astype(np.uint8)
    else:
        out = _by_range(arr)
    if out.ndim == 2 or out.shape[2] == 1:
        out = np.repeat(out.reshape(out.shape[0], out.shape[1], 1), 3, axis=2)
    return np.ascontiguousarray(out)


def _by_range(arr: np.ndarray) -> np.ndarray:
    values = arr.astype(np.float64)
    if not np.isfinite(values).all():
        raise ImageError("pixel values include NaN or infinity: the image cannot be shown faithfully")
    lo, hi = float(values.min(initial=0)), float(values.max(initial=0))
    return ((values - lo) * (255.0 / max(hi - lo, 1e-12)) + 0.5).clip(0, 255).astype(np.uint8)


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def alpha_views(img: Image.Image, budget: Budget) -> list[tuple[str, np.ndarray]]:
    """The frame composited on white and on black, and its alpha plane when that has structure.

    A viewer shows transparent pixels over a page of some colour, so a face drawn only in
    the alpha channel (RGB all black) is visible on white: each view is screened.
    """
    if not _has_alpha(img):
        return []
    try:
        rgba = np.asarray(img.convert("RGBA"))
    except Exception as exc:
        raise ImageError(f"the transparency of a {img.mode} image cannot be read: {exc}") from None
    alpha = rgba[..., 3]
    if alpha.min() == 255:
        return []
    h, w = alpha.shape
    structured = alpha.max() != alpha.min()
    budget.take(w * h * (3 if structured else 2), f"the transparency views of {w}x{h}")
    views = [("composited on white", _composite(rgba, 255)), ("composited on black", _composite(rgba, 0))]
    if structured:
        views.append(("alpha channel as grey", np.repeat(alpha[..., None], 3, axis=2)))
    return views


def _composite(rgba: np.ndarray, background: int) -> np.ndarray:
    out = np.empty(rgba.shape[:2] + (3,), np.uint8)
    for top in range(0, rgba.shape[0], _STRIP):
        strip = rgba[top:top + _STRIP].astype(np.uint16)
        a = strip[..., 3:4]
        out[top:top + _STRIP] = (strip[..., :3] * a + background * (255 - a) + 127) // 255
    return out

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


# A view whose every block (1/8 of its side, both lightly blurred) differs from a frame already
# screened by less than this many grey levels shows nothing new. Measured on the 41 thumbnails
# of ../shared/data: thumbnails of the picture itself 5 to 23, of another picture (the uncropped
# original) 60 and more. The same rule holds for colour (red and blue less grey, RT29-27): of the
# 56 thumbnails and previews of ../shared/data taken for copies by grey, none differs by more
# than 18.6 there (an iPhone HEIC's), so none is screened anew (tests/test_fix29c_readers.py).
SAME_BLOCK_DIFF = 30.0


def shown_already(view: np.ndarray, frames: list[np.ndarray]) -> bool:
    """The view is one of the frames, at most scaled down, turned or letterboxed (a thumbnail of it).

    Camera thumbnails and previews repeat the picture at a size where its faces are too small
    to identify; screening them again would only report those faces as unidentifiable. A view
    that differs anywhere (a face drawn into the thumbnail) is screened: in any of red, green and
    blue, so a crest in colours of the photo's own brightness differs too (RT29-27).
    """
    small = _trim_bars(_planes(view))
    if small.shape[0] < 8 or small.shape[1] < 8:
        return True  # nothing in it could show a face
    return any(_same_picture(small, _planes(frame)) for frame in frames)


def _planes(rgb: np.ndarray) -> np.ndarray:
    """The picture as float planes: its grey, and how far red and blue stand from it (a grey
    picture's are 0)."""
    if rgb.ndim == 2 or rgb.shape[2] < 3:
        grey = (rgb if rgb.ndim == 2 else rgb[..., 0]).astype(np.float32)
        return np.ascontiguousarray(np.stack([grey, np.zeros_like(grey), np.zeros_like(grey)], axis=2))
    grey = _grey(rgb)
    return np.ascontiguousarray(np.stack([grey, rgb[..., 0] - grey, rgb[..., 2] - grey], axis=2))


def _grey(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _trim_bars(planes: np.ndarray) -> np.ndarray:
    """Without the flat black or white bars a thumbnail of another aspect ratio is padded with."""
    grey = planes[..., 0]

    def flat(line: np.ndarray) -> bool:
        return float(line.std()) < 3.0 and (line.mean() < 16 or line.mean() > 239)

    top, bottom, left, right = 0, grey.shape[0], 0, grey.shape[1]
    while bottom - top > 8 and flat(grey[top]):
        top += 1
    while bottom - top > 8 and flat(grey[bottom - 1]):
        bottom -= 1
    while right - left > 8 and flat(grey[top:bottom, left]):
        left += 1
    while right - left > 8 and flat(grey[top:bottom, right - 1]):
        right -= 1
    return planes[top:bottom, left:right]


# Largest block (pixels of the view) whose mean difference may hide a change: a pasted face
# the size of a block or more always shows (RT11b-26: 1/8 of a 4000 px preview hid a 400 px face;
# RT19-1: 64 px blocks of a 1000 px preview hid a 56 px face straddling four of them, 16 px ones a
# 24 px face). Of the 52 files among the 201 of ../shared/data whose thumbnail or preview was a
# copy at 64 px, 51 still are; one (exif-samples 87_OSError.jpg) now has its thumbnail screened.
MAX_SAME_BLOCK = 8


def _same_picture(small: np.ndarray, big: np.ndarray) -> bool:
    return same_picture_difference(small, big) < SAME_BLOCK_DIFF


def same_picture_difference(small: np.ndarray, big: np.ndarray) -> float:
    """The largest block difference (in any plane) between `small` and `big` brought to its size,
    in the turn or mirror image where it is smallest; inf when no turn has small's shape."""
    import cv2

    h, w = small.shape[:2]
    if max(h, w) > 1.05 * max(big.shape[:2]) or h * w > 1.1 * big.shape[0] * big.shape[1]:
        return float("inf")  # larger than the picture: it can show what the picture cannot (RT11b-26)
    coarse = cv2.resize(big, (max(w, h) * 2, max(w, h) * 2 * big.shape[0] // max(big.shape[1], 1) or 1),
                        interpolation=cv2.INTER_AREA)
    best = float("inf")
    for turned in (coarse, np.rot90(coarse), np.rot90(coarse, 2), np.rot90(coarse, 3)):
        for candidate in (turned, turned[:, ::-1]):
            ch, cw = candidate.shape[:2]
            if abs(ch / cw - h / w) > 0.04 * (h / w):
                continue
            scaled = cv2.resize(np.ascontiguousarray(candidate), (w, h), interpolation=cv2.INTER_AREA)
            block = max(2, min(min(h, w) // 8, MAX_SAME_BLOCK))
            diff = np.abs(cv2.GaussianBlur(scaled, (5, 5), 0) - cv2.GaussianBlur(small, (5, 5), 0))
            diff = cv2.resize(diff, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
            best = min(best, float(diff.max()))
            if best < SAME_BLOCK_DIFF:
                return best
    return best


# A picture whose middle 98% of brightness spans fewer levels than this looks black (or flat
# grey) as stored, but any viewer's brightness or levels control shows what is in it.
FLAT_LEVELS = 40
# An ICC-managed view that differs from the stored values by more than this (mean, 0..255)
# shows another picture than the one the checks saw.
ICC_DIFFERENCE = 12.0


def tone_views(img: Image.Image, rgb: np.ndarray, budget: Budget) -> list[tuple[str, np.ndarray]]:
    """Other ways a viewer may show the same pixels, when they would show something else.

    - Wide or float samples (32-bit, float TIFF): by rank (equalised), so that no outlier value
      flattens the rest; a viewer clipping to 0..1 or to its own range shows them that way.
    - Colour-managed: as the embedded ICC profile maps them to sRGB (a browser does this).
    - Very dark or flat pictures: stretched, as anyone adjusting brightness would see them.
    """
    views: list[tuple[str, np.ndarray]] = []
    if img.mode.startswith("I") or img.mode == "F":
        views.append(("values ranked (wide samples equalised)", _equalised(np.asarray(img))))
    icc = img.info.get("icc_profile")
    if icc:
        managed = _icc_view(img, icc, rgb)
        if managed is not None:
            views.append(("colours as its ICC profile shows them", managed))
    gamma = _png_gamma_view(img, rgb)
    if gamma is not None:
        views.append(("tones as its PNG gamma shows them", gamma))
    grey = (rgb.astype(np.uint16).sum(axis=2) // 3).astype(np.uint8) if rgb.ndim == 3 else rgb
    sample = grey[:: max(1, grey.shape[0] // 512), :: max(1, grey.shape[1] // 512)]
    lo, hi = np.percentile(sample, (1, 99))
    # (a ranked or managed view already shows the range; one colour alone hides nothing)
    if hi - lo < FLAT_LEVELS and not views and len(np.unique(sample)) >= 4:
        views.append(("brightness stretched (the picture is very dark or flat)", _equalised(grey)))
    for label, pixels in views:
        budget.take(pixels.shape[0] * pixels.shape[1], f"the view '{label}'")
    return views


def _png_gamma_view(img: Image.Image, rgb: np.ndarray) -> np.ndarray | None:
    """The pixels as a browser shows a PNG with a gAMA chunk and no sRGB or ICC chunk (each sample
    s as s ** (1 / (gamma * 2.2))), when that looks unlike the stored values (RT6-30)."""
    gamma = img.info.get("gamma")
    if img.format != "PNG" or not gamma or img.info.get("icc_profile") or "srgb" in img.info:
        return None
    try:
        exponent = 1.0 / (float(gamma) * 2.2)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not np.isfinite(exponent) or exponent <= 0 or abs(exponent - 1.0) < 0.05:
        return None
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** exponent + 0.5, 0, 255).astype(np.uint8)
    shown = lut[rgb]
    step = max(1, rgb.shape[0] // 256)
    if float(np.abs(shown[::step].astype(np.int16) - rgb[::step]).mean()) < ICC_DIFFERENCE:
        return None  # a gamma close to the display's: nothing new to see
    return shown


def _equalised(arr: np.ndarray) -> np.ndarray:
    """Each sample replaced by its rank among all values (0..255): any monotone tone curve undone."""
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=2) if arr.shape[2] >= 3 else arr[..., 0]
    if arr.dtype == np.uint8:  # by the levels present: a look-up table, no sort
        present = np.bincount(arr.ravel(), minlength=256) > 0
        lut = (np.cumsum(present) - 1) * (255.0 / max(int(present.sum()) - 1, 1)) + 0.5
        grey = lut.astype(np.uint8)[arr]
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=np.finfo(np.float64).max,
                           neginf=np.finfo(np.float64).min)
    uniq, inverse = np.unique(values, return_inverse=True)
    scale = 255.0 / max(len(uniq) - 1, 1)
    grey = (inverse.reshape(values.shape) * scale + 0.5).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))


def _icc_view(img: Image.Image, icc: bytes, rgb: np.ndarray) -> np.ndarray | None:
    """The frame as its ICC profile renders it in sRGB, when that differs from the stored values."""
    import io

    from PIL import ImageCms

    if img.mode not in ("L", "RGB", "CMYK", "LA", "RGBA"):
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        probe = img.convert(img.mode.rstrip("A") or "L")
        small = probe.copy()
        small.thumbnail((256, 256))
        managed_small = np.asarray(ImageCms.profileToProfile(small, source, srgb, outputMode="RGB"))
        stored_small = np.asarray(small.convert("RGB"))
        if np.abs(managed_small.astype(np.int16) - stored_small).mean() <= ICC_DIFFERENCE:
            return None
        return np.ascontiguousarray(np.asarray(ImageCms.profileToProfile(probe, source, srgb, outputMode="RGB")))
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise ImageError(f"its ICC colour profile cannot be applied ({exc}): the picture a browser shows "
                         "cannot be screened") from None

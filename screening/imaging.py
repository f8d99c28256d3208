"""The one place that opens and decodes image files.

Format is detected by content, never by extension. Decoding is strict: a truncated file,
a decompression bomb or a frame that will not decode raises ImageError, never a partial
picture. Every frame comes out upright (EXIF orientation applied exactly once) as RGB uint8.

A file shows more than its pixels' RGB values: transparent pixels over a page, thumbnails,
appended and MPF images, images inside XMP, SubIFDs of camera files, other HEIF images.
Each becomes an extra frame (a "view") so every check sees what a viewer could see; the
container modules in `formats/` find them. All frames and views of one file share one
pixel budget.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

from screening import formats
from screening.formats import ImageError, avif, avif_views, heif, heif_hidden, jpeg, sphere, tiff, video
from screening.formats.common import xmp_packets
from screening.formats.native import captured_stderr, corruption
from screening.formats.pixels import (
    Budget,
    alpha_views,
    shown_already,
    to_rgb,
    tone_views,
)
from screening.formats.xmp import xmp_images

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF_SUPPORTED = False

# Pixels one file may decode to, all frames and views together (a 24 MP phone photo is 24e6).
MAX_PIXELS = 150_000_000
# Refuse files larger than this before reading them.
MAX_FILE_BYTES = 1 << 30
# Images inside images inside images: deeper than this is refused.
MAX_DEPTH = 3

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
sniff = formats.sniff
# Pillow's AVIF decoder reports the container's rotation (irot/imir) as EXIF orientation, so
# AVIF is turned upright like JPEG, by exif_transpose.
AVIF_SUPPORTED = avif.supported()
__all__ = ["ImageError", "Picture", "load", "read_file", "sniff", "MAX_PIXELS", "MAX_FILE_BYTES"]


@dataclass
class Picture:
    """A decoded image: upright RGB frames and the raw metadata blocks found in the container."""

    path: Path
    data: bytes
    format: str  # JPEG, PNG, GIF, WEBP, TIFF, BMP, HEIF
    frames: list[np.ndarray]  # HxWx3 uint8 RGB, upright, full resolution
    orientation: int = 1  # the EXIF orientation that was applied
    exif: bytes | None = None  # the raw EXIF block (TIFF header onwards) if the container has one
    xmp: tuple[bytes, ...] = ()  # XMP packets embedded in the container
    info: dict = field(default_factory=dict)  # Pillow's info for frame 0, minus large blobs
    # where each frame comes from: "" for the file's own frames, else e.g. "EXIF thumbnail"
    # (boxes in such a view are in that view's own pixels) or "composited on white"
    views: list[str] = field(default_factory=list)
    # embedded images judged to repeat a frame (a camera thumbnail of the photo itself): (view, pixels).
    # Their faces are too small to identify, so only the text check reads them: thin letters left
    # in the thumbnail of a retouched photo change too few pixels to tell it from a repeat (RT6-26).
    repeats: list[tuple[str, np.ndarray]] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.frames[0].shape[:2]
        return w, h

    def view(self, frame: int) -> str:
        return self.views[frame] if frame < len(self.views) else ""

    def scaled(self, frame: int, max_side: int) -> tuple[np.ndarray, float]:
        """Frame `frame` shrunk so its longest side is at most max_side, and the scale used."""
        import cv2

        img = self.frames[frame]
        h, w = img.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        if scale >= 1.0:
            return img, 1.0
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale


def read_file(path: Path) -> bytes:
    """The file's bytes, or ImageError saying in plain words why they cannot be read."""
    try:
        if path.is_symlink() and not path.exists():
            raise ImageError("broken symbolic link (its target does not exist)")
        if path.is_dir():
            raise ImageError("is a folder, not a file")
        if not path.is_file():
            raise ImageError("not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(f"file is {size:,} bytes, larger than the limit of {MAX_FILE_BYTES:,} bytes "
                             f"({MAX_FILE_BYTES / (1 << 30):g} GiB)")
        return path.read_bytes()
    except ImageError:
        raise
    except PermissionError:
        raise ImageError("permission denied: the file cannot be read") from None
    except RuntimeError as exc:  # pathlib raises RuntimeError on symlink loops in some versions
        raise ImageError(f"cannot be opened: {exc}") from None
    except OSError as exc:
        raise ImageError(f"cannot be read: {exc.strerror or exc}") from None


def load(path: Path, data: bytes | None = None, max_frames: int = 64, *,
         budget: Budget | None = None, depth: int = 0) -> Picture:
    """Decode every frame and every embedded image of the file completely and upright, or raise ImageError."""
    if data is None:
        data = read_file(path)
    budget = budget if budget is not None else Budget(MAX_PIXELS)
    fmt = _format(data)
    try:
        embedded = formats.check(fmt, data)
        picture = _open(path, data, fmt, max_frames, budget)
        _add_embedded(picture, formats.distinct(embedded + xmp_images(picture.xmp, formats.sniff)), max_frames,
                      budget, depth)
        if sphere.is_sphere(picture.xmp):  # a photo sphere: also as its viewer shows it (RT26-7)
            _add_arrays(picture, sphere.views(picture.frames[0], picture.xmp, budget.left), budget)
        if fmt == "TIFF":
            _add_arrays(picture, tiff.subifd_images(data, budget.left), budget)
        elif fmt == "HEIF":
            _add_arrays(picture, heif.other_images(data, budget.left), budget)
            _add_arrays(picture, heif_hidden.unshown_images(data, fmt, budget.left), budget)
        elif fmt == "AVIF":
            _add_arrays(picture, heif_hidden.unshown_images(data, fmt, budget.left), budget)
            _add_arrays(picture, avif_views.other_views(data, budget.left), budget)  # item and track (RT29-30)
    except ImageError as exc:
        raise ImageError(str(exc) or "the file could not be decoded (no reason given)") from None
    except MemoryError:
        raise ImageError("too large to decode in memory") from None
    return picture


def _format(data: bytes) -> str:
    if not data:
        raise ImageError("empty file (0 bytes)")
    fmt = formats.sniff(data)
    if fmt is None and video.sniff(data[:32]) is not None:
        raise ImageError(f"a video ({video.sniff(data[:32])}), not a still image: screened as a clip "
                         "(formats/video.py)")
    if fmt is None:
        raise ImageError(_not_an_image(data))
    if fmt == "HEIF" and not HEIF_SUPPORTED:
        raise ImageError("HEIC/HEIF image, but pillow-heif is not installed")
    if fmt == "AVIF" and not AVIF_SUPPORTED:
        raise ImageError("AVIF image, but this Pillow has no AVIF decoder (Pillow 11.3 or later has one)")
    return fmt


def _not_an_image(data: bytes) -> str:
    """Why bytes that match no image signature are refused, in words (not their raw bytes)."""
    from screening.files import describe

    what = describe(data[:64])
    if what:
        return f"not a supported image: it is {what} (judged by its content)"
    return "not a supported image: its content matches no image format this version reads"


def _open(path: Path, data: bytes, fmt: str, max_frames: int, budget: Budget) -> Picture:
    # Importing face_recognition flips this for the whole process; we insist on strict decoding.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with captured_stderr() as lines, _pillow_open(data, fmt) as img:
                picture = _decode(path, data, fmt, img, max_frames, budget)
            problems = corruption(lines)
            if problems:  # libtiff zero-fills a damaged strip and only says so on stderr
                raise ImageError(f"corrupt {fmt} data: the image data is damaged or cut short ({problems[:200]})")
            return picture
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"refused as a decompression bomb: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # any decoder failure is a file we could not screen
        raise ImageError(f"{fmt} could not be decoded: {exc or type(exc).__name__}") from None


def _pillow_open(data: bytes, fmt: str) -> Image.Image:
    """Pillow's reader for the format; a JPEG stays one image (formats/jpeg.py lists its MPF pictures)."""
    if fmt == "JPEG":
        from PIL import JpegImagePlugin

        return JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    return Image.open(io.BytesIO(data), formats=[fmt])


def _decode(path: Path, data: bytes, fmt: str, img: Image.Image, max_frames: int, budget: Budget) -> Picture:
    w, h = img.size
    if w <= 0 or h <= 0:
        raise ImageError(f"image has no pixels ({w}x{h})")
    n_frames = getattr(img, "n_frames", 1)
    if n_frames > max_frames:
        raise ImageError(f"has {n_frames} frames; at most {max_frames} are screened, so it cannot be cleared")
    budget.take(w * h * n_frames, f"{n_frames} frame(s) of {w}x{h}")  # before decoding any of them

    # the ICC profile is kept whatever its size: redacted copies must keep the photo's colours
    info = {k: v for k, v in img.info.items()
            if not isinstance(v, bytes) or len(v) < 256 or k == "icc_profile"}
    picture = Picture(path=path, data=data, format=fmt, frames=[], exif=_exif_block(img),
                      xmp=_xmp_packets(img, data), info=info)
    for i in range(n_frames):
        img.seek(i)
        if i and img.size != (w, h):
            budget.take(img.size[0] * img.size[1], f"frame {i + 1} of {img.size[0]}x{img.size[1]}")
        img.load()
        frame = img
        if fmt != "HEIF":  # pillow-heif applies HEIF rotation itself: never twice
            picture.orientation = _orientation(img) if i == 0 else picture.orientation
            frame = ImageOps.exif_transpose(img) if picture.orientation != 1 else img
        if fmt == "TIFF" and i == 0:
            tiff.cross_check(data, np.asarray(img))
        rgb = to_rgb(frame)
        picture.frames.append(rgb)
        picture.views.append("")
        where = f"frame {i + 1} " if n_frames > 1 else ""
        for label, pixels in alpha_views(frame, budget) + tone_views(frame, rgb, budget):
            picture.frames.append(pixels)
            picture.views.append(f"{where}{label}".strip())
    return picture


def _add_embedded(picture: Picture, embedded, max_frames: int, budget: Budget, depth: int) -> None:
    """Decode each embedded image (thumbnails, appended, MPF, XMP) as extra views."""
    for item in embedded:
        if depth + 1 > MAX_DEPTH:
            raise ImageError(f"{item.where}: images nested more than {MAX_DEPTH} deep")
        try:
            inner = load(picture.path, item.data, max_frames, budget=budget, depth=depth + 1)
        except ImageError as exc:
            raise ImageError(f"the {item.where} cannot be screened: {exc}") from None
        own = [f for f, view in zip(picture.frames, picture.views, strict=True) if not view]
        for pixels, label in zip(inner.frames, inner.views, strict=True):
            if shown_already(pixels, own):  # a thumbnail or preview of the picture itself
                picture.repeats.append((f"{item.where}, {label}" if label else item.where, pixels))
                continue
            picture.frames.append(pixels)
            picture.views.append(f"{item.where}, {label}" if label else item.where)


def _add_arrays(picture: Picture, arrays: list[tuple[str, np.ndarray]], budget: Budget) -> None:
    own = [f for f, view in zip(picture.frames, picture.views, strict=True) if not view]
    for where, pixels in arrays:
        budget.take(pixels.shape[0] * pixels.shape[1], f"the {where}")
        rgb = to_rgb(pixels)
        if shown_already(rgb, own):
            picture.repeats.append((where, rgb))
        else:
            picture.frames.append(rgb)
            picture.views.append(where)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value) if value in range(1, 9) else 1
    except Exception:
        return 1


def _exif_block(img: Image.Image) -> bytes | None:
    raw = img.info.get("exif")
    if isinstance(raw, bytes) and raw:
        return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    return None


def _xmp_packets(img: Image.Image, data: bytes) -> tuple[bytes, ...]:
    """Every XMP packet: Pillow's view and a linear scan of the bytes (catches odd containers)."""
    found: list[bytes] = []
    for key in ("xmp", "XML:com.adobe.xmp"):
        v = img.info.get(key)
        if isinstance(v, str):
            v = v.encode("utf-8", "replace")
        if isinstance(v, bytes) and v:
            found.append(v)
    tag = getattr(img, "tag_v2", None)
    if tag is not None and 700 in tag:
        v = tag[700]
        found.append(v if isinstance(v, bytes) else str(v).encode("utf-8", "replace"))
    try:
        found.extend(xmp_packets(data, required=False))
        if data.startswith(b"\xff\xd8"):  # extended XMP, joined as a viewer joins it (RT27-8)
            for joined in jpeg.extended_xmp(data):
                found.extend(xmp_packets(joined, required=False) or [joined])
    except formats.MetadataError:
        pass  # the location check reports XMP it cannot read
    return tuple(dict.fromkeys(found))

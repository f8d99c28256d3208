"""The one place that opens and decodes image files.

Format is detected by content, never by extension. Decoding is strict: a truncated file,
a decompression bomb or a frame that will not decode raises ImageError, never a partial
picture. Every frame comes out upright (EXIF orientation applied exactly once) as RGB uint8.
"""

from __future__ import annotations

import re
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

from screening.formats import video

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF_SUPPORTED = False

# Refuse images larger than this before allocating pixels (a 24 MP phone photo is 24e6).
MAX_PIXELS = 150_000_000
# Refuse files larger than this before reading them.
MAX_FILE_BYTES = 1 << 30

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageError(Exception):
    """The file could not be decoded completely; the message says why in plain words."""


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

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.frames[0].shape[:2]
        return w, h

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


_SIGNATURES: list[tuple[str, re.Pattern[bytes]]] = [
    ("JPEG", re.compile(rb"\A\xff\xd8\xff")),
    ("PNG", re.compile(rb"\A\x89PNG\r\n\x1a\n")),
    ("GIF", re.compile(rb"\AGIF8[79]a")),
    ("WEBP", re.compile(rb"\ARIFF....WEBP", re.S)),
    ("TIFF", re.compile(rb"\A(II\*\x00|MM\x00\*)")),
    ("BMP", re.compile(rb"\ABM")),
    ("HEIF", re.compile(rb"\A....ftyp(heic|heix|heim|heis|hevc|hevx|mif1|msf1|avif|avis)", re.S)),
]


def sniff(data: bytes) -> str | None:
    """The image format of these bytes, from their content, or None if not a supported image.

    Video containers come back as video.FORMATS (MP4, MATROSKA, AVI): screened as clips.
    """
    head = data[:32]
    for name, pattern in _SIGNATURES:
        if pattern.match(head):
            return name
    return video.sniff(head)


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
            raise ImageError(f"file is {size / 1e6:.0f} MB, larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
        return path.read_bytes()
    except ImageError:
        raise
    except PermissionError:
        raise ImageError("permission denied: the file cannot be read") from None
    except RuntimeError as exc:  # pathlib raises RuntimeError on symlink loops in some versions
        raise ImageError(f"cannot be opened: {exc}") from None
    except OSError as exc:
        raise ImageError(f"cannot be read: {exc.strerror or exc}") from None


def load(path: Path, data: bytes | None = None, max_frames: int = 64) -> Picture:
    """Decode every frame of the file completely and upright, or raise ImageError."""
    if data is None:
        data = read_file(path)
    if not data:
        raise ImageError("empty file (0 bytes)")
    fmt = sniff(data)
    if fmt is None:
        raise ImageError(f"not a supported image (content starts with {data[:8]!r})")
    if fmt in video.FORMATS:
        raise ImageError(f"a video ({fmt}), not a still image: screened as a clip (formats/video.py)")
    if fmt == "HEIF" and not HEIF_SUPPORTED:
        raise ImageError("HEIC/HEIF image, but pillow-heif is not installed")
    _check_complete(fmt, data)

    # Importing face_recognition flips this for the whole process; we insist on strict decoding.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    import io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[fmt]]) as img:
                return _decode(path, data, fmt, img, max_frames)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"refused as a decompression bomb: {exc}") from None
    except MemoryError:
        raise ImageError("too large to decode in memory") from None
    except Exception as exc:  # any decoder failure is a file we could not screen
        raise ImageError(f"{fmt} could not be decoded: {exc}") from None


_PIL_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "GIF", "WEBP": "WEBP", "TIFF": "TIFF",
               "BMP": "BMP", "HEIF": "HEIF"}


def _decode(path: Path, data: bytes, fmt: str, img: Image.Image, max_frames: int) -> Picture:
    w, h = img.size
    if w <= 0 or h <= 0:
        raise ImageError(f"image has no pixels ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise ImageError(f"refused as a decompression bomb: {w}x{h} pixels is over the "
                         f"{MAX_PIXELS / 1e6:.0f} MP limit")
    n_frames = getattr(img, "n_frames", 1)
    if n_frames > max_frames:
        raise ImageError(f"has {n_frames} frames; at most {max_frames} are screened, so it cannot be cleared")

    # the ICC profile is kept whatever its size: redacted copies must keep the photo's colours
    info = {k: v for k, v in img.info.items()
            if not isinstance(v, bytes) or len(v) < 256 or k == "icc_profile"}
    exif = _exif_block(img)
    xmp = _xmp_packets(img, data)

    frames = []
    orientation = 1
    for i in range(n_frames):
        img.seek(i)
        fw, fh = img.size
        if fw * fh > MAX_PIXELS:
            raise ImageError(f"frame {i + 1} is {fw}x{fh}, over the {MAX_PIXELS / 1e6:.0f} MP limit")
        img.load()
        frame = img
        if fmt != "HEIF":  # pillow-heif applies HEIF rotation itself: never twice
            orientation = _orientation(img) if i == 0 else orientation
            frame = ImageOps.exif_transpose(img) if orientation != 1 else img
        frames.append(_to_rgb(frame))
    return Picture(path=path, data=data, format=fmt, frames=frames, orientation=orientation,
                   exif=exif, xmp=xmp, info=info)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value) if value in range(1, 9) else 1
    except Exception:
        return 1


def _to_rgb(img: Image.Image) -> np.ndarray:
    """RGB uint8 from any mode: 16-bit scaled (not clipped), palette expanded, alpha dropped."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        grey = np.clip(arr / top * 255.0, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
        grey = ((arr - lo) / max(hi - lo, 1e-9) * 255.0).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        return np.ascontiguousarray(np.asarray(img)[..., :3])
    if mode != "RGB":
        img = img.convert("RGB")
    arr = np.asarray(img)
    if arr.dtype != np.uint8:  # e.g. 16-bit RGB from some TIFF plugins
        arr = (arr.astype(np.float64) / 257.0).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _exif_block(img: Image.Image) -> bytes | None:
    raw = img.info.get("exif")
    if isinstance(raw, bytes) and raw:
        return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    return None


_XMP_PACKET = re.compile(rb"<x:xmpmeta[\s\S]*?</x:xmpmeta>|<rdf:RDF[\s\S]*?</rdf:RDF>")


def _xmp_packets(img: Image.Image, data: bytes) -> tuple[bytes, ...]:
    """Every XMP packet: Pillow's view and a raw scan of the bytes (catches odd containers)."""
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
    for m in _XMP_PACKET.finditer(data):
        found.append(m.group(0))
    unique: list[bytes] = []
    for packet in found:
        if packet not in unique:
            unique.append(packet)
    return tuple(unique)


# ---------------------------------------------------------------- completeness by container


def _check_complete(fmt: str, data: bytes) -> None:
    """Catch truncation that lenient decoders paper over (grey fill, silent last rows)."""
    if fmt == "JPEG":
        _check_jpeg(data)
    elif fmt == "PNG":
        if b"IEND" not in data[-4096:]:
            raise ImageError("truncated PNG: no IEND chunk at the end of the file")
    elif fmt == "GIF":
        if not data.rstrip(b"\x00").endswith(b";"):
            raise ImageError("truncated GIF: no trailer byte at the end of the file")
    elif fmt == "WEBP":
        (riff_size,) = struct.unpack_from("<I", data, 4)
        if riff_size + 8 > len(data):
            raise ImageError(f"truncated WebP: header declares {riff_size + 8} bytes, file has {len(data)}")
    elif fmt == "BMP" and len(data) >= 14:
        (declared,) = struct.unpack_from("<I", data, 2)
        (offset,) = struct.unpack_from("<I", data, 10)
        if offset > len(data) or (declared > len(data) and declared - len(data) > 2):
            raise ImageError(f"truncated BMP: header declares {declared} bytes, file has {len(data)}")


_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _check_jpeg(data: bytes) -> None:
    """Walk the primary JPEG's segments to its end-of-image marker; no EOI means truncated."""
    pos = 2
    n = len(data)
    while pos < n:
        m = _JPEG_MARKER.search(data, pos)
        if m is None:
            break
        marker = data[m.start() + 1]
        if marker == 0xD9:
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos = m.end()
            continue
        if m.start() + 4 > n:
            break
        (length,) = struct.unpack_from(">H", data, m.start() + 2)
        seg_end = m.start() + 2 + length
        if seg_end > n:
            raise ImageError("truncated JPEG: a segment runs past the end of the file")
        pos = seg_end  # after SOS, the entropy-coded data follows: the regex skips stuffed bytes
    raise ImageError("truncated JPEG: no end-of-image marker")

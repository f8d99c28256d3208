"""The one place that opens images: strict, content-sniffed, upright; bad files are errors."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from screening import imaging
from screening.imaging import ImageError, load


def _photo(size=(64, 48)) -> Image.Image:
    """A small picture whose top-left corner is red, so orientation can be checked."""
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[..., 2] = 200
    arr[: size[1] // 4, : size[0] // 4] = (255, 0, 0)
    return Image.fromarray(arr)


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def jpeg_bytes() -> bytes:
    return _save(_photo((320, 240)), "JPEG", quality=90)


# ---------------------------------------------------------------- bad inputs are errors


@pytest.mark.parametrize("name, content, message", [
    ("empty.jpg", b"", "empty file"),
    ("random.jpg", os.urandom(4096), "not a supported image"),
    ("notes.jpg", b"This is a text file, not a photo.\n" * 20, "not a supported image"),
    ("page.png", b"<html><body>hello</body></html>", "not a supported image"),
])
def test_unreadable_content_is_error(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(ImageError, match=message):
        load(p)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_jpeg_is_error_never_cleared(tmp_path, jpeg_bytes, keep):
    p = tmp_path / "cut.jpg"
    p.write_bytes(jpeg_bytes[: int(len(jpeg_bytes) * keep)])
    with pytest.raises(ImageError, match="truncated"):
        load(p)


def test_jpeg_missing_only_its_end_marker_is_error(tmp_path, jpeg_bytes):
    p = tmp_path / "no-eoi.jpg"
    p.write_bytes(jpeg_bytes[:-2])
    with pytest.raises(ImageError, match="truncated JPEG"):
        load(p)


def test_truncated_jpeg_stays_an_error_after_pillow_switch_is_flipped(tmp_path, jpeg_bytes):
    """Importing face_recognition sets LOAD_TRUNCATED_IMAGES for the whole process."""
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        p = tmp_path / "cut.jpg"
        p.write_bytes(jpeg_bytes[: len(jpeg_bytes) // 2])
        with pytest.raises(ImageError):
            load(p)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif"), ("TIFF", "tif"), ("BMP", "bmp")])
def test_truncated_files_of_every_format_are_errors(tmp_path, fmt, ext):
    noise = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    data = _save(Image.fromarray(noise), fmt)
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError):
        load(p)


def test_decompression_bomb_is_refused_without_decoding(tmp_path):
    # A valid PNG header claiming 100,000 x 100,000 pixels, with almost no data behind it.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    p = tmp_path / "bomb.png"
    p.write_bytes(data)
    with pytest.raises(ImageError, match="decompression bomb"):
        load(p)


def test_folder_named_like_an_image_is_error(tmp_path):
    (tmp_path / "x.jpg").mkdir()
    with pytest.raises(ImageError, match="folder"):
        imaging.read_file(tmp_path / "x.jpg")


def test_dangling_symlink_is_error(tmp_path):
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    with pytest.raises(ImageError, match="link"):
        imaging.read_file(tmp_path / "gone.jpg")


def test_symlink_loop_is_error(tmp_path):
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    with pytest.raises(ImageError, match="link"):
        imaging.read_file(tmp_path / "a.jpg")


def test_unreadable_file_is_error(tmp_path, monkeypatch, jpeg_bytes):
    p = tmp_path / "secret.jpg"
    p.write_bytes(jpeg_bytes)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(p), "read_bytes", denied)
    with pytest.raises(ImageError, match="permission denied"):
        imaging.read_file(p)


# ---------------------------------------------------------------- valid images decode fully


def test_non_ascii_name_loads(tmp_path, jpeg_bytes):
    p = tmp_path / "Crémieux été 日本.jpg"
    p.write_bytes(jpeg_bytes)
    assert load(p).size == (320, 240)


def test_webp_named_jpg_is_sniffed_by_content(tmp_path):
    p = tmp_path / "really-webp.jpg"
    p.write_bytes(_save(_photo(), "WEBP", quality=90))
    assert load(p).format == "WEBP"


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "L", "1", "I;16", "I"])
def test_every_colour_mode_becomes_rgb(tmp_path, mode):
    img = _photo()
    if mode == "I;16":
        img = Image.fromarray((np.asarray(img.convert("L"), np.uint16) * 257))
    else:
        img = img.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "TIFF" if mode.startswith("I") else "PNG"
    p = tmp_path / f"m.{fmt.lower()}"
    p.write_bytes(_save(img, fmt))
    frame = load(p).frames[0]
    assert frame.dtype == np.uint8 and frame.shape == (48, 64, 3)
    assert frame.max() > 0  # 16-bit scaled, not clipped to black or white


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    grey = np.full((8, 8), 32768, np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(grey).save(p)
    assert 120 <= int(load(p).frames[0][0, 0, 0]) <= 135


@pytest.mark.parametrize("orientation, expected_corner", [
    (1, "top_left"), (2, "top_right"), (3, "bottom_right"), (4, "bottom_left"),
    (5, "top_left"), (6, "top_right"), (7, "bottom_right"), (8, "bottom_left"),
])
def test_exif_orientation_is_applied_once(tmp_path, orientation, expected_corner):
    img = _photo((64, 48))
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / f"o{orientation}.jpg"
    p.write_bytes(_save(img, "JPEG", exif=exif.tobytes(), quality=95))
    pic = load(p)
    frame = pic.frames[0]
    h, w = frame.shape[:2]
    assert (w, h) == ((48, 64) if orientation >= 5 else (64, 48))
    corners = {"top_left": frame[2, 2], "top_right": frame[2, w - 3],
               "bottom_left": frame[h - 3, 2], "bottom_right": frame[h - 3, w - 3]}
    red = max(corners, key=lambda k: int(corners[k][0]) - int(corners[k][2]))
    assert red == expected_corner
    assert pic.orientation == orientation


def test_heic_loads_upright_and_rotation_is_not_applied_twice(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    img = _photo((64, 48))
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "phone.heic"
    img.save(p, format="HEIF", exif=exif.tobytes())
    pic = load(p)
    assert pic.format == "HEIF"
    # pillow-heif owns HEIF rotation; whatever it did, we must not rotate again.
    with Image.open(p) as reference:
        assert pic.size == reference.size


def test_every_frame_of_an_animated_gif_is_decoded(tmp_path):
    frames = [_photo().convert("P"), Image.new("RGB", (64, 48), (0, 255, 0)).convert("P"),
              Image.new("RGB", (64, 48), (0, 0, 255)).convert("P")]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    assert len(load(p).frames) == 3


def test_too_many_frames_is_error(tmp_path):
    frames = [Image.new("RGB", (8, 8), (i, 0, 0)).convert("P") for i in range(10)]
    p = tmp_path / "long.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="frames"):
        load(p, max_frames=5)


def test_multipage_tiff_decodes_every_page(tmp_path):
    pages = [_photo(), Image.new("RGB", (30, 20), (0, 255, 0))]
    p = tmp_path / "pages.tif"
    pages[0].save(p, save_all=True, append_images=pages[1:])
    pic = load(p)
    assert [f.shape[:2] for f in pic.frames] == [(48, 64), (20, 30)]


@pytest.mark.shared
def test_every_shared_photo_decodes(shared_data):
    """All 200+ real camera, phone and test photos decode completely (none is broken)."""
    images = [p for p in shared_data.rglob("*")
              if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp"}]
    assert len(images) > 150
    failures = {}
    for p in images:
        try:
            load(p)
        except ImageError as exc:
            failures[str(p.relative_to(shared_data))] = str(exc)
    assert failures == {}

"""Logo reference files as pixels: raster images, SVG (rendered by resvg) and PDF (by pdfium).

Logos arrive from designers as SVG and PDF as often as PNG. A file in an academy's logos
folder that is none of these, or that will not render, is refused by name when the config
is loaded, before any photo is screened (never silently skipped: a missing reference turns
the logo and uniform checks off for that academy).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from screening.formats.common import ImageError

# Longest side a vector logo is rendered at: ample for keypoints and appearance.
RENDER_SIDE = 800
# Files an OS or a file manager leaves in folders: never references.
CLUTTER = {"thumbs.db", "desktop.ini", ".ds_store"}


def logo_files(folder: Path) -> list[Path]:
    """Every file in a logos folder (recursively) that is meant as a reference."""
    return [p for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and p.name.lower() not in CLUTTER]


def check_folder(academy_id: str, folder: Path, shown: str) -> None:
    """Every file in the logos folder renders as a reference, and there is at least one.

    An empty folder, or one whose only file cannot be read, would silently turn the logo
    and uniform checks off for the academy: ImageError naming the academy and the file.
    """
    files = logo_files(folder)
    if not files:
        raise ImageError(f"academy {academy_id}: no logo image in {shown} (the folder is empty): "
                         "add the academy's logo or crest (PNG, JPEG, SVG or PDF)")
    for path in files:
        try:
            read_logo(path)
        except ImageError as exc:
            raise ImageError(f"academy {academy_id}: {shown}/{path.relative_to(folder)} {exc}") from None


def read_logo(path: Path) -> np.ndarray:
    """RGB or RGBA uint8 pixels of a logo file, or ImageError saying why it cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot be read: {exc.strerror or exc}") from None
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        return _pdf(data)
    if b"<svg" in data[:4096] or path.suffix.lower() in (".svg", ".svgz"):
        return _svg(data, path)
    from screening.formats import sniff

    if sniff(data) is None:
        raise ImageError("is not an image, SVG or PDF file")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            alpha = "A" in im.getbands() or "transparency" in im.info
            return np.asarray(im.convert("RGBA" if alpha else "RGB"))
    except Exception as exc:
        raise ImageError(f"is a corrupt image: {exc or type(exc).__name__}") from None


def _svg(data: bytes, path: Path) -> np.ndarray:
    import gzip

    import resvg_py

    try:
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
        png = resvg_py.svg_to_bytes(svg_string=text, width=RENDER_SIDE)
        with Image.open(io.BytesIO(bytes(png))) as im:
            return np.asarray(im.convert("RGBA"))
    except Exception as exc:
        raise ImageError(f"is SVG but cannot be rendered: {exc or type(exc).__name__}") from None


def _pdf(data: bytes) -> np.ndarray:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
        if len(pdf) < 1:
            raise ValueError("the PDF has no pages")
        page = pdf[0]
        w, h = page.get_size()
        bitmap = page.render(scale=RENDER_SIDE / max(w, h, 1.0), fill_color=(255, 255, 255, 0))
        return np.asarray(bitmap.to_pil().convert("RGBA"))
    except Exception as exc:
        raise ImageError(f"is PDF but cannot be rendered: {exc or type(exc).__name__}") from None

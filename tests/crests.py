"""Drawn school crests, and the ways the evaluation puts them into photos.

Everything is deterministic from a seed. Used for the demo academies' logos (`preset`),
test fixtures, decoys (`decoy_of`: same shape, another school), compositing a crest into a
photo (`composite`: scale, rotation, perspective, shading, occlusion), the photo-wide
degradations (`colour_cast`, `jpeg`) and painting a uniform onto a person (`paint_uniform`).
No photo is ever read here: callers pass images in.
"""

from __future__ import annotations

import functools
import io
import math
import random
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SHAPES = ("heater", "swiss", "roundel", "octagon", "square")
DIVISIONS = ("plain", "pale", "fess", "quarterly", "chevron", "bend", "saltire", "chief")
EMBLEMS = ("star", "book", "tower", "tree", "crown", "cross", "key", "wave", "torch", "none")
# Colours schools actually choose: navy, maroon, bottle green, royal blue, gold, white...
PALETTE = ("#1b2a4a", "#7a1f2b", "#1f4d2b", "#2350a0", "#c8a200", "#e8e8e8", "#111111",
           "#5b2a86", "#7fb2e5", "#c62828", "#8a8d91", "#e07b00", "#006d6f", "#f2d16b")
_WORDS = ("ACADEMY", "SCHOOL", "COLLEGE", "TRUST", "LEARNING", "FAITH", "HONOUR", "TOGETHER",
          "WISDOM", "SERVICE", "ST", "NORTH", "SOUTH", "HILL", "VALE", "PARK", "GROVE")


@dataclass(frozen=True)
class CrestStyle:
    """What a crest looks like; every field is plain data so a style can be printed and edited."""

    shape: str
    field: str  # main colour of the shield
    charge: str  # colour of the division and rim
    accent: str  # colour of emblem and letters
    division: str = "plain"
    emblem: str = "none"
    initials: str = ""
    motto: str = ""  # ring text on a roundel, scroll text under other shapes
    rim: float = 0.035  # rim width as a fraction of the crest size


PRESETS: dict[str, CrestStyle] = {
    "north": CrestStyle("heater", "#1b2a4a", "#c8a200", "#c8a200", "chevron", "book", "TN",
                        "TRINITY NORTH"),
    "south": CrestStyle("roundel", "#7a1f2b", "#e8e8e8", "#e8e8e8", "plain", "tower", "SA",
                        "ST AIDAN'S ACADEMY"),
    "east": CrestStyle("octagon", "#1f4d2b", "#e8e8e8", "#f2d16b", "quarterly", "tree", "", ""),
    "west": CrestStyle("swiss", "#2350a0", "#e8e8e8", "#e8e8e8", "bend", "star", "W", ""),
    # Same shield shape and layout as "north", another school: must never be flagged as north.
    "decoy": CrestStyle("heater", "#1f4d2b", "#e8e8e8", "#e8e8e8", "chevron", "star", "HG",
                        "HOLLY GROVE"),
    # A flat, simple crest: few corners, few keypoints.
    "flat": CrestStyle("heater", "#c62828", "#f2d16b", "#f2d16b", "pale", "none", "", "", 0.05),
}


def preset(name: str, size: int = 512) -> Image.Image:
    """A named crest (north, south, east, west, decoy, flat) as an RGBA image size x size."""
    return draw_crest(PRESETS[name], size)


def style_from_seed(seed: int, *, simple: bool | None = None) -> CrestStyle:
    """A random but reproducible crest style; `simple` forces a flat crest with no text."""
    rng = random.Random(seed)
    field, charge, accent = _three_colours(rng)
    simple = rng.random() < 0.2 if simple is None else simple
    if simple:
        return CrestStyle(rng.choice(SHAPES), field, charge, accent,
                          rng.choice(DIVISIONS), rng.choice(("none", "star", "cross")), "", "",
                          rng.uniform(0.03, 0.06))
    letters = "ABCDEFGHJKLMNPRSTVW"
    initials = "".join(rng.choice(letters) for _ in range(rng.choice((0, 1, 2, 2, 3))))
    motto = " ".join(rng.sample(_WORDS, rng.choice((0, 2, 3)))) if rng.random() < 0.7 else ""
    return CrestStyle(rng.choice(SHAPES), field, charge, accent, rng.choice(DIVISIONS),
                      rng.choice(EMBLEMS), initials, motto, rng.uniform(0.02, 0.05))


def decoy_of(style: CrestStyle, seed: int, *, keep_colours: bool = False) -> CrestStyle:
    """Another school's crest of the same shape: new emblem, letters, motto (and colours)."""
    rng = random.Random(seed)
    other = style_from_seed(seed + 7919, simple=False)
    emblem = rng.choice([e for e in EMBLEMS if e not in (style.emblem, "none")])
    division = rng.choice([d for d in DIVISIONS if d != style.division])
    new = replace(other, shape=style.shape, emblem=emblem, division=division, rim=style.rim)
    if keep_colours:
        new = replace(new, field=style.field, charge=style.charge, accent=style.accent)
    elif new.field == style.field:
        new = replace(new, field=next(c for c in PALETTE if c not in (style.field, new.charge)))
    return new


def _three_colours(rng: random.Random) -> tuple[str, str, str]:
    while True:
        field, charge = rng.sample(PALETTE, 2)
        if delta_e(field, charge) > 60:
            break
    accent = charge if rng.random() < 0.6 else rng.choice(
        [c for c in PALETTE if delta_e(c, field) > 60])
    return field, charge, accent


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference between two #rrggbb colours (OpenCV's 8-bit Lab scale)."""
    la = cv2.cvtColor(np.uint8([[_rgb(a), _rgb(b)]]), cv2.COLOR_RGB2LAB).astype(float)[0]
    return float(np.linalg.norm(la[0] - la[1]))


# ---------------------------------------------------------------- drawing

_SS = 3  # supersampling factor for smooth edges


def draw_crest(style: CrestStyle | int | str, size: int = 512) -> Image.Image:
    """The crest as an RGBA image size x size (transparent outside the shape)."""
    if isinstance(style, str):
        style = PRESETS[style]
    elif isinstance(style, int):
        style = style_from_seed(style)
    n = size * _SS
    has_scroll = bool(style.motto) and style.shape != "roundel"
    outline = _outline(style.shape, n, 0.82 if has_scroll else 1.0)
    shape_mask = Image.new("L", (n, n), 0)
    ImageDraw.Draw(shape_mask).polygon(outline, fill=255)

    art = Image.new("RGB", (n, n), _rgb(style.field))
    d = ImageDraw.Draw(art)
    _division(d, style.division, n, _rgb(style.charge))
    inner = _outline(style.shape, n, 0.82 if has_scroll else 1.0, inset=style.rim)
    # rim: the charge colour between the outline and an inset copy of it
    rim = Image.new("L", (n, n), 255)
    ImageDraw.Draw(rim).polygon(inner, fill=0)
    art.paste(Image.new("RGB", (n, n), _rgb(style.charge)), (0, 0), rim)

    cx, cy, r = n * 0.5, n * (0.40 if has_scroll else 0.47), n * 0.2
    if style.shape == "roundel":
        cy = n * 0.5
        if style.motto:
            _ring_text(art, style.motto, n, _rgb(style.field), _rgb(style.charge))
            r = n * 0.17
    if style.initials:
        cy -= r * 0.35
    _emblem(d, style.emblem, cx, cy, r, _rgb(style.accent), _rgb(style.field))
    if style.initials:
        font = _font(int(r * 0.75))
        d.text((cx, cy + r * 1.45), style.initials, fill=_rgb(style.accent), font=font,
               anchor="mm", stroke_width=max(1, n // 300), stroke_fill=_rgb(style.field))

    out = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    out.paste(art, (0, 0), shape_mask)
    if has_scroll:
        _scroll(out, style.motto, n, _rgb(style.charge), _rgb(style.field))
    return out.resize((size, size), Image.LANCZOS)


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(6, px))


def _outline(shape: str, n: int, height: float = 1.0, inset: float = 0.0) -> list[tuple[float, float]]:
    """The shape's polygon in an n x n canvas, using the top `height` of it, shrunk by `inset`."""
    m = 0.06 + inset
    x0, x1, y0, y1 = n * m, n * (1 - m), n * m, n * (height - m)
    if shape == "roundel":
        cx, cy, rad = n / 2, n / 2, n * (0.5 - m)
        return [(cx + rad * math.cos(t), cy + rad * math.sin(t))
                for t in np.linspace(0, 2 * math.pi, 180, endpoint=False)]
    if shape == "octagon":
        c = (x1 - x0) * 0.29
        return [(x0 + c, y0), (x1 - c, y0), (x1, y0 + c), (x1, y1 - c), (x1 - c, y1),
                (x0 + c, y1), (x0, y1 - c), (x0, y0 + c)]
    if shape == "square":
        c = (x1 - x0) * 0.08
        return [(x0 + c, y0), (x1 - c, y0), (x1, y0 + c), (x1, y1 - c), (x1 - c, y1),
                (x0 + c, y1), (x0, y1 - c), (x0, y0 + c)]
    xm, mid = (x0 + x1) / 2, y0 + (y1 - y0) * (0.45 if shape == "heater" else 0.7)
    pts = [(x0, y0), (x1, y0), (x1, mid)]
    for t in np.linspace(0, 1, 40)[1:]:  # curved side down to the point (quadratic Bezier)
        ctrl = (x1, y1 - (y1 - mid) * 0.15) if shape == "heater" else (x1, y1)
        pts.append(((1 - t) ** 2 * x1 + 2 * t * (1 - t) * ctrl[0] + t * t * xm,
                    (1 - t) ** 2 * mid + 2 * t * (1 - t) * ctrl[1] + t * t * y1))
    left = [(2 * xm - x, y) for x, y in reversed(pts[2:-1])]
    return pts + left


def _division(d: ImageDraw.ImageDraw, division: str, n: int, colour) -> None:
    if division == "pale":
        d.rectangle((n / 2, 0, n, n), fill=colour)
    elif division == "fess":
        d.rectangle((0, n * 0.5, n, n), fill=colour)
    elif division == "quarterly":
        d.rectangle((n / 2, 0, n, n / 2), fill=colour)
        d.rectangle((0, n / 2, n / 2, n), fill=colour)
    elif division == "chevron":
        w = n * 0.09
        d.polygon([(0, n * 0.78), (n / 2, n * 0.42), (n, n * 0.78), (n, n * 0.78 + w * 2),
                   (n / 2, n * 0.42 + w * 2), (0, n * 0.78 + w * 2)], fill=colour)
    elif division == "bend":
        d.line((0, 0, n, n), fill=colour, width=int(n * 0.14))
    elif division == "saltire":
        d.line((0, 0, n, n), fill=colour, width=int(n * 0.09))
        d.line((n, 0, 0, n), fill=colour, width=int(n * 0.09))
    elif division == "chief":
        d.rectangle((0, 0, n, n * 0.27), fill=colour)


def _emblem(d: ImageDraw.ImageDraw, emblem: str, cx: float, cy: float, r: float, fg, bg) -> None:
    lw = max(2, int(r * 0.08))
    if emblem == "star":
        d.polygon([(cx + (r if i % 2 == 0 else r * 0.42) * math.sin(i * math.pi / 5),
                    cy - (r if i % 2 == 0 else r * 0.42) * math.cos(i * math.pi / 5))
                   for i in range(10)], fill=fg)
    elif emblem == "book":
        d.polygon([(cx, cy - r * 0.45), (cx - r, cy - r * 0.7), (cx - r, cy + r * 0.55),
                   (cx, cy + r * 0.8)], fill=fg)
        d.polygon([(cx, cy - r * 0.45), (cx + r, cy - r * 0.7), (cx + r, cy + r * 0.55),
                   (cx, cy + r * 0.8)], fill=fg)
        for k in range(1, 4):  # lines of text on the pages
            y = cy - r * 0.45 + k * r * 0.28
            d.line((cx - r * 0.8, y - r * 0.15, cx - r * 0.15, y), fill=bg, width=lw)
            d.line((cx + r * 0.15, y, cx + r * 0.8, y - r * 0.15), fill=bg, width=lw)
    elif emblem == "tower":
        d.rectangle((cx - r * 0.55, cy - r * 0.6, cx + r * 0.55, cy + r), fill=fg)
        for k in range(3):
            x = cx - r * 0.55 + k * r * 0.44
            d.rectangle((x, cy - r * 0.9, x + r * 0.22, cy - r * 0.6), fill=fg)
        d.pieslice((cx - r * 0.2, cy + r * 0.3, cx + r * 0.2, cy + r * 0.7), 180, 360, fill=bg)
        d.rectangle((cx - r * 0.2, cy + r * 0.5, cx + r * 0.2, cy + r), fill=bg)
        d.rectangle((cx - r * 0.1, cy - r * 0.3, cx + r * 0.1, cy), fill=bg)
    elif emblem == "tree":
        d.rectangle((cx - r * 0.12, cy + r * 0.4, cx + r * 0.12, cy + r), fill=fg)
        for k, w in enumerate((0.55, 0.75, 0.95)):
            y = cy - r + k * r * 0.45
            d.polygon([(cx, y), (cx - r * w, y + r * 0.65), (cx + r * w, y + r * 0.65)], fill=fg)
    elif emblem == "crown":
        d.rectangle((cx - r * 0.8, cy + r * 0.2, cx + r * 0.8, cy + r * 0.6), fill=fg)
        d.polygon([(cx - r * 0.8, cy + r * 0.2), (cx - r * 0.8, cy - r * 0.5), (cx - r * 0.4, cy),
                   (cx, cy - r * 0.7), (cx + r * 0.4, cy), (cx + r * 0.8, cy - r * 0.5),
                   (cx + r * 0.8, cy + r * 0.2)], fill=fg)
        for x, y in ((-0.8, -0.5), (0, -0.7), (0.8, -0.5)):
            d.ellipse((cx + r * x - r * 0.13, cy + r * y - r * 0.26, cx + r * x + r * 0.13,
                       cy + r * y), fill=fg)
        for x in (-0.45, 0, 0.45):
            d.ellipse((cx + r * (x - 0.1), cy + r * 0.3, cx + r * (x + 0.1), cy + r * 0.5), fill=bg)
    elif emblem == "cross":
        a, b = r * 0.22, r
        d.polygon([(cx - a, cy - b), (cx + a, cy - b), (cx + a * 0.6, cy - a), (cx + a, cy - a * 0.6),
                   (cx + b, cy - a), (cx + b, cy + a), (cx + a, cy + a * 0.6), (cx + a * 0.6, cy + a),
                   (cx + a, cy + b), (cx - a, cy + b), (cx - a * 0.6, cy + a), (cx - a, cy + a * 0.6),
                   (cx - b, cy + a), (cx - b, cy - a), (cx - a, cy - a * 0.6), (cx - a * 0.6, cy - a)],
                  fill=fg)
    elif emblem == "key":
        d.ellipse((cx - r * 0.9, cy - r * 0.35, cx - r * 0.2, cy + r * 0.35), outline=fg, width=lw * 2)
        d.rectangle((cx - r * 0.25, cy - r * 0.09, cx + r * 0.9, cy + r * 0.09), fill=fg)
        for x in (0.45, 0.75):
            d.rectangle((cx + r * x, cy, cx + r * (x + 0.12), cy + r * 0.4), fill=fg)
    elif emblem == "wave":
        for k in range(3):
            y = cy - r * 0.5 + k * r * 0.5
            pts = [(cx - r + t * 2 * r, y + math.sin(t * 3 * math.pi) * r * 0.15)
                   for t in np.linspace(0, 1, 30)]
            d.line(pts, fill=fg, width=lw * 2)
    elif emblem == "torch":
        d.polygon([(cx - r * 0.15, cy), (cx + r * 0.15, cy), (cx + r * 0.07, cy + r),
                   (cx - r * 0.07, cy + r)], fill=fg)
        d.polygon([(cx, cy - r), (cx + r * 0.35, cy - r * 0.3), (cx + r * 0.2, cy - r * 0.05),
                   (cx - r * 0.2, cy - r * 0.05), (cx - r * 0.35, cy - r * 0.3), (cx - r * 0.05, cy - r * 0.6)],
                  fill=fg)


def _ring_text(art: Image.Image, text: str, n: int, field, fg) -> None:
    """A band in `fg` around a roundel, the motto written on it in the field colour."""
    d = ImageDraw.Draw(art)
    outer, band = n * 0.44, n * 0.12
    c = n / 2
    d.ellipse((c - outer, c - outer, c + outer, c + outer), fill=fg)
    d.ellipse((c - outer + band, c - outer + band, c + outer - band, c + outer - band), fill=field)
    font = _font(int(band * 0.62))
    rad = outer - band / 2
    chars = list(text)
    span = min(300.0, 16.0 * len(chars))
    for i, ch in enumerate(chars):
        deg = -90 - span / 2 + span * (i + 0.5) / len(chars)
        tile = Image.new("L", (int(band), int(band)), 0)
        ImageDraw.Draw(tile).text((band / 2, band / 2), ch, fill=255, font=font, anchor="mm")
        tile = tile.rotate(-(deg + 90), resample=Image.BICUBIC)
        x = c + rad * math.cos(math.radians(deg)) - band / 2
        y = c + rad * math.sin(math.radians(deg)) - band / 2
        art.paste(Image.new("RGB", tile.size, field), (int(x), int(y)), tile)


def _scroll(out: Image.Image, text: str, n: int, fill, ink) -> None:
    d = ImageDraw.Draw(out)
    top, bot = n * 0.8, n * 0.95
    d.polygon([(n * 0.04, top + n * 0.02), (n * 0.96, top + n * 0.02), (n * 0.9, (top + bot) / 2),
               (n * 0.96, bot), (n * 0.04, bot), (n * 0.1, (top + bot) / 2)], fill=fill + (255,))
    font = _font(int((bot - top) * 0.55))
    d.text((n / 2, (top + bot) / 2 + n * 0.01), text, fill=ink + (255,), font=font, anchor="mm")


# ---------------------------------------------------------------- into photos


def composite(photo: Image.Image, crest: Image.Image, *, width_frac: float,
              centre: tuple[float, float] = (0.5, 0.5), angle: float = 0.0, tilt: float = 0.0,
              shade: float = 1.0, occlude: float = 0.0, seed: int = 0,
              yaw: float = 0.0) -> tuple[int, int, int, int]:
    """Draw `crest` into `photo` in place; return its box [left, top, width, height].

    width_frac: crest width over photo width; centre: fractions of the photo size; angle:
    degrees anticlockwise; tilt: 0..0.4, perspective (one side shorter by that fraction);
    shade: brightness gain on the crest; occlude: fraction of the crest covered by a patch
    of the photo taken from elsewhere (a hand, a head, a lanyard); yaw: degrees the crest is
    turned away from the camera about its upright axis (foreshortened across, its far side
    shorter, as a badge on a turned chest or a sign seen from the side).
    """
    rng = random.Random(seed)
    rgba = np.asarray(crest.convert("RGBA"), dtype=np.float32)
    ch, cw = rgba.shape[:2]
    W, H = photo.size
    w = width_frac * W
    h = w * ch / cw
    # corners before rotation, centred at the origin; perspective shrinks one side
    half = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    if yaw:
        turn = math.radians(abs(yaw))
        half[:, 0] *= math.cos(turn)
        far = (1, 2) if yaw > 0 else (0, 3)  # the side turned away is further, so shorter
        for k in far:
            half[k, 1] *= 1 - 0.35 * math.sin(turn)
    if tilt:
        side = rng.randrange(4)
        a, b = side, (side + 1) % 4
        mid = (half[a] + half[b]) / 2
        half[a] = mid + (half[a] - mid) * (1 - tilt)
        half[b] = mid + (half[b] - mid) * (1 - tilt)
    t = math.radians(angle)
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    dst = half @ rot.T + np.array([centre[0] * W, centre[1] * H])
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    M = cv2.getPerspectiveTransform(src, np.float32(dst))
    warped = cv2.warpPerspective(rgba, M, (W, H), flags=cv2.INTER_AREA if w < cw else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    base = np.asarray(photo.convert("RGB"), dtype=np.float32)
    alpha = warped[..., 3:4] / 255.0
    colour = np.clip(warped[..., :3] * shade, 0, 255)
    out = base * (1 - alpha) + colour * alpha
    x0, y0 = np.floor(dst.min(axis=0)).astype(int)
    x1, y1 = np.ceil(dst.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if occlude > 0 and x1 > x0 and y1 > y0:
        _occlude(out, base, (x0, y0, x1, y1), occlude, rng)
    photo.paste(Image.fromarray(out.round().astype(np.uint8)))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def _occlude(out: np.ndarray, base: np.ndarray, box, frac: float, rng: random.Random) -> None:
    """Cover `frac` of the box from one side with a patch of photo from elsewhere."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    H, W = base.shape[:2]
    side = rng.randrange(4)
    if side in (0, 1):  # from the left or the right
        cw = max(1, int(bw * frac))
        cx0 = x0 if side == 0 else x1 - cw
        region = (cx0, y0, cx0 + cw, y1)
    else:  # from the top or the bottom
        chh = max(1, int(bh * frac))
        cy0 = y0 if side == 2 else y1 - chh
        region = (x0, cy0, x1, cy0 + chh)
    rx0, ry0, rx1, ry1 = region
    pw, ph = rx1 - rx0, ry1 - ry0
    sx = rng.randrange(0, max(1, W - pw))
    sy = rng.randrange(0, max(1, H - ph))
    out[ry0:ry1, rx0:rx1] = base[sy:sy + ph, sx:sx + pw]


def colour_cast(photo: Image.Image, gains: tuple[float, float, float]) -> Image.Image:
    """The photo under coloured light: each channel multiplied by its gain."""
    arr = np.asarray(photo.convert("RGB"), dtype=np.float32) * np.float32(gains)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def jpeg(photo: Image.Image, quality: int) -> Image.Image:
    """The photo after one JPEG round trip at `quality`."""
    buf = io.BytesIO()
    photo.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


@functools.lru_cache(maxsize=1)
def _face_cascade() -> cv2.CascadeClassifier:
    """OpenCV's frontal face cascade, read once (reading its XML costs about 70 ms)."""
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def find_face(photo: Image.Image, min_size: int = 24) -> tuple[int, int, int, int] | None:
    """The largest frontal face (Haar cascade) at least `min_size` px, as [left, top, width, height], or None."""
    grey = cv2.cvtColor(np.asarray(photo.convert("RGB")), cv2.COLOR_RGB2GRAY)
    faces = _face_cascade().detectMultiScale(grey, 1.1, 5, minSize=(min_size, min_size))
    if len(faces) == 0:
        return None
    return tuple(int(v) for v in max(faces, key=lambda f: f[2] * f[3]))


def torso_polygon(face: tuple[int, int, int, int], size: tuple[int, int]) -> list[tuple[float, float]]:
    """Where a top is worn below a face: shoulders about 2.6 face widths wide, to 3.5 below."""
    x, y, w, h = face
    W, H = size
    cx = x + w / 2
    neck, shoulder, bottom = y + h * 1.05, y + h * 1.35, min(H, y + h * 4.5)
    return [(cx - w * 0.35, neck), (cx + w * 0.35, neck), (cx + w * 1.3, shoulder),
            (cx + w * 1.45, bottom), (cx - w * 1.45, bottom), (cx - w * 1.3, shoulder)]


GARMENTS = ("jumper", "blazer", "stripes", "checks")


def paint_uniform(photo: Image.Image, colours: tuple[str, ...] | list[str], *,
                  crest: Image.Image | None = None, face_box: tuple[int, int, int, int] | None = None,
                  seed: int = 0, crest_frac: float = 0.75, garment: str = "jumper",
                  crest_angle: float | None = None, crest_yaw: float = 0.0) -> Image.Image:
    """A copy of `photo` where the person below `face_box` wears a top in `colours`.

    colours[0] is the garment. `garment` says how colours[1:] are worn: "jumper", a V collar
    and a stripe at the hem; "blazer", stripes along both lapels and a tie; "stripes" and
    "checks", a patterned top in the colours (no trims: the pattern is all over). The
    photo's own light and folds show through; fabric noise is added. With `crest`, it is worn
    on the left chest at `crest_frac` of the face width. face_box defaults to the largest Haar face.
    """
    rng = random.Random(seed)
    img = photo.convert("RGB")
    face = face_box or find_face(img)
    if face is None:
        W, H = img.size
        face = (int(W * 0.4), int(H * 0.1), int(W * 0.2), int(W * 0.2))
    x, y, w, h = face
    mask = Image.new("L", img.size, 0)
    md = ImageDraw.Draw(mask)
    md.polygon(torso_polygon(face, img.size), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(1.5))

    base = np.asarray(img, dtype=np.float32)
    lum = cv2.GaussianBlur(base.mean(axis=2), (0, 0), max(2.0, w / 12))
    m = np.asarray(mask, dtype=np.float32) / 255.0
    lit = lum[m > 0.5].mean() if (m > 0.5).any() else lum.mean()
    shading = np.clip(0.75 + 0.35 * (lum - lit) / 80.0, 0.5, 1.2)
    noise = np.random.default_rng(seed).normal(0, 4, base.shape[:2]).astype(np.float32)
    cloth = np.empty_like(base)
    cloth[:] = np.float32(_rgb(colours[0]))
    cx, neck = x + w / 2, y + h * 1.05
    if len(colours) > 1 and garment in ("stripes", "checks"):  # a pattern all over, no trims
        period = max(4, int(w * rng.uniform(0.25, 0.45)))
        yy, xx = np.mgrid[0:base.shape[0], 0:base.shape[1]]
        band = ((yy // (period // 2)) % 2 == 0) if garment == "stripes" else (
            ((yy // (period // 2)) + (xx // (period // 2))) % 2 == 0)
        cloth[band] = np.float32(_rgb(colours[1]))
    elif len(colours) > 1:
        trims = Image.new("L", img.size, 0)
        td = ImageDraw.Draw(trims)
        lw = max(2, int(w * 0.09))
        if garment == "blazer":  # a stripe along each lapel, and a tie
            lw = max(2, int(w * 0.06))
            for side in (-1, 1):
                td.line([(cx + side * w * 0.4, neck), (cx + side * w * 0.12, neck + h * 1.3),
                         (cx + side * w * 0.05, neck + h * 1.9)], fill=255, width=lw)
            td.polygon([(cx - w * 0.07, neck + h * 0.05), (cx + w * 0.07, neck + h * 0.05),
                        (cx + w * 0.11, neck + h * 1.6), (cx, neck + h * 1.8), (cx - w * 0.11, neck + h * 1.6)],
                       fill=255)
        else:  # a V collar and a stripe at the hem in the trim colour
            td.line([(cx - w * 0.35, neck), (cx, neck + h * 0.8), (cx + w * 0.35, neck)], fill=255, width=lw)
            bottom = min(img.size[1], y + h * 4.5)
            td.line([(x - w, bottom - lw * 2), (x + w * 2, bottom - lw * 2)], fill=255, width=lw)
        t = np.asarray(trims, dtype=np.float32)[..., None] / 255.0
        cloth = cloth * (1 - t) + np.float32(_rgb(colours[1])) * t
    cloth = np.clip(cloth * shading[..., None] + noise[..., None], 0, 255)
    out = base * (1 - m[..., None]) + cloth * m[..., None]
    result = Image.fromarray(out.round().astype(np.uint8))
    if crest is not None:
        W, H = img.size
        cx = (x + w / 2 + w * 0.6) / W  # the wearer's left chest is on the viewer's right
        cy = (y + h * 1.9) / H
        composite(result, crest, width_frac=w * crest_frac / W, centre=(cx, cy),
                  angle=rng.uniform(-8, 8) if crest_angle is None else crest_angle,
                  tilt=rng.uniform(0, 0.1), seed=seed, yaw=crest_yaw)
    return result


def crest_centre(face: tuple[int, int, int, int], crest_frac: float = 0.75) -> tuple[float, float, float]:
    """Where paint_uniform wears a crest below `face`: (centre x, centre y, width) in pixels."""
    x, y, w, h = face
    return x + w / 2 + w * 0.6, y + h * 1.9, w * crest_frac


def cut_through_crest(photo: Image.Image, face: tuple[int, int, int, int], visible: float,
                      crest_frac: float = 0.75) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The photo cropped at its right so only `visible` of the worn crest's width stays in frame
    (a portrait crop cutting the chest badge), and the face box in the crop."""
    cx, _, cw = crest_centre(face, crest_frac)
    right = int(round(cx - cw / 2 + visible * cw))
    right = max(face[0] + face[2] + 1, min(photo.width, right))
    return photo.crop((0, 0, right, photo.height)), face


def template_family(n: int, base: CrestStyle | str = "north", seed: int = 0) -> list[CrestStyle]:
    """`n` crests of one layout (the shield, division, rim and scroll of `base`), each academy in its
    own colour pair, initials and emblem: how many trusts give every academy the same shield.

    Colour pairs are all different (no two share both colours, and a pair is never the reverse
    of another); every crest has its own two initials.
    """
    if isinstance(base, str):
        base = PRESETS[base]
    rng = random.Random(seed)
    pairs = [(f, c) for f in PALETTE for c in PALETTE if f != c and delta_e(f, c) > 60]
    rng.shuffle(pairs)
    letters = "ABCDEFGHJKLMNPRSTVW"
    used_initials = {base.initials}
    out, seen = [], set()
    for field, charge in pairs:
        if len(out) == n:
            break
        if frozenset((field, charge)) in seen:
            continue
        seen.add(frozenset((field, charge)))
        while True:
            initials = rng.choice(letters) + rng.choice(letters)
            if initials not in used_initials:
                used_initials.add(initials)
                break
        emblem = rng.choice([e for e in EMBLEMS if e != "none"])
        out.append(replace(base, field=field, charge=charge, accent=charge, emblem=emblem, initials=initials,
                           motto=f"{initials} ACADEMY" if base.motto else ""))
    if len(out) < n:
        raise ValueError(f"only {len(out)} distinct colour pairs in the palette, {n} asked")
    return out


def embroidered(style: CrestStyle | str, thread: str | None = None, size: int = 512, seed: int = 0) -> Image.Image:
    """The crest as a one-colour embroidered badge: its outline, division, emblem and letters
    stitched in one thread colour on cloth of the field colour, with stitch texture."""
    if isinstance(style, str):
        style = PRESETS[style]
    thread = thread or style.charge
    art = draw_crest(replace(style, charge=thread, accent=thread), size)
    rgba = np.asarray(art, dtype=np.float32)
    rgb = rgba[..., :3]
    field = np.float32(_rgb(style.field))
    thread_rgb = np.float32(_rgb(thread))
    # every pixel becomes cloth or thread, whichever it was nearer: one colour on the cloth
    is_thread = np.linalg.norm(rgb - thread_rgb, axis=2) < np.linalg.norm(rgb - field, axis=2)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    stitches = 0.88 + 0.12 * (np.sin((xx + yy) * 1.3) > 0)  # diagonal satin stitch
    out = np.where(is_thread[..., None], thread_rgb * stitches[..., None], field * 0.95)
    out = out + rng.normal(0, 4, out.shape[:2])[..., None]
    result = np.dstack([np.clip(out, 0, 255), rgba[..., 3]]).astype(np.uint8)
    return Image.fromarray(result, "RGBA").filter(ImageFilter.GaussianBlur(size / 600))


# ---------------------------------------------------------------- other drawing styles
# Crests drawn unlike draw_crest, so the matcher is measured on logos it was not shaped
# around: a round badge with ring lettering, a text-only wordmark, and a shaded, photo-like
# shield with gradients, a bevel and fabric grain.

OTHER_STYLES = ("badge", "wordmark", "shaded")


def draw_other(kind: str, seed: int, size: int = 512) -> Image.Image:
    """A crest in one of OTHER_STYLES as an RGBA image size x size, reproducible from `seed`."""
    rng = random.Random(seed)
    field, charge, accent = _three_colours(rng)
    words = rng.sample(_WORDS[:10], 2)
    name = f"{rng.choice(('OAK', 'ASH', 'ELM', 'KINGS', 'QUEENS', 'ABBEY', 'RIVER'))}{rng.choice(('WOOD', 'FIELD', 'LEA', 'MOOR', 'GATE'))}"
    n = size * _SS
    if kind == "badge":
        out = _badge(rng, n, name, words, field, charge, accent)
    elif kind == "wordmark":
        out = _wordmark(rng, n, name, words, field, charge)
    elif kind == "shaded":
        out = _shaded(rng, n, name, field, charge, accent)
    else:
        raise ValueError(f"unknown crest style {kind!r}, expected one of {OTHER_STYLES}")
    return out.resize((size, size), Image.LANCZOS)


def _serif(px: int) -> ImageFont.FreeTypeFont:
    """A serif face when the system has one (a different look from the default), else the default."""
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"):
        try:
            return ImageFont.truetype(path, max(6, px))
        except OSError:
            continue
    return _font(px)


def _badge(rng, n, name, words, field, charge, accent) -> Image.Image:
    """Concentric rings, the school's name around the top, a motto around the bottom, initials."""
    out = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(out)
    c, r = n / 2, n * 0.47
    d.ellipse((c - r, c - r, c + r, c + r), fill=_rgb(charge) + (255,))
    band = n * 0.1
    d.ellipse((c - r + n * 0.015, c - r + n * 0.015, c + r - n * 0.015, c + r - n * 0.015),
              fill=_rgb(field) + (255,))
    inner = r - band
    d.ellipse((c - inner, c - inner, c + inner, c + inner), fill=_rgb(charge) + (255,))
    d.ellipse((c - inner + n * 0.012, c - inner + n * 0.012, c + inner - n * 0.012, c + inner - n * 0.012),
              fill=_rgb(field) + (255,))
    font = _serif(int(band * 0.6))
    for text, mid, flip in ((name, -90.0, False), (" ".join(words), 90.0, True)):
        span = min(150.0, 11.0 * len(text))
        for i, ch in enumerate(text):
            deg = mid - span / 2 + span * (i + 0.5) / len(text)
            if flip:
                deg = mid + span / 2 - span * (i + 0.5) / len(text)
            tile = Image.new("L", (int(band), int(band)), 0)
            ImageDraw.Draw(tile).text((band / 2, band / 2), ch, fill=255, font=font, anchor="mm")
            tile = tile.rotate(-(deg + 90) + (180 if flip else 0), resample=Image.BICUBIC)
            rad = r - band / 2 - n * 0.005
            x = c + rad * math.cos(math.radians(deg)) - band / 2
            y = c + rad * math.sin(math.radians(deg)) - band / 2
            out.paste(Image.new("RGBA", tile.size, _rgb(accent) + (255,)), (int(x), int(y)), tile)
    for deg in (0.0, 180.0):  # stars between the two texts
        x, y = c + (r - band / 2) * math.cos(math.radians(deg)), c + (r - band / 2) * math.sin(math.radians(deg))
        _emblem(d, "star", x, y, band * 0.3, _rgb(accent), _rgb(field))
    _emblem(d, rng.choice(("tower", "tree", "crown", "key", "torch", "book")), c, c - inner * 0.25,
            inner * 0.4, _rgb(accent), _rgb(field))
    d.text((c, c + inner * 0.45), name[:1] + rng.choice("ABCDEHKLMNPRSTW"), fill=_rgb(charge),
           font=_serif(int(inner * 0.35)), anchor="mm")
    return out


def _wordmark(rng, n, name, words, field, charge) -> Image.Image:
    """Text only: the school's name in two lines on a rounded plate, a rule between them."""
    out = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(out)
    top, bottom = n * 0.22, n * 0.78
    d.rounded_rectangle((n * 0.03, top, n * 0.97, bottom), radius=n * 0.06, fill=_rgb(field) + (255,))
    px = int(n * 0.16)
    while px > 8 and d.textlength(name, font=_serif(px)) > n * 0.86:  # the name fits the plate
        px -= 4
    d.text((n / 2, n * 0.40), name, fill=_rgb(charge), font=_serif(px), anchor="mm")
    d.line((n * 0.15, n * 0.52, n * 0.85, n * 0.52), fill=_rgb(charge), width=max(2, n // 90))
    d.text((n / 2, n * 0.64), rng.choice(("ACADEMY", "SCHOOL", "HIGH SCHOOL", "COLLEGE")),
           fill=_rgb(charge), font=_font(int(n * 0.09)), anchor="mm")
    return out


def _shaded(rng, n, name, field, charge, accent) -> Image.Image:
    """A shield lit from the top left: gradients, a bevelled rim, grain; like a photographed badge."""
    shape = rng.choice(("heater", "swiss", "square"))
    mask = Image.new("L", (n, n), 0)
    ImageDraw.Draw(mask).polygon(_outline(shape, n), fill=255)
    art = Image.new("RGB", (n, n), _rgb(field))
    d = ImageDraw.Draw(art)
    _division(d, rng.choice(("pale", "fess", "bend", "chief", "quarterly")), n, _rgb(charge))
    _emblem(d, rng.choice(("star", "crown", "tower", "cross", "tree")), n * 0.5, n * 0.45, n * 0.2,
            _rgb(accent), _rgb(field))
    d.text((n / 2, n * 0.75), name[:3], fill=_rgb(accent), font=_serif(int(n * 0.09)), anchor="mm",
           stroke_width=max(1, n // 250), stroke_fill=_rgb(field))
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    light = 1.25 - 0.55 * np.hypot(xx - 0.3, yy - 0.25)  # a soft spot light
    arr = np.asarray(art, dtype=np.float32) * light[..., None]
    edge = cv2.distanceTransform(np.asarray(mask), cv2.DIST_L2, 5)
    bevel = np.clip(edge / (n * 0.035), 0, 1)
    gx = cv2.Sobel(edge, cv2.CV_32F, 1, 0) + cv2.Sobel(edge, cv2.CV_32F, 0, 1)
    arr *= (0.75 + 0.25 * bevel)[..., None]
    arr += (np.clip(gx, -1, 1) * 25 * (1 - bevel))[..., None]
    arr += np.random.default_rng(rng.randrange(1 << 30)).normal(0, 5, arr.shape[:2])[..., None]
    art = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(n / 700))
    out = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    out.paste(art, (0, 0), mask)
    return out

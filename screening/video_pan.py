"""How far the camera moved between what a change gate screened and a new frame (video_gate.py):
a pan measured by phase correlation of the small copies' lightness, over the whole frame and in
tiles, and the reference, its known map and its pending cells moved with it."""

from __future__ import annotations

import numpy as np

# A pan is looked for on every frame (a pan left uncorrected while parts of the frame are looked
# at again makes a patchwork of the reference) and kept when phase correlation is at least this
# sure of it and it leaves fewer changed cells than no pan.
PAN_RESPONSE = 0.3
# A pan is measured to a fraction of a small-copy pixel (a slow pan moves a frame 2 px between two
# looks: half a pixel of the small copy); under this (small-copy pixels) it is no pan.
MIN_PAN = 0.1
# The pan is measured over the whole small copy and in this many tiles (columns, rows) of it, kept
# where more than half of the tiles sure of a shift agree to half a pixel.
PAN_TILES = (4, 3)


def lightness(planes: np.ndarray) -> np.ndarray:
    return planes.sum(axis=0, dtype=np.float32) / 3.0


def shifted(ref: np.ndarray, known: np.ndarray | None, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference moved by (dx, dy) whole pixels, and where it now holds something."""
    _, h, w = ref.shape
    to = np.s_[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    src = np.s_[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    moved = np.zeros_like(ref)
    moved[(slice(None), *to)] = ref[(slice(None), *src)]
    was = np.ones((h, w), bool) if known is None else known
    now = np.zeros((h, w), bool)
    now[to] = was[src]
    return moved, now


_WINDOWS: dict = {}


def measure_pan(ref: np.ndarray, known: np.ndarray | None, planes: np.ndarray) -> list[tuple[float, float]]:
    """The camera's shift (pixels of the small copy, to a fraction of one) from the reference to
    the frame, as measured by phase correlation of their lightness: over the whole frame, and
    where most of PAN_TILES tiles agree (whatever moves on its own, or stands still while the
    scene pans, a head, sways only the tiles it covers); none when neither is sure."""
    import cv2

    h, w = planes.shape[1:]
    if h < 8 or w < 8:
        return []
    ref_lightness = lightness(ref)
    if known is not None:
        ref_lightness[~known] = ref_lightness[known].mean() if known.any() else 0.0
    frame_lightness = lightness(planes)
    cols, rows = PAN_TILES
    tw, th = w // cols, h // rows
    grid = [(0, 0, w, h)] + ([(x, y, tw, th) for y in range(0, rows * th, th) for x in range(0, cols * tw, tw)]
                             if tw >= 16 and th >= 16 else [])
    shifts = []
    for x, y, cw, ch in grid:
        window = _WINDOWS.get((cw, ch))
        if window is None:
            window = _WINDOWS[(cw, ch)] = cv2.createHanningWindow((cw, ch), cv2.CV_32F)
        (fx, fy), response = cv2.phaseCorrelate(ref_lightness[y:y + ch, x:x + cw],
                                                frame_lightness[y:y + ch, x:x + cw], window)
        shifts.append((fx, fy) if response >= PAN_RESPONSE and abs(fx) < cw // 2 and abs(fy) < ch // 2 else None)
    out = [shifts[0]] if shifts[0] is not None else []
    tiles = [t for t in shifts[1:] if t is not None]
    if len(tiles) >= 2:
        fx, fy = float(np.median([t[0] for t in tiles])), float(np.median([t[1] for t in tiles]))
        if 2 * sum(abs(tx - fx) <= 0.5 and abs(ty - fy) <= 0.5 for tx, ty in tiles) > len(tiles):
            out.append((fx, fy))
    return [(float(fx), float(fy)) for fx, fy in out if max(abs(fx), abs(fy)) >= MIN_PAN]


def edge_unknown(known: np.ndarray | None, phase: tuple[int, int], shape) -> np.ndarray | None:
    """`known` without the small copy's last column (row) when the grid is moved across (down)
    the frame: the frame's copy holds pixels filled from its edge there."""
    if phase == (0, 0):
        return known
    out = np.ones(shape, bool) if known is None else known.copy()
    if phase[0]:
        out[:, -1] = False
    if phase[1]:
        out[-1, :] = False
    return out


def edge_changed(changed: np.ndarray, phase: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """The changed cells, with the frame's strip the moved grid leaves out (its first columns
    or rows) counted as changed: the cells along that edge."""
    if phase == (0, 0):
        return changed
    changed = changed.copy()
    if phase[0]:
        changed[:, 0] = True
    if phase[1]:
        changed[0, :] = True
    return changed


def shifted_cells(pending: np.ndarray | None, cells: tuple[int, int]) -> np.ndarray | None:
    """The pending cells moved by whole cells."""
    if pending is None or cells == (0, 0):
        return pending
    dx, dy = cells
    h, w = pending.shape
    moved = np.zeros_like(pending)
    moved[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = pending[max(0, -dy):h - max(0, dy),
                                                                          max(0, -dx):w - max(0, dx)]
    return moved

"""The tuning sections of screening.toml ([faces], [logos], [uniforms], [location], [text], [scan],
[video]): each key's default and its safe range, in one place (docs/tuning.md). config.py reads
the file into these; a value outside its range is refused there, naming file, section and key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


def _ranged(default: float, lo: float, hi: float, also: tuple = ()):
    """A tuning value and its safe range (docs/tuning.md): outside it, a check is weakened or off.
    `also`: values outside the range that mean something else (0: full size)."""
    return field(default=default, metadata={"range": (lo, hi), "also": also})


def _only(*allowed: bool):
    """A switch whose other setting would turn a check off: only these values are accepted."""
    return field(default=allowed[0], metadata={"allowed": allowed})


def limits(cls: type) -> dict[str, tuple]:
    """Each tuning key of a settings class and its safe range (lo, hi) or allowed values."""
    return {f.name: f.metadata.get("range") or f.metadata["allowed"] for f in dataclasses.fields(cls)}


UNIFORM_PATTERNS = ("trims", "striped")

# An academy alias must say which school: at least this many letters or digits, not a number
# alone, not kind-of-school words alone ("Academy", "The Primary School"). An alias "A" or "12"
# would flag every photo with that letter or number in it, and "Academy" every school's sign.
ALIAS_MIN_CHARACTERS = 2
# Words that do not say which school (kept equal to vision/name_forms.GENERIC by a test).
ALIAS_KIND_WORDS = frozenset({
    "academy", "primary", "secondary", "school", "high", "college", "junior", "infant", "infants", "nursery",
    "church", "of", "england", "ce", "c", "e", "rc", "the", "trust", "catholic", "voluntary", "aided",
    "community", "free", "upper", "lower", "middle", "sixth", "form", "st", "saint", "and", "roman", "cofe",
    "ciw", "in"})


@dataclass(frozen=True)
class FaceSettings:
    """[faces]: measured defaults, see docs/faces.md."""

    # A face matches a person only within this dlib distance (docs/faces.md: no false match
    # up to 0.55 on adults; children's faces are closer together, so a safety gap below)...
    tolerance: float = _ranged(0.45, 0.30, 0.55)
    # ...and only when the runner-up person is at least this much further away.
    margin: float = _ranged(0.06, 0.02, 0.30)
    # A face whose nearest person is above `tolerance` but within this dlib distance is that
    # person only if the second recogniser (SFace, docs/faces.md) also names them, within
    # second_tolerance and second_margin ahead of its runner-up. At `tolerance` the band is off;
    # config.py also refuses a value below `tolerance`.
    second_opinion_within: float = _ranged(0.60, 0.30, 0.60)
    # SFace's distance (0..2) within which it confirms a face: the closest two different people
    # measured are 1.096 apart (docs/faces.md), OpenCV's own threshold 1.128 is too loose.
    second_tolerance: float = _ranged(1.00, 0.80, 1.05)
    # ...and its runner-up person must be at least this much further.
    second_margin: float = _ranged(0.05, 0.02, 0.30)
    # Faces narrower than this (pixels, upright full resolution) cannot be identified.
    min_face_px: int = _ranged(24, 12, 200)
    # Every face at least this wide (pixels of the original photo) is searched for, whatever the
    # photo's size or shape: large photos are searched in overlapping tiles (docs/faces.md).
    # Below 24 the detector's own smallest face is the limit; above 80 small faces go unsearched.
    min_face_search: int = _ranged(40, 24, 80)
    # Photos up to this long side (pixels) are searched at full resolution, so faces smaller
    # than min_face_search are found in them too; larger ones are scaled down to this, but never
    # so far that a min_face_search face would shrink below what the detector finds reliably.
    detail_side: int = _ranged(1600, 640, 10000)
    # Least CenterFace confidence for a face; one under 0.6 must be found again on an enlarged
    # crop (docs/faces.md: the selfie's face cut by the edge scores 0.43, false faces 0.3-0.45).
    detect_threshold: float = _ranged(0.4, 0.1, 0.4)  # above: the edge face (0.43) is dropped (RT20-18)
    # Also look for people's bodies (OpenCV's HOG people detector): a body on which no face was
    # found is a `person` whose face cannot be seen, when its detector score is at least
    # person_min_score (docs/faces.md: false `person` flags on the clean photos).
    people: bool = _only(True)
    person_min_score: float = _ranged(1.5, 0.0, 2.0)


@dataclass(frozen=True)
class LogoSettings:
    """[logos]"""

    # Minimum detector score for a logo finding to count: the appearance agreement (0..1) of a
    # geometrically placed reference with the photo (less a penalty when no keypoints matched).
    # Chosen on bench/bench_logos.py with its decoys and untouched photos in view: none reaches it.
    min_score: float = _ranged(0.62, 0.30, 0.80)
    # Longest side (pixels) of the working image the logo search runs on.
    max_side: int = _ranged(1400, 600, 6000)
    # Small photos and regions (a chest) are enlarged at most this much before searching.
    max_zoom: float = _ranged(2.0, 1.0, 4.0)


@dataclass(frozen=True)
class UniformSettings:
    """[uniforms]"""

    # Flag a torso in an academy's colours even when no crest is visible on it.
    flag_colours_without_crest: bool = _only(False, True)
    # Minimum score (0..1) of a colour match for a uniform finding to count.
    min_score: float = _ranged(0.5, 0.2, 0.9)
    # A torso in an academy's main colour (min_score) whose trims are worn as the academy's
    # uniform wears them (this trim score, 0..1) is that uniform, crest or not. Measured in
    # bench/bench_logos.py on blazers and on ordinary and patterned tops (docs/academies.md).
    min_trim_score: float = _ranged(0.5, 0.3, 0.9)


@dataclass(frozen=True)
class LocationSettings:
    """[location]"""

    # Name the nearest academy site in the reason when the photo was taken within this distance.
    nearest_site_within_m: float = _ranged(2000.0, 0.0, 100_000.0)


@dataclass(frozen=True)
class TextSettings:
    """[text]: names read in the picture (docs/text.md has the measurements)."""

    # A name counts as found when the text read holds it with at least this similarity: the lower
    # of the whole name's and its weakest identifying word's (1 - edits / letters; OCR's usual
    # confusions such as 0/O or rn/m cost a fifth of an edit). bench/bench_text.py measures it.
    min_similarity: float = _ranged(0.85, 0.7, 0.95)
    # The smallest capital letters (pixels, full resolution) that must be read: detection works on
    # a copy where they are 6 px high, so this sets the cost (12 MP is searched at 1200 px for 20).
    min_letter_px: int = _ranged(20, 8, 40)
    # A line read with less confidence than this is unreadable text...
    min_read_score: float = _ranged(0.5, 0.0, 1.0)
    # ...and needs permission when its line is at least this high (pixels; about twice the height
    # of its capitals), because a person could read what the OCR could not. 0 never flags it.
    unreadable_min_px: int = _ranged(0, 0, 10000)
    # Detection tiles: a working copy longer than this is cut into overlapping tiles.
    tile_side: int = _ranged(1600, 640, 4096)


@dataclass(frozen=True)
class ScanSettings:
    """[scan]"""

    # Seconds one image may take before it is recorded as an error.
    timeout_s: float = _ranged(300.0, 0.1, 3600.0)
    # Worker processes; 0 means one per core.
    workers: int = _ranged(0, 0, 256)
    # Frames screened in a multi-frame file; a file with more is an error, never cleared.
    max_frames: int = _ranged(64, 1, 1000)


@dataclass(frozen=True)
class VideoSettings:
    """[video]: how clips are sampled and how long they may take (docs/video.md)."""

    # A frame is screened at least this often (seconds): anything on screen for this long plus
    # one frame is in a screened frame. Above 0.5 a face shown for half a second could be missed.
    sample_every_s: float = _ranged(0.25, 0.01, 0.5)
    # A frame whose grey thumbnail differs this much (mean absolute change, 0..1) from the last
    # screened frame is a scene change and is screened too; keyframes are screened as well.
    scene_change: float = _ranged(0.12, 0.01, 1.0)
    # ...but not closer than this (seconds) to the previous screened frame.
    min_gap_s: float = _ranged(0.04, 0.0, 0.5)
    # Faces are looked for in every screened frame; the other checks (logos, uniforms...) in
    # screened frames at least this often (and at every scene change): still within 0.5 s.
    other_checks_every_s: float = _ranged(0.5, 0.01, 0.5)
    # Logos, uniforms, text and the people detector see screened frames shrunk to this longest
    # side (boxes are reported in full-size pixels; 0: full size). The face check searches
    # full-size frames at the scale [faces] min_face_search needs (video_passes.py).
    max_side: int = _ranged(1280, 1280, 100_000, also=(0,))  # smaller blinds the checks (RT20-10); 0: full size
    # Each check looks again only where a sampled frame changed since it last looked there: a
    # 16 px cell whose mean grey change (0..1) is over this (after undoing a camera pan).
    # 0: every check on every whole frame it is due on (slow). docs/video.md.
    change_threshold: float = _ranged(0.03, 0.0, 0.1)  # above: a light sign on a light wall (RT20-17)
    # Longer clips are an error, not screened: a bound on the work one file may cause.
    max_duration_s: float = _ranged(1200.0, 1.0, 86400.0)
    # Seconds of screening time allowed per second of clip, on top of [scan] timeout_s.
    seconds_per_clip_second: float = _ranged(10.0, 0.1, 1000.0)

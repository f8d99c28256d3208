"""screening.toml -> a frozen Config, with errors that name the file, the key and the problem."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "screening.toml"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(Exception):
    """The config is missing or invalid; the message names the file and the key."""


def _ranged(default: float, lo: float, hi: float):
    """A tuning value and its safe range (docs/tuning.md): outside it, a check is weakened or off."""
    return field(default=default, metadata={"range": (lo, hi)})


def _only(*allowed: bool):
    """A switch whose other setting would turn a check off: only these values are accepted."""
    return field(default=allowed[0], metadata={"allowed": allowed})


def limits(cls: type) -> dict[str, tuple]:
    """Each tuning key of a settings class and its safe range (lo, hi) or allowed values."""
    return {f.name: f.metadata.get("range") or f.metadata["allowed"] for f in dataclasses.fields(cls)}


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    radius_m: float = 400.0


@dataclass(frozen=True)
class Academy:
    id: str
    name: str
    logos: Path | None = None
    uniform_colours: tuple[str, ...] = ()
    sites: tuple[Site, ...] = ()
    # How the trim colours are worn: "trims" (lapel stripes, tie, V collar, piping) or "striped".
    uniform_pattern: str = "trims"
    aliases: tuple[str, ...] = ()  # other names it is known by: short forms, former names, kit


UNIFORM_PATTERNS = ("trims", "striped")


@dataclass(frozen=True)
class FaceSettings:
    """[faces]: measured defaults, see docs/faces.md."""

    # A face matches a person only within this dlib distance (docs/faces.md: no false match
    # up to 0.55 on adults; children's faces are closer together, so a safety gap below)...
    tolerance: float = _ranged(0.45, 0.30, 0.55)
    # ...and only when the runner-up person is at least this much further away.
    margin: float = _ranged(0.06, 0.02, 0.30)
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
    detect_threshold: float = _ranged(0.4, 0.1, 0.6)
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
    # full-size frames at this long side or finer, as fine as [faces] min_face_search needs.
    max_side: int = _ranged(1280, 0, 100_000)
    # Each check looks again only where a sampled frame changed since it last looked there: a
    # 16 px cell whose mean grey change (0..1) is over this (after undoing a camera pan).
    # 0: every check on every whole frame it is due on (slow). docs/video.md.
    change_threshold: float = _ranged(0.03, 0.0, 0.5)
    # Longer clips are an error, not screened: a bound on the work one file may cause.
    max_duration_s: float = _ranged(1200.0, 1.0, 86400.0)
    # Seconds of screening time allowed per second of clip, on top of [scan] timeout_s.
    seconds_per_clip_second: float = _ranged(10.0, 0.1, 1000.0)


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path
    trust: str
    channels: tuple[str, ...]
    default_channel: str
    register: Path
    photos: Path
    academies: tuple[Academy, ...]
    encodings: Path  # SQLite store of face encodings
    state: Path  # SQLite store of results, audit trail, watch state
    faces: FaceSettings = field(default_factory=FaceSettings)
    logos: LogoSettings = field(default_factory=LogoSettings)
    uniforms: UniformSettings = field(default_factory=UniformSettings)
    location: LocationSettings = field(default_factory=LocationSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    text: TextSettings = field(default_factory=TextSettings)
    video: VideoSettings = field(default_factory=VideoSettings)

    def academy(self, academy_id: str) -> Academy | None:
        return next((a for a in self.academies if a.id == academy_id), None)

    def fingerprint(self) -> str:
        """A stable digest of everything that can change a verdict (config file, logos)."""
        import hashlib

        h = hashlib.sha256(self.path.read_bytes())
        for academy in self.academies:
            if academy.logos and academy.logos.is_dir():
                for p in sorted(academy.logos.rglob("*")):
                    if p.is_file():
                        h.update(p.name.encode())
                        h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()[:16]


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate screening.toml; raise ConfigError naming the file and the key."""
    cfg_path = Path(path or DEFAULT_CONFIG)
    if cfg_path.is_dir():
        inside = cfg_path / DEFAULT_CONFIG
        raise ConfigError(f"{cfg_path}: is a folder, not a config file"
                          + (f" (did you mean --config {inside}?)" if inside.is_file() else
                             f" (it holds no {DEFAULT_CONFIG})"))
    if not cfg_path.is_file():
        raise ConfigError(
            f"{cfg_path}: config file not found (pass --config FILE, or run from the folder "
            f"that holds {DEFAULT_CONFIG})"
        )
    try:
        raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from exc
    return _parse(raw, cfg_path.resolve())


def _parse(raw: dict[str, Any], path: Path) -> Config:
    root = path.parent
    where = str(path)

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: `{key}` {problem}")

    known = {"trust", "channels", "default_channel", "consent", "academy", "faces", "logos",
             "uniforms", "location", "scan", "store", "text", "video"}
    for key in raw:
        if key not in known:
            raise fail(key, f"is not a known key (expected one of {', '.join(sorted(known))})")

    trust = _req_str(raw, "trust", fail)
    channels, default_channel = _channels(raw, fail)

    consent = raw.get("consent")
    if not isinstance(consent, dict):
        raise fail("consent", "is missing: expected a [consent] table with `register` and `photos`")
    register = _path(root, _req_str(consent, "register", fail, "consent.register"))
    photos = _path(root, _req_str(consent, "photos", fail, "consent.photos"))

    academies = _academies(raw, root, fail)

    store = raw.get("store", {})
    if not isinstance(store, dict):
        raise fail("store", "must be a table")
    encodings = _path(root, store.get("encodings", "consents/.encodings.sqlite"))
    state = _path(root, store.get("state", ".screening/state.sqlite"))

    return Config(
        path=path,
        root=root,
        trust=trust,
        channels=tuple(channels),
        default_channel=default_channel,
        register=register,
        photos=photos,
        academies=tuple(academies),
        encodings=encodings,
        state=state,
        faces=_section(raw, "faces", FaceSettings, fail),
        logos=_section(raw, "logos", LogoSettings, fail),
        uniforms=_section(raw, "uniforms", UniformSettings, fail),
        location=_section(raw, "location", LocationSettings, fail),
        scan=_section(raw, "scan", ScanSettings, fail),
        text=_section(raw, "text", TextSettings, fail),
        video=_section(raw, "video", VideoSettings, fail),
    )


def _channels(raw: dict[str, Any], fail) -> tuple[list[str], str]:
    """The channel names and the default one."""
    channels = raw.get("channels", ["website", "social_media", "print"])
    if not isinstance(channels, list) or not channels or not all(
        isinstance(c, str) and _ID.match(c) for c in channels
    ):
        raise fail("channels", f"is {channels!r}, expected a list of channel names")
    if len(set(channels)) != len(channels):
        raise fail("channels", "lists a channel twice")
    default_channel = raw.get("default_channel", channels[0])
    if default_channel not in channels:
        raise fail("default_channel", f"is {default_channel!r}, expected one of {channels}")
    return channels, default_channel


def _academies(raw: dict[str, Any], root: Path, fail) -> list[Academy]:
    """Every [[academy]] table, each id used once."""
    academies_raw = raw.get("academy", [])
    if not isinstance(academies_raw, list):
        raise fail("academy", "must be written as [[academy]] tables")
    academies = []
    seen: set[str] = set()
    for i, a in enumerate(academies_raw, start=1):
        academies.append(_academy(a, i, root, fail))
        if academies[-1].id in seen:
            raise fail(f"academy[{i}].id", f"{academies[-1].id!r} is used by two academies")
        seen.add(academies[-1].id)
    return academies


def _academy(a: Any, i: int, root: Path, fail) -> Academy:
    key = f"academy[{i}]"
    if not isinstance(a, dict):
        raise fail(key, "must be a table")
    allowed = {"id", "name", "logos", "uniform_colours", "uniform_pattern", "sites", "aliases"}
    for k in a:
        if k not in allowed:
            raise fail(f"{key}.{k}", f"is not a known key (expected {', '.join(sorted(allowed))})")
    academy_id = _req_str(a, "id", fail, f"{key}.id")
    if not _ID.match(academy_id):
        raise fail(f"{key}.id", f"is {academy_id!r}: use letters, digits, '-', '_' or '.'")
    name = a.get("name", academy_id)
    if not isinstance(name, str):
        raise fail(f"{key}.name", f"is {name!r}, expected text")
    logos = None
    if "logos" in a:
        logos = _path(root, _req_str(a, "logos", fail, f"{key}.logos"))
        if not logos.is_dir():
            raise fail(f"{key}.logos", f"is {a['logos']!r}: no such folder ({logos})")
    colours = a.get("uniform_colours", [])
    if not isinstance(colours, list):
        raise fail(f"{key}.uniform_colours", f"is {colours!r}, expected a list like ['#1b2a4a']")
    for c in colours:
        if not isinstance(c, str) or not _COLOUR.match(c):
            raise fail(f"{key}.uniform_colours", f"has {c!r}, expected a colour written #RRGGBB")
    pattern = a.get("uniform_pattern", "trims")
    if pattern not in UNIFORM_PATTERNS:
        raise fail(f"{key}.uniform_pattern", f"is {pattern!r}, expected one of {', '.join(UNIFORM_PATTERNS)}")
    sites = []
    for j, s in enumerate(a.get("sites", []), start=1):
        skey = f"{key}.sites[{j}]"
        if not isinstance(s, dict):
            raise fail(skey, "must be a table like { lat = 53.8, lon = -1.5, radius_m = 400 }")
        try:
            lat, lon = float(s["lat"]), float(s["lon"])
            radius = float(s.get("radius_m", 400.0))
        except KeyError as exc:
            raise fail(f"{skey}.{exc.args[0]}", "is missing") from exc
        except (TypeError, ValueError) as exc:
            raise fail(skey, f"has a value that is not a number: {s!r}") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or radius <= 0:
            raise fail(skey, f"is out of range: {s!r}")
        sites.append(Site(lat, lon, radius))
    aliases = a.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(x, str) and x.strip() for x in aliases):
        raise fail(f"{key}.aliases", f"is {aliases!r}, expected a list of names like ['St Aidans', 'Northfield']")
    if not all(any(c.isalnum() for c in x) for x in aliases):
        raise fail(f"{key}.aliases", f"is {aliases!r}: every alias needs a letter or digit")
    return Academy(academy_id, name, logos, tuple(c.lower() for c in colours), tuple(sites), pattern,
                   tuple(x.strip() for x in aliases))


def _section(raw: dict[str, Any], name: str, cls: type, fail):
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise fail(name, f"must be a [{name}] table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise fail(f"{name}.{key}", f"is not a known key (expected {', '.join(fields)})")
        default = fields[key].default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and isinstance(default, int) and not isinstance(default, bool):
                ok = float(value).is_integer()
                value = int(value) if ok else value
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise fail(f"{name}.{key}", f"is {value!r}, expected {type(default).__name__} "
                                        f"like {default!r}")
        _check_range(fields[key], value, lambda problem, k=key: fail(f"{name}.{k}", problem))
        values[key] = value
    return cls(**values)


def _check_range(spec: dataclasses.Field, value, fail) -> None:
    if "allowed" in spec.metadata and value not in spec.metadata["allowed"]:
        allowed = " or ".join(repr(v).lower() for v in spec.metadata["allowed"])
        raise fail(f"is {value!r}: only {allowed} is accepted (any other value turns a check off; docs/tuning.md)")
    lo, hi = spec.metadata.get("range", (None, None))
    if lo is not None and not lo <= value <= hi:
        raise fail(f"is {value!r}, outside its safe range {lo:g} to {hi:g} (docs/tuning.md)")


def _req_str(table: dict[str, Any], key: str, fail, label: str | None = None) -> str:
    value = table.get(key)
    if value is None:
        raise fail(label or key, "is missing")
    if not isinstance(value, str) or not value.strip():
        raise fail(label or key, f"is {value!r}, expected non-empty text")
    return value


def _path(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p

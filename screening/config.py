"""screening.toml -> a frozen Config, with errors that name the file, the key and the problem."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.settings import (  # noqa: F401  (re-exported: callers import them from config)
    ALIAS_KIND_WORDS, ALIAS_MIN_CHARACTERS, UNIFORM_PATTERNS, FaceSettings, LocationSettings, LogoSettings, ScanSettings, TextSettings, UniformSettings,
    VideoSettings, limits)

DEFAULT_CONFIG = "screening.toml"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(Exception):
    """The config is missing or invalid; the message names the file and the key."""


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
        faces=_faces(raw, fail),
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
    for alias in aliases:
        if why := _meaningless_alias(alias):
            raise fail(f"{key}.aliases", f"has {alias!r} (academy {academy_id!r}): {why}, so it would be read "
                       "in photos of anything; use a name that says which school, like 'St Aidans' or 'TNA'")
    return Academy(academy_id, name, logos, tuple(c.lower() for c in colours), tuple(sites), pattern,
                   tuple(x.strip() for x in aliases))


def _meaningless_alias(alias: str) -> str:
    """Why an alias cannot name one school (too short, a number, kind words alone), or ''."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", alias).casefold()
    words = ["".join(c for c in w if c.isalnum()) for w in re.split(r"[^\w']+", folded)]
    words = [w for w in words if w]
    chars = "".join(words)
    if len(chars) < ALIAS_MIN_CHARACTERS:
        return f"it has fewer than {ALIAS_MIN_CHARACTERS} letters or digits"
    if chars.isdigit():
        return "it is a number alone"
    if all(w in ALIAS_KIND_WORDS for w in words):
        return "it is only words for a kind of school"
    return ""


def _faces(raw: dict[str, Any], fail) -> FaceSettings:
    """[faces], with the one range that depends on another key: the second opinion's band
    starts at the tolerance (below it, dlib's own matches would need SFace's consent too)."""
    faces = _section(raw, "faces", FaceSettings, fail)
    if faces.second_opinion_within < faces.tolerance:
        raise fail("faces.second_opinion_within", f"is {faces.second_opinion_within!r}, below tolerance "
                                                  f"{faces.tolerance!r}: its safe range is tolerance to 0.6 "
                                                  f"(docs/tuning.md)")
    return faces


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
    also = spec.metadata.get("also", ())
    if lo is not None and not lo <= value <= hi and value not in also:
        more = "".join(f" (or {v:g})" for v in also)
        raise fail(f"is {value!r}, outside its safe range {lo:g} to {hi:g}{more} (docs/tuning.md)")


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

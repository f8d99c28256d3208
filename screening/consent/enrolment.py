"""Enrolment: reference photos -> face encodings, kept in a private SQLite store, only with consent.

A person is enrolled only with biometric consent (Protection of Freedoms Act 2012): for anyone
else the reference photos are never listed, opened or hashed, and any encoding stored earlier
is deleted for good (secure_delete, then VACUUM) on the next sync. Each reference photo must
show exactly one face; one that does not is reported and not used. What the face engine said
about a photo is stored by content hash and model version, so a sync with nothing changed
only stats files: it decodes no photo and loads no model.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from screening import files, imaging
from screening.config import Config
from screening.consent.gallery import Gallery
from screening.consent.register import Person, Register
from screening.digest import sha256_bytes
from screening.store.encodings import EnrolmentError, Store, StoredPhoto
from screening.vision import sface


class Engine(Protocol):
    def locate(self, rgb: np.ndarray) -> list: ...
    def encode(self, rgb: np.ndarray, box) -> np.ndarray | None: ...


@dataclass(frozen=True)
class PhotoResult:
    """One reference photo, used or not, and why not in plain words."""

    person_id: str
    path: Path
    used: bool
    problem: str = ""


@dataclass(frozen=True)
class Enrolment:
    """What a sync produced: the gallery to match against and everything worth telling."""

    gallery: Gallery
    photos: tuple[PhotoResult, ...] = ()
    problems: tuple[str, ...] = ()
    encoded: int = 0  # photos the face engine looked at in this sync
    removed: int = 0  # stored rows deleted in this sync
    # people matched by dlib alone: no reference photo the second recogniser could describe
    without_second: tuple[str, ...] = ()

    def photos_of(self, person_id: str) -> list[PhotoResult]:
        return [p for p in self.photos if p.person_id == person_id]


# ---------------------------------------------------------------- the face engine, loaded lazily


def default_version() -> str:
    """The installed face engine's model version (imports it; loads no model)."""
    from screening.vision.face_engine import MODEL_VERSION

    return MODEL_VERSION


def build_engine(config: Config) -> Engine:
    """The real face engine: loading its models takes seconds, so only when a photo needs it."""
    from screening.vision.face_engine import FaceEngine

    return FaceEngine(config.faces)


class _Lazy:
    """The engine and its version, each obtained the first time something needs it."""

    def __init__(self, config: Config, engine: Engine | None, progress: Callable[[Path], None] | None):
        self.config = config
        self.progress = progress
        self._engine = engine
        self._version: str | None = getattr(engine, "version", None) if engine is not None else None
        # The second recogniser (SFace): the engine's own `second` when one is given (a fake
        # engine without one: no second opinion), else the shared SFace, loaded when first needed.
        self._second_loader = getattr(engine, "second", None) if engine is not None else sface.shared
        self._second = None
        self.second_failed = ""

    def second(self):
        """The second recogniser, or None when there is none or it cannot be loaded (then its
        descriptors are simply missing: dlib's own matching is never blocked by it)."""
        if self._second is None and self._second_loader is not None and not self.second_failed:
            try:
                self._second = self._second_loader()
            except Exception as exc:
                self.second_failed = f"the second recogniser could not be loaded: {exc}"
        return self._second

    @property
    def version(self) -> str:
        if self._version is None:
            try:
                self._version = default_version()
            except ImportError as exc:
                raise EnrolmentError(f"face matching is not installed ({exc}): nobody can be enrolled") from None
        return self._version

    def known_version(self) -> str:
        """The version if the engine is installed, else "" (an empty gallery needs no model)."""
        try:
            return self.version
        except EnrolmentError:
            return ""

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = build_engine(self.config)
            except Exception as exc:  # missing model files, broken dlib: nobody can be enrolled
                raise EnrolmentError(f"the face engine could not be loaded: {exc}") from None
        return self._engine


# ---------------------------------------------------------------- sync


def person_folder(config: Config, person_id: str) -> Path:
    return config.photos / person_id


def reference_photos(config: Config, person: Person) -> list[Path]:
    """The person's reference photos; never looked at without biometric consent."""
    if not person.biometric_consent:
        raise ValueError(f"{person.person_id} has no biometric consent: their photos are not processed")
    folder = person_folder(config, person.person_id)
    if not folder.is_dir():
        return []
    return [p for p, _ in files.inputs([folder])]  # a link out of the folder is not read


def sync(config: Config, register: Register, engine: Engine | None = None,
         progress: Callable[[Path], None] | None = None) -> Enrolment:
    """Bring the store in line with the register and reference photos; the gallery to match with.

    Rows of people not in the register, without biometric consent, or whose photo is gone or
    changed are deleted; new or changed photos are looked at by the face engine, built only
    if one needs it (`progress` is told each such photo first: a first enrolment of a whole
    school takes hours). Raises EnrolmentError when the store or the engine cannot be used.
    """
    lazy = _Lazy(config, engine, progress)
    with Store.open(config.encodings) as store:
        stored = store.rows()
        done = _Sync(config, lazy, {r.key: r for r in stored},
                     {(r.person_id, r.path, r.model): r for r in stored}, _strangers(config, register))
        for person in sorted(register.people.values(), key=lambda p: p.person_id):
            if person.biometric_consent:  # else their folder is not even listed
                done.person(person)
        encoded = sum(1 for row in done.writes if row.key not in done.by_key)
        stale = [k for k in done.by_key if k not in done.keep]
        try:
            store.save(done.writes + done.second_writes, stale)
        except sqlite3.Error as exc:
            raise EnrolmentError(f"{config.encodings}: cannot update the face encodings store: {exc}") from None
    removed = sum(1 for k in stale if k[2] != sface.VERSION)  # photos, not descriptors
    if lazy.second_failed:
        done.problems.append(f"{lazy.second_failed}; borderline faces stay unknown")
    second = _gallery(done.second_gallery, sface.VERSION)
    gallery = _gallery(done.gallery, lazy.known_version())
    return Enrolment(Gallery(gallery.person_ids, gallery.encodings, gallery.version, second),
                     tuple(done.results), tuple(done.problems), encoded, removed, tuple(done.without_second))


def _gallery(rows: list[tuple[str, np.ndarray]], version: str) -> Gallery:
    ids = tuple(pid for pid, _ in rows)
    return Gallery(ids, np.stack([e for _, e in rows]) if rows else np.zeros((0, 128)), version)


@dataclass
class _Sync:
    """What one sync has gathered so far, person by person."""

    config: Config
    lazy: _Lazy
    by_key: dict[tuple[str, str, str], StoredPhoto]  # the stored rows by (person, sha256, model)
    by_path: dict[tuple[str, str, str], StoredPhoto]  # the same by (person, relative path, model)
    problems: list[str]
    results: list[PhotoResult] = field(default_factory=list)
    keep: dict[tuple[str, str, str], Path] = field(default_factory=dict)  # key -> the photo it was kept for
    writes: list[StoredPhoto] = field(default_factory=list)
    gallery: list[tuple[str, np.ndarray]] = field(default_factory=list)
    second_writes: list[StoredPhoto] = field(default_factory=list)
    second_gallery: list[tuple[str, np.ndarray]] = field(default_factory=list)
    without_second: list[str] = field(default_factory=list)  # people with no SFace descriptor
    owners: dict[str, str] = field(default_factory=dict)  # sha256 -> first person whose folder holds it

    def person(self, person: Person) -> None:
        """Every reference photo of one person with biometric consent."""
        folder = person_folder(self.config, person.person_id)
        mine: list[PhotoResult] = []
        vectors: dict[int, np.ndarray] = {}  # index in `mine` -> encoding of a usable photo
        seconds: dict[int, np.ndarray] = {}  # the same photo's second-recogniser descriptor
        for path in reference_photos(self.config, person):
            rel = path.relative_to(folder).as_posix()
            result, row = _photo(person, path, rel, self.lazy, self.by_key, self.by_path)
            if row is not None:
                result = self._keep(person, path, row, result, vectors, len(mine))
                if len(mine) in vectors:
                    self._second(row, path, seconds, len(mine))
            mine.append(result)
        for i, why in _odd_ones_out(vectors, self.config.faces.tolerance).items():
            mine[i] = PhotoResult(person.person_id, mine[i].path, False, why)
        self.gallery.extend((person.person_id, v) for i, v in vectors.items() if mine[i].used)
        self.second_gallery.extend((person.person_id, v) for i, v in seconds.items() if mine[i].used)
        if any(r.used for r in mine) and not any(mine[i].used for i in seconds):
            self.without_second.append(person.person_id)
        self.results.extend(mine)
        self.problems.extend(f"{person.person_id} {person.name}: {r.path.name} not used: {r.problem}"
                             for r in mine if not r.used)
        if not any(r.used for r in mine):
            why = "no usable reference photo" if folder.is_dir() else "no reference photo folder"
            self.problems.append(f"{person.person_id} {person.name}: {why}; their face will be "
                                 f"reported as unknown")

    def _second(self, row: StoredPhoto, path: Path, seconds: dict[int, np.ndarray], index: int) -> None:
        """The second recogniser's descriptor of a photo dlib could use, stored like dlib's
        (person, sha256, SFace's version); made on first need, so older stores gain them."""
        key = (row.person_id, row.sha256, sface.VERSION)
        stored = self.by_key.get(key)
        if stored is None:
            vector, problem = _second_look(path, self.lazy)
            if vector is None and problem is None:
                return  # not stored: tried again at the next sync
            stored = StoredPhoto(*key, row.path, row.stat, vector, problem)
        elif (stored.path, stored.stat) != (row.path, row.stat):
            stored = StoredPhoto(*key, row.path, row.stat, stored.encoding, stored.problem)
        if key not in self.keep:
            self.keep[key] = path
            if self.by_key.get(key) != stored:
                self.second_writes.append(stored)
        if stored.encoding is not None:
            seconds[index] = np.frombuffer(stored.encoding, dtype=np.float64)

    def _keep(self, person: Person, path: Path, row: StoredPhoto, result: PhotoResult,
              vectors: dict[int, np.ndarray], index: int) -> PhotoResult:
        """Keep a looked-at photo's row (once per content); its result."""
        if row.key in self.keep:
            return PhotoResult(person.person_id, path, False, f"the same photo as {self.keep[row.key].name}")
        self.keep[row.key] = path
        if self.by_key.get(row.key) != row:  # new, moved or touched: remember where
            self.writes.append(row)
        if row.encoding is not None:
            vectors[index] = np.frombuffer(row.encoding, dtype=np.float64)
        other = self.owners.setdefault(row.sha256, person.person_id)
        if other != person.person_id:
            self.problems.append(f"{person.person_id} {person.name}: {path.name} is also a "
                                 f"reference photo of {other}; check who it shows")
        return result


def _odd_ones_out(vectors: dict[int, np.ndarray], tolerance: float) -> dict[int, str]:
    """A person's reference photos that look like someone else: further than the tolerance
    from more of their other photos than are within it. The matching tolerance, not a looser
    one: a sibling's photo 0.5 away would otherwise be enrolled and then matched within 0.45,
    while rejecting two true photos only makes the person's face need permission. A wrong photo in a folder would
    otherwise let that someone be published under this person's consent; with two photos
    that disagree, neither can be trusted."""
    odd = {}
    for i, v in vectors.items():
        others = [float(np.linalg.norm(v - w)) for j, w in vectors.items() if j != i]
        near = sum(d <= tolerance for d in others)
        if others and near < len(others) - near:
            odd[i] = (f"does not look like the same person as the other reference photo(s) (distance "
                      f"{min(others):.2f}, tolerance {tolerance:.2f}): check who it shows")
    return odd


def _photo(person: Person, path: Path, rel: str, lazy: _Lazy, by_key: dict, by_path: dict,
           ) -> tuple[PhotoResult, StoredPhoto | None]:
    """One reference photo: its result, and its store row (None when it could not be looked at)."""
    pid = person.person_id
    try:
        st = path.stat()
    except OSError as exc:
        return PhotoResult(pid, path, False, f"cannot be read: {exc.strerror or exc}"), None
    stat = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    known = by_path.get((pid, rel, lazy.version))
    data = None
    if known is not None and known.stat == stat:
        sha = known.sha256  # same size and times as when it was hashed: not read again
    else:
        try:
            data = imaging.read_file(path)
        except imaging.ImageError as exc:
            return PhotoResult(pid, path, False, str(exc)), None
        sha = sha256_bytes(data)
    key = (pid, sha, lazy.version)
    if key in by_key:
        encoding, problem = by_key[key].encoding, by_key[key].problem
    else:
        try:
            encoding, problem = _look(path, data, lazy)
        except imaging.ImageError as exc:  # not stored: a better decoder may read it next time
            return PhotoResult(pid, path, False, str(exc)), None
        except EnrolmentError:
            raise
        except Exception as exc:  # not stored either: tried again at the next sync
            return PhotoResult(pid, path, False, f"the face engine failed on it: "
                                                 f"{type(exc).__name__}: {exc}"), None
    return (PhotoResult(pid, path, encoding is not None, problem or ""),
            StoredPhoto(*key, rel, stat, encoding, problem))


def _look(path: Path, data: bytes | None, lazy: _Lazy) -> tuple[bytes | None, str | None]:
    """Decode the photo and ask for exactly one face: (encoding bytes, None) or (None, why not)."""
    picture = imaging.load(path, data)
    if lazy.progress is not None:
        lazy.progress(path)
    rgb = picture.frames[0]
    faces = lazy.engine.locate(rgb)
    if not faces:
        return None, "no face found, a reference photo must show exactly one"
    if len(faces) > 1:
        where = "; ".join(f"{f.box[2]} px wide at x={f.box[0]}, y={f.box[1]}" for f in faces)
        return None, (f"{len(faces)} faces found ({where}), a reference photo must show exactly one: "
                      f"crop it to the person's face")
    encoding = lazy.engine.encode(rgb, faces[0].box)
    if encoding is None:
        return None, "the face cannot be identified (too small, blurred or turned away)"
    vector = np.asarray(encoding, dtype=np.float64).reshape(-1)
    if vector.shape != (128,) or not np.all(np.isfinite(vector)):
        raise EnrolmentError(f"{path}: the face engine returned an unusable encoding {vector.shape}")
    return vector.tobytes(), None


def _second_look(path: Path, lazy: _Lazy) -> tuple[bytes | None, str | None]:
    """The second recogniser's descriptor of a reference photo's one face: (bytes, None), (None,
    why it finds no face there), or (None, None) when it could not run (not stored)."""
    second = lazy.second()
    if second is None:
        return None, None
    try:
        rgb = imaging.load(path, imaging.read_file(path)).frames[0]
        faces = lazy.engine.locate(rgb)
        if len(faces) != 1:  # dlib's row says one face: the photo changed while being read
            return None, None
        [(vector, why)] = second.encode_many(rgb, [faces[0].box])
    except Exception:  # dlib's own matching never waits on it; tried again at the next sync
        return None, None
    if vector is None:
        return None, f"the second recogniser finds no face in it: {why}"
    return np.asarray(vector, dtype=np.float64).tobytes(), None


def _strangers(config: Config, register: Register) -> list[str]:
    """Folders and files under photos/ that belong to nobody in the register: reported, never opened."""
    if not config.photos.is_dir():
        return [f"{config.photos}: reference photos folder not found"] if any(
            p.biometric_consent for p in register.people.values()) else []
    out = []
    for entry in sorted(config.photos.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            out.append(f"{entry}: not in a person's folder; not used")
        elif entry.name not in register.people:
            out.append(f"{entry}: no register row for {entry.name!r}; its photos are not used (not opened)")
        elif not register.people[entry.name].biometric_consent:
            out.append(f"{entry}: {entry.name} has biometric_consent = no, so these photos are never "
                       f"processed; delete them if they are not needed")
    return out


def stored_photos(config: Config) -> dict[str, list[tuple[str, bool, str]]]:
    """Each person's reference photos in the store, without syncing: (path in their folder,
    usable, why not); empty when there is no store yet."""
    if not config.encodings.exists():
        return {}
    try:
        version: Any = default_version()
    except ImportError:
        version = None
    with Store.open(config.encodings, create=False) as store:
        return store.photos_by_person(version)


def without_second_opinion(config: Config, photos: dict[str, list[tuple[str, bool, str]]]) -> list[str]:
    """People with a usable reference photo (`photos`: stored_photos()) of whom the second
    recogniser has no descriptor: only dlib's own tolerance can match their faces."""
    if not photos or not config.encodings.exists():
        return []
    with Store.open(config.encodings, create=False) as store:
        second = store.photos_by_person(sface.VERSION)
    return [pid for pid, rows in sorted(photos.items())
            if any(usable for _, usable, _ in rows) and not any(usable for _, usable, _ in second.get(pid, ()))]

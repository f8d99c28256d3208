"""Measure enrolment: what a scan pays to keep the face encodings in line with the register.

    .venv/bin/python bench/bench_enrolment.py [--people 1500]

Part 1 (real face engine): the knn_examples reference photos of ../shared/data (or the
public-domain portrait when that is absent): first enrolment with the model load, an
unchanged re-sync, a re-sync after every photo's times changed (re-hashed, not re-encoded).
Part 2 (scale, a fake one-face engine so only the store and the files are measured): a
register of --people pupils with two reference photos each; unchanged re-sync, one changed
photo, biometric consent withdrawn for one pupil, and forget (secure delete + VACUUM).
One table, one run, wall-clock seconds on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.config import load_config  # noqa: E402
from screening.consent import enrolment, forgetting  # noqa: E402
from screening.consent.register import load_register  # noqa: E402

KNN = REPO.parent / "shared" / "data" / "face_recognition" / "examples" / "knn_examples" / "train"
HEADER = "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
CONFIG = ('trust = "Bench Trust"\n[consent]\nregister = "consents/register.csv"\n'
          'photos = "consents/photos"\n[[academy]]\nid = "north"\n')


@dataclass(frozen=True)
class Located:
    box: tuple[int, int, int, int]
    score: float = 1.0
    source: str = "bench"


class OneFace:
    """Every photo shows one face; its encoding is derived from the pixels (costs ~nothing)."""

    version = "bench-fake"

    def locate(self, rgb):
        return [Located((0, 0, rgb.shape[1], rgb.shape[0]))]

    def encode(self, rgb, box):
        seed = int.from_bytes(hashlib.sha256(rgb.tobytes()).digest()[:8], "little")
        return np.random.default_rng(seed).normal(0, 0.01, 128)  # a person's photos agree


def make_trust(root: Path, rows: list[str]) -> None:
    (root / "consents" / "photos").mkdir(parents=True, exist_ok=True)
    (root / "screening.toml").write_text(CONFIG)
    (root / "consents" / "register.csv").write_text(HEADER + "".join(rows))


def load(root: Path):
    config = load_config(root / "screening.toml")
    return config, load_register(config.register, config.channels, ("north",))


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def row(pid: str, biometric: str = "yes") -> str:
    return f"{pid},{pid},pupil,north,{biometric},yes,yes,yes,,\n"


def real_engine(table: list, root: Path) -> None:
    if KNN.is_dir():
        people = {d.name: sorted(d.iterdir()) for d in sorted(KNN.iterdir()) if d.is_dir()}
        source = "knn_examples/train"
    else:
        people = {"astronaut": [REPO / "samples" / "public-domain" / "astronaut.png"]}
        source = "public-domain astronaut"
    make_trust(root, [row(pid) for pid in people])
    for pid, photos in people.items():
        (root / "consents" / "photos" / pid).mkdir()
        for p in photos:
            shutil.copy(p, root / "consents" / "photos" / pid / p.name)
    n = sum(len(p) for p in people.values())
    config, register = load(root)
    engine, load_s = timed(lambda: enrolment.build_engine(config))
    table.append((f"real engine: load models ({source})", "-", load_s, "-"))
    first, s = timed(lambda: enrolment.sync(config, register, engine))
    table.append((f"real engine: first enrolment, {len(people)} people", n, s,
                  f"{first.encoded} encoded, {len(first.gallery)} usable"))
    for why in (p for p in first.problems):
        print(f"  problem: {why}")
    again, s = timed(lambda: enrolment.sync(config, register))
    table.append(("real engine: re-sync, nothing changed (no model)", n, s, f"{again.encoded} encoded"))
    for folder in (root / "consents" / "photos").iterdir():
        for p in folder.iterdir():
            os.utime(p)
    touched, s = timed(lambda: enrolment.sync(config, register))
    table.append(("real engine: re-sync, every photo's mtime changed", n, s, f"{touched.encoded} encoded"))


def scale(table: list, root: Path, people: int) -> None:
    ids = [f"P{i:05d}" for i in range(people)]
    make_trust(root, [row(pid) for pid in ids])
    rng = np.random.default_rng(1)
    for pid in ids:
        folder = root / "consents" / "photos" / pid
        folder.mkdir()
        for k in range(2):
            Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)).save(folder / f"{k}.png")
    n = 2 * people
    config, register = load(root)
    first, s = timed(lambda: enrolment.sync(config, register, OneFace()))
    table.append((f"scale: first enrolment, {people} people (fake engine)", n, s,
                  f"{first.encoded} encoded, {len(first.gallery)} usable"))
    again, s = timed(lambda: enrolment.sync(config, register, OneFace()))
    table.append(("scale: re-sync, nothing changed", n, s, f"{again.encoded} encoded"))
    Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)).save(
        root / "consents" / "photos" / ids[0] / "0.png")
    changed, s = timed(lambda: enrolment.sync(config, register, OneFace()))
    table.append(("scale: re-sync, one photo replaced", n, s,
                  f"{changed.encoded} encoded, {changed.removed} deleted"))
    (root / "consents" / "register.csv").write_text(
        HEADER + row(ids[1], "no") + "".join(row(pid) for pid in ids if pid != ids[1]))
    config, register = load(root)
    withdrawn, s = timed(lambda: enrolment.sync(config, register, OneFace()))
    table.append(("scale: re-sync, one biometric consent withdrawn", n, s,
                  f"{withdrawn.removed} deleted, store {config.encodings.stat().st_size / 1e6:.1f} MB"))
    gone, s = timed(lambda: forgetting.forget_person(config, register, ids[2]))
    table.append(("scale: consent forget (one pupil, all traces)", "-", s,
                  f"{gone.encodings} encodings, {gone.photos} photos"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    args = parser.parse_args()
    table: list = []
    with tempfile.TemporaryDirectory() as tmp:
        real_engine(table, Path(tmp) / "real")
        scale(table, Path(tmp) / "scale", args.people)
    print(f"\n{os.cpu_count()} CPU(s), shared machine; seconds are wall clock, one run\n")
    print("| step | photos | seconds | result |\n|---|---:|---:|---|")
    for step, photos, seconds, result in table:
        print(f"| {step} | {photos} | {seconds:.3f} | {result} |")


if __name__ == "__main__":
    main()

"""Runs the logo check as it was before verifycost (tests/logo_oracle.py patched in) and as it is,
on the same photos and trust, and lists every difference of findings; used by
tests/test_logo_verifycost.py and, on many bench photos, by bench/logo_verifycost_oracle.py."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib

from screening.detectors.logos import LogoDetector
from screening.vision import logo_match as lm
from screening.vision.logo_match import cast, confirm, halves, identity, index
from tests import logo_oracle as old

# the module (the package's name `verify` is the function)
verify = importlib.import_module("screening.vision.logo_match.verify")

SCORE_TOL = 1e-6


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


@contextlib.contextmanager
def before():
    """The appearance check, the naming vote and the index's bookkeeping as they were, everywhere
    they are called from (the detector, aligned, confirm, cast, the uniform halves)."""
    patches = [(verify, "verify", old.verify), (lm, "verify", old.verify), (confirm, "verify", old.verify),
               (cast, "verify", old.verify), (cast, "_chroma_corr", old._chroma_corr),
               (halves, "_chroma_corr", old._chroma_corr), (halves, "_ncc", old._ncc),
               (halves, "_parts", old._parts), (identity, "vote", old.vote), (lm, "vote", old.vote),
               (index.ReferenceIndex, "match", old.match)]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    try:
        for obj, name, value in patches:
            setattr(obj, name, value)
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


def findings(detector: LogoDetector, rgb, *, oracle: bool) -> list:
    with before() if oracle else contextlib.nullcontext():
        return detector.detect(_Picture(rgb), {})


def differences(a: list, b: list) -> list[str]:
    """What differs between two lists of LogoFindings: academy, box, `also`, detail exactly (it
    holds the inliers and the appearance to 2 places), the score to SCORE_TOL."""
    out = []
    if len(a) != len(b):
        return [f"{len(a)} findings before, {len(b)} now: {a} / {b}"]
    for f, g in zip(a, b):
        fa, ga = dataclasses.asdict(f), dataclasses.asdict(g)
        for key in fa:
            same = abs(fa[key] - ga[key]) <= SCORE_TOL if key == "score" else fa[key] == ga[key]
            if not same:
                out.append(f"{key}: {fa[key]!r} before, {ga[key]!r} now ({f.academy})")
    return out

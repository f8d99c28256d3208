"""The detectors: each reports findings with raw scores and never decides.

build_detectors() is the registry: which checks exist, what each one needs, in the order
they run (a detector may read an earlier one's findings, e.g. uniforms reads faces).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from screening import imaging
from screening.config import Config
from screening.model import Check, CheckResult


class Detector(Protocol):
    def detect(self, picture: imaging.Picture, earlier: dict[Check, CheckResult]) -> list: ...


# The register's names as the text check looks for them: (person_id, name) of every person,
# whatever their consent. Consent stays with decide().
Names = tuple[tuple[str, ...], ...]  # (person_id, name[, role])


def build_detectors(config: Config, gallery: Any, people: Names | None = None) -> dict[Check, Detector]:
    """Every available check's detector, built once per process (models load here).

    A check whose module is missing is left out; decide() then refuses to clear any image,
    because a check that does not exist is a check that did not run. So is the text check when
    the register's names (`people`: (person_id, name) pairs) were not given.
    """
    import importlib

    hook = os.environ.get(TEST_DETECTORS_ENV)
    if hook:
        return _test_factory(hook)(config, gallery)
    detectors: dict[Check, Detector] = {}
    for check, module, cls in _DETECTORS:
        try:
            detector_cls = getattr(importlib.import_module(f"screening.detectors.{module}"), cls)
        except ImportError:
            continue
        try:
            if check is Check.FACES:
                detectors[check] = detector_cls(config.faces, gallery)
            elif check is Check.UNIFORMS:
                detectors[check] = detector_cls(config, _working(detectors.get(Check.LOGOS)))
            elif check is Check.TEXT:
                if people is not None:
                    detectors[check] = detector_cls(config, people)
            else:
                detectors[check] = detector_cls(config)
        except Exception as exc:  # e.g. a logo file changed since the config was checked
            detectors[check] = _Unbuilt(f"could not start: {type(exc).__name__}: {exc}")
    return detectors


class _Unbuilt:
    """A check whose detector could not be built: every file it is asked about is an error.

    Raising in the worker's initialiser instead would kill every worker, one file at a time.
    """

    def __init__(self, why: str):
        self.why = why

    def detect(self, picture, earlier):
        raise RuntimeError(self.why)


def _working(detector):
    if isinstance(detector, _Unbuilt):
        raise RuntimeError(f"needs the logos check, which {detector.why}")
    return detector


# TEST HOOK, for end-to-end tests of whole processes (watch killed and restarted): names a
# factory of fake detectors as "tests.MODULE:FUNCTION". Only a module of the test package, and
# only a function marked `screening_test_factory = True`, is accepted, so it cannot be set off
# by accident in production (the installed package has no tests module at all).
TEST_DETECTORS_ENV = "SCREENING_TEST_DETECTORS"


def _test_factory(hook: str) -> Callable:
    import importlib

    module, _, name = hook.partition(":")
    if not module.startswith("tests.") or not name:
        raise ValueError(f"{TEST_DETECTORS_ENV}={hook!r}: only tests.MODULE:FUNCTION is accepted")
    factory = getattr(importlib.import_module(module), name)
    if getattr(factory, "screening_test_factory", False) is not True:
        raise ValueError(f"{TEST_DETECTORS_ENV}={hook!r}: not marked as a test factory")
    return factory


_DETECTORS = (
    (Check.LOCATION, "location", "LocationDetector"),
    (Check.FACES, "faces", "FaceDetector"),
    (Check.LOGOS, "logos", "LogoDetector"),
    (Check.UNIFORMS, "uniforms", "UniformDetector"),
    (Check.TEXT, "text", "TextDetector"),
)



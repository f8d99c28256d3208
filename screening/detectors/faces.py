"""Faces: every face in every frame, with its distance to each enrolled person, and every person's
body (decide() reports a body with no face as a `person`). Never decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from screening.config import FaceSettings
from screening.consent.gallery import Gallery
from screening.imaging import Picture
from screening.model import Check, CheckResult, FaceFinding, PersonFinding
from screening.vision import sface
from screening.vision.face_engine import MIRROR_NEAR, MODEL_VERSION, FaceEngine, Located
from screening.vision.face_quality import UPRIGHT_ROLL, roll_of


class FaceDetector:
    """Reports each face found: identifiable or not, and the enrolled people nearest to it."""

    def __init__(self, settings: FaceSettings, gallery: Gallery | None, engine: FaceEngine | None = None,
                 second: Callable[[], Any] | None = None):
        self.settings = settings
        self.gallery = gallery if gallery is not None else Gallery.empty(MODEL_VERSION)
        self.engine = engine if engine is not None else FaceEngine(settings)
        # the second recogniser (SFace), loaded the first time a borderline face needs it
        self.load_second = second if second is not None else sface.shared
        self._second: Any = None
        self._second_failed = ""
        self.people = None
        if settings.people:
            from screening.vision.people import PeopleFinder

            self.people = PeopleFinder()

    def detect(self, picture: Picture, earlier: dict[Check, CheckResult]) -> list[FaceFinding | PersonFinding]:
        self.check_gallery()
        findings: list[FaceFinding | PersonFinding] = []
        for frame, rgb in enumerate(picture.frames):
            findings += self.bodies_in(rgb, frame)
            upright = self.engine.locate(rgb)
            faces = self._faces(rgb, upright, frame)
            findings += faces
            if needs_turned_search(upright, faces):
                findings += self.turned_in(rgb, upright, frame)
        return findings

    # The parts of detect(), for callers that run them on their own schedule (video frames,
    # video_passes.py): bodies, upright faces, faces seen only turned.

    def check_gallery(self) -> None:
        # Distances between encodings of two different models mean nothing: refuse, never guess.
        if len(self.gallery) and self.gallery.version != MODEL_VERSION:
            raise RuntimeError(f"the enrolled encodings were made by face model {self.gallery.version!r}, "
                               f"this scan uses {MODEL_VERSION!r}: re-enrol before scanning")
        second = self.gallery.second
        if second is not None and len(second) and second.version != sface.VERSION:
            raise RuntimeError(f"the enrolled second-recogniser descriptors were made by {second.version!r}, "
                               f"this scan uses {sface.VERSION!r}: re-enrol before scanning")

    def bodies_in(self, rgb: np.ndarray, frame: int = 0) -> list[PersonFinding]:
        if self.people is None:
            return []
        return [PersonFinding(body.box, body.score, "body seen by the HOG people detector", frame)
                for body in self.people.find(rgb)]

    def faces_in(self, rgb: np.ndarray, frame: int = 0, engine: FaceEngine | None = None,
                 memo=None) -> list[FaceFinding]:
        """Upright faces, each encoded and compared with the gallery (`engine`: another
        FaceEngine to locate them with, e.g. one planned for video frames). `memo` (video): what
        faces seen just before were judged, by chip: `recall(box, chip)` gives the candidates of
        the same face's nearly identical chip, or None; `remember(box, chip, judged)`, where
        judged = (candidates, second recogniser's candidates, why those are empty)."""
        return self._faces(rgb, (engine or self.engine).locate(rgb), frame, memo)

    def turned_in(self, rgb: np.ndarray, upright: list, frame: int = 0) -> list[FaceFinding]:
        """Faces seen only with the picture turned; `upright`: what has a `box` there already."""
        return [FaceFinding(face.box, (), False, f"seen only with the picture turned {turn} degrees: "
                            "turn the photo upright and screen it again", face.score, frame)
                for face, turn in self.engine.locate_turned(rgb, upright)]

    def _faces(self, rgb: np.ndarray, located: list[Located], frame: int, memo=None) -> list[FaceFinding]:
        """Each face: identifiable or why not, with its distance to each enrolled person. The
        recogniser runs on all the faces of the picture at once (engine.encode_many); a face
        `memo` recalls (the same face's chip, nearly identical) is not encoded again. A face in the
        borderline band (in_band) is also described by the second recogniser."""
        boxes = [face.box for face in located]
        chips = self.engine.chips_of(rgb, boxes)
        recalled = [memo.recall(box, chip) if memo is not None and chip is not None else None
                    for box, (chip, _) in zip(boxes, chips)]
        todo = [i for i, r in enumerate(recalled) if r is None]
        encoded: list = [(None, why) for _, why in chips]
        fresh = self.engine.encode_many(rgb, [boxes[i] for i in todo], mirror=False, chips=[chips[i] for i in todo])
        for i, result in zip(todo, fresh):
            encoded[i] = result
        candidates = [r if r is not None else self.gallery.candidates(enc) if enc is not None else ()
                      for r, (enc, _) in zip(recalled, encoded)]
        # The mirror average (docs/faces.md) is what the references were made with; it moves a
        # distance by less than MIRROR_NEAR, so it is computed only where it could make a match.
        near = [i for i in todo if candidates[i] and candidates[i][0][1] <= self.settings.tolerance + MIRROR_NEAR]
        averaged = self.engine.mirror_averaged_many(rgb, [boxes[i] for i in near], [encoded[i][0] for i in near])
        for i, vector in zip(near, averaged):
            candidates[i] = self.gallery.candidates(vector)
        judged = [r if r is not None else (candidates[i], (), "") for i, r in enumerate(recalled)]
        band = [i for i in todo if chips[i][0] is not None and self.in_band(candidates[i])]
        for i, (second, why) in zip(band, self.second_opinions(rgb, [boxes[i] for i in band])):
            judged[i] = (candidates[i], second, why)
        if memo is not None:  # the memo keeps both recognisers' answers
            for i in todo:
                if chips[i][0] is not None:
                    memo.remember(boxes[i], chips[i][0], judged[i])
        return [FaceFinding(face.box, found, True, f"found by {face.source}", face.score, frame,
                            second_candidates=second, second_detail=second_why)
                if chip is not None else FaceFinding(face.box, (), False, why, face.score, frame)
                for face, (chip, why), (found, second, second_why) in zip(located, chips, judged)]

    def in_band(self, candidates) -> bool:
        """dlib's nearest person lies in the borderline band: only there is SFace asked."""
        return bool(candidates) and self.settings.tolerance < candidates[0][1] <= self.settings.second_opinion_within

    def second_opinions(self, rgb: np.ndarray, boxes: list) -> list[tuple[tuple, str]]:
        """SFace's candidates for each face (nearest first), or () and why not. Fails closed: a
        model that cannot be loaded or a face it cannot read gives no candidates (no match)."""
        gallery = self.gallery.second
        if not boxes:
            return []
        if gallery is None or not len(gallery):
            return [((), "no opinion (no reference photo described by it)")] * len(boxes)
        try:
            if self._second is None and not self._second_failed:
                self._second = self.load_second()
            if self._second is None:
                raise RuntimeError(self._second_failed)
        except Exception as exc:
            self._second_failed = self._second_failed or f"could not be loaded ({exc})"
            return [((), self._second_failed)] * len(boxes)
        try:
            encoded = self._second.encode_many(rgb, boxes)
        except Exception as exc:
            return [((), f"failed on the face ({type(exc).__name__}: {exc})")] * len(boxes)
        return [(gallery.candidates(vector), "") if vector is not None else ((), why or "could not read the face")
                for vector, why in encoded]


def needs_turned_search(upright: list[Located], faces: list[FaceFinding]) -> bool:
    """A photo turned a quarter or half turn (its orientation tag lost) shows no upright face that
    can be identified: the turned search runs unless at least one face found upright is both
    identifiable and level (its eyes-to-mouth line within UPRIGHT_ROLL degrees of vertical)."""
    for located, finding in zip(upright, faces):
        roll = roll_of(located.landmarks)
        if finding.identifiable and roll is not None and roll <= UPRIGHT_ROLL:
            return False
    return True

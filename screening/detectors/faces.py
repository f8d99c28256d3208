"""Faces: every face in every frame, with its distance to each enrolled person, and every person's
body (decide() reports a body with no face as a `person`). Never decides."""

from __future__ import annotations

from screening.config import FaceSettings
from screening.consent.gallery import Gallery
from screening.imaging import Picture
from screening.model import Check, CheckResult, FaceFinding, PersonFinding
from screening.vision.face_engine import MODEL_VERSION, FaceEngine


class FaceDetector:
    """Reports each face found: identifiable or not, and the enrolled people nearest to it."""

    def __init__(self, settings: FaceSettings, gallery: Gallery | None, engine: FaceEngine | None = None):
        self.settings = settings
        self.gallery = gallery if gallery is not None else Gallery.empty(MODEL_VERSION)
        self.engine = engine if engine is not None else FaceEngine(settings)
        self.people = None
        if settings.people:
            from screening.vision.people import PeopleFinder

            self.people = PeopleFinder()

    def detect(self, picture: Picture, earlier: dict[Check, CheckResult]) -> list[FaceFinding | PersonFinding]:
        # Distances between encodings of two different models mean nothing: refuse, never guess.
        if len(self.gallery) and self.gallery.version != MODEL_VERSION:
            raise RuntimeError(f"the enrolled encodings were made by face model {self.gallery.version!r}, "
                               f"this scan uses {MODEL_VERSION!r}: re-enrol before scanning")
        findings: list[FaceFinding | PersonFinding] = []
        for frame, rgb in enumerate(picture.frames):
            if self.people is not None:
                findings += [PersonFinding(body.box, body.score, "body seen by the HOG people detector", frame)
                             for body in self.people.find(rgb)]
            for face in self.engine.locate(rgb):
                encoding, why = self.engine.encode_with_reason(rgb, face.box)
                if encoding is None:
                    findings.append(FaceFinding(face.box, (), False, why, face.score, frame))
                else:
                    findings.append(FaceFinding(face.box, self.gallery.candidates(encoding), True,
                                                f"found by {face.source}", face.score, frame))
        return findings

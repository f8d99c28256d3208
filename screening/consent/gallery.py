"""The enrolled faces a scan compares against: one 128-d encoding per usable reference photo.

Built by enrolment (only for people with biometric consent), passed to every worker process,
and asked one question per face: how far is each enrolled person? The answer is a list of
candidates; decide() alone applies the tolerance and the margin to the runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Candidates = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Gallery:
    person_ids: tuple[str, ...]  # one per row of `encodings`; a person may have several rows
    encodings: np.ndarray = field(repr=False)  # (n, 128) float64
    version: str = ""  # the face model that made the encodings; a probe must come from the same
    # the second recogniser's (SFace) gallery of the same people's reference photos, or None
    second: Gallery | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, version: str = "") -> Gallery:
        return cls((), np.zeros((0, 128)), version)

    def __post_init__(self):
        if len(self.person_ids) != len(self.encodings):
            raise ValueError(f"{len(self.person_ids)} person ids for {len(self.encodings)} encodings")

    def __len__(self) -> int:
        return len(self.person_ids)

    @property
    def people(self) -> frozenset[str]:
        return frozenset(self.person_ids)

    def candidates(self, encoding: np.ndarray) -> Candidates:
        """Every enrolled person with their nearest reference photo's distance, nearest first."""
        if not self.person_ids:
            return ()
        distances = np.linalg.norm(self.encodings - np.asarray(encoding, dtype=np.float64), axis=1)
        best: dict[str, float] = {}
        for pid, d in zip(self.person_ids, distances):
            if pid not in best or d < best[pid]:
                best[pid] = float(d)
        return tuple(sorted(best.items(), key=lambda item: item[1]))

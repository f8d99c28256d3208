"""dlib's face recognition ResNet on onnxruntime: the same weights, the same 128-d descriptor.

The network is read from dlib's own file (`vision/dlib_dat.py`, from the installed
face_recognition_models package; nothing is downloaded) and built as an ONNX graph in memory
once per process: each affine layer folded into the convolution before it, dlib's add_prev
(which adds tensors of different sizes as if the smaller were padded with zeros at its end)
as Pad + Add. A chip (150x150 RGB, from dlib's own get_face_chip) is fed as dlib's input layer
feeds it: (pixel - channel mean) / 256, planes R, G, B.

Measured against dlib's compute_face_descriptor on real faces (docs/faces.md, "Speed"): the
descriptors agree to within float32 rounding. `Recogniser.build()` checks that at start-up on
a test chip and returns None when the graph cannot be built or disagrees with dlib, so the
caller keeps dlib: never a recogniser that answers differently.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from screening.vision import model_cache
from screening.vision.dlib_dat import CHIP, Layer, Network, read

# The largest difference (any of the 128 numbers) allowed between dlib's descriptor and ours in
# the start-up check. Measured over real faces: about 1e-6 (float32 rounding, docs/faces.md).
AGREE = 1e-4
_OPSET = 17
BATCH = 16  # chips per run at most (dlib's compute_face_descriptors runs 16 at a time too)
_BUILT: dict = {}  # Recogniser.cached(): built once per process
# dlib's own descriptor of probe_chip() (float32, little-endian, base64), computed by dlib 20.0 from
# face_recognition_models 0.3.0's file, whose sha256 this is. The start-up check compares with it,
# so dlib's network is not loaded at all when the conversion agrees; with any other file, dlib
# computes the reference there and then. tests/test_recogniser.py recomputes it with dlib.
REFERENCE_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
# The sha256 of graph(read(that file)).SerializeToString() (onnx 1.23.2): a cached graph is used
# only with exactly these bytes (model_cache.py); tests/test_pool_preload.py builds it again.
GRAPH_SHA256 = "221e32210a993e6b2e0c3382f69d8f5f6e5e594e057526ce75ed49b2113be82f"
REFERENCE = (
    "KKsfvjUjUj1rjRg91J11vWHqFb5z05G9Sot+vIHpuL3kNsY97rPnvF6IWj5N6JK94mGCvoZJbb0vepC8w1QTPn5Mkr1dWMG8AO36vQD8"
    "K77773C7t3C9PPyJtTzQvSC81jOYvZb+hb6l5bS9Mt3KvYL7Hz1yF4a964DEPDlKaj2qEV2+4uN0vZBVOTyugGE9TuAHve40mb0nWTA+"
    "uWgmvfsz5L1L91g8braqPdG7Tz71Ykk+HBoKvc+ZxDxzO4C9/2i8Pdq+Wb7Urvc7kFafPd9REz4aJ289MkFnPTjB2r12cAQ94uUhPloe"
    "Kr6riDY9mbaFPRuW7r2uMve9N9jmvS/Qdj4kPPc9QxjLvYuPDb7/Bjo+m30BvhdEm7wwZcw9mWH0ve2mAr6jaou+ylH2PW4ryz5LTxQ+"
    "0cAzvhe6ULwqet+9ywRAvHc6jLw6GUk8elejveqbrr31DHO9EbgpPdHjWz5Cvqu9zgmDPC+OUT7UidU8ZLCaPEhrdL0tETe8ToqzvZbD"
    "Ur2aZuq8O+WYvCnZoz16bEO+X0FJPTBx8j16b2u+M7ELPnuQIb3wjCO9LKH6O2V4LjuQrpI831qmPCqlIz6PGGy+Bih5PrgaNT7aAYI8"
    "R6b/Pc4VHjv5DOY98j8KvWLWLzy2AOS9rV64vSBC6TzWLRC9I5FqPO8ThT0="
)


def graph(net: Network):
    """The ONNX model computing `net` on a batch of normalised chips (N, 3, 150, 150)."""
    from onnx import TensorProto, helper

    built = _Builder()
    for i, layer in enumerate(net.layers):
        built.add(i, layer, net.layers[i + 1] if i + 1 < len(net.layers) else None)
    if built.current != "descriptor":
        raise ValueError("the network does not end in its fully connected layer")
    inputs = [helper.make_tensor_value_info("chips", TensorProto.FLOAT, ["N", 3, CHIP, CHIP])]
    outputs = [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])]
    model = helper.make_model(helper.make_graph(built.nodes, "dlib_face_recognition_resnet_model_v1", inputs,
                                                outputs, built.weights),
                              opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8
    return model


class _Builder:
    """ONNX nodes for dlib layers, input side first; `shape` (C, H, W) of the current output is
    followed so that add_prev's zero padding can be written out."""

    def __init__(self):
        self.nodes, self.weights, self.tags = [], [], {}
        self.current, self.shape = "chips", (3, CHIP, CHIP)

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], out: str, **attrs) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.current = out

    def add(self, i: int, layer: Layer, following: Layer | None) -> None:
        out = f"t{i}"
        c, h, w = (*self.shape, 1, 1)[:3]  # after global_avg the shape is (C,)
        if layer.kind == "con":
            self._con(i, layer, following)
        elif layer.kind == "affine":
            if self.current != f"t{i - 1}" or not self.nodes or self.nodes[-1].op_type != "Conv":
                raise ValueError("an affine layer that does not follow a convolution")
        elif layer.kind == "relu":
            self.node("Relu", [self.current], out)
        elif layer.kind in ("max_pool", "avg_pool"):
            op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
            self.node(op, [self.current], out, kernel_shape=[layer.size] * 2, strides=[layer.stride] * 2)
            self.shape = (c, (h - layer.size) // layer.stride + 1, (w - layer.size) // layer.stride + 1)
        elif layer.kind == "tag":
            self.tags[layer.arg] = (self.current, self.shape)
        elif layer.kind == "skip":
            self.current, self.shape = self.tags[layer.arg]
        elif layer.kind == "add_prev":
            other, other_shape = self.tags[layer.arg]
            both = tuple(max(a, b) for a, b in zip(self.shape, other_shape))
            a, b = self._padded(self.current, self.shape, both, f"pa{i}"), self._padded(other, other_shape, both, f"pb{i}")
            self.node("Add", [a, b], out)
            self.shape = both
        elif layer.kind == "global_avg":
            self.node("GlobalAveragePool", [self.current], f"g{i}")
            self.node("Flatten", [f"g{i}"], out, axis=1)
            self.shape = (c,)
        elif layer.kind == "fc":
            self.node("MatMul", [self.current, self.const(f"w{i}", layer.weights["w"])], "descriptor")
        else:
            raise ValueError(f"unknown layer {layer.kind}")

    def _con(self, i: int, layer: Layer, following: Layer | None) -> None:
        """A convolution, with the affine layer after it (if any) folded into its weights."""
        w, b = layer.weights["w"], layer.weights["b"]
        if following is not None and following.kind == "affine":
            g, beta = following.weights["g"], following.weights["b"]
            w, b = w * g[:, None, None, None], b * g + beta
        pad = 0 if layer.stride != 1 else layer.size // 2
        self.node("Conv", [self.current, self.const(f"w{i}", w.astype(np.float32)), self.const(f"b{i}", b.astype(np.float32))],
                  f"t{i}", kernel_shape=[layer.size] * 2, strides=[layer.stride] * 2, pads=[pad] * 4)
        _, h, wd = self.shape
        self.shape = (layer.arg, (h + 2 * pad - layer.size) // layer.stride + 1, (wd + 2 * pad - layer.size) // layer.stride + 1)

    def _padded(self, name: str, shape: tuple, want: tuple, out: str) -> str:
        """`name` (shape C, H, W) padded with zeros at the end of each axis to `want`."""
        from onnx import helper

        if shape == want:
            return name
        pads = np.array([0, 0, 0, 0, 0, *(w - s for s, w in zip(shape, want))], dtype=np.int64)
        self.nodes.append(helper.make_node("Pad", [name, self.const(f"{out}_pads", pads)], [out], mode="constant"))
        return out


class Recogniser:
    """The converted network in an onnxruntime session; `descriptors()` for a batch of chips."""

    def __init__(self, net: Network, threads: int = 1, model: bytes | None = None):
        """`model`: the graph of `net` already built (from model_cache), else built here."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._mean = np.array(net.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
        self._session = ort.InferenceSession(model if model is not None else graph(net).SerializeToString(),
                                             options, providers=["CPUExecutionProvider"])

    @classmethod
    def cached(cls, dat: Path, dlib_recogniser: Callable[[], object], threads: int = 1) -> Recogniser | None:
        """`build()`, once per process, file and thread count."""
        key = (str(dat), threads)
        if key not in _BUILT:
            _BUILT[key] = cls.build(dat, dlib_recogniser, threads)
        return _BUILT[key]

    @classmethod
    def build(cls, dat: Path, dlib_recogniser: Callable[[], object], threads: int = 1) -> Recogniser | None:
        """The converted recogniser, or None if it cannot be built or its descriptor of
        `probe_chip()` differs from dlib's by more than AGREE: from REFERENCE when `dat` is the
        file it was recorded from, else computed by `dlib_recogniser()` (a loader of dlib's
        face_recognition_model_v1 of the same file, only called then)."""
        try:
            data = dat.read_bytes()
            net, shipped = read(data), hashlib.sha256(data).hexdigest() == REFERENCE_SHA256
            # the graph from the disk cache only if its bytes are the ones recorded below
            model = model_cache.graph_bytes(GRAPH_SHA256 if shipped else None, lambda: graph(net).SerializeToString())
            made = cls(net, threads, model)
            chip = probe_chip()
            ours = made.descriptors([chip])[0]
            if shipped:
                theirs = np.frombuffer(base64.b64decode(REFERENCE), dtype="<f4").astype(np.float64)
            else:
                theirs = np.asarray(dlib_recogniser().compute_face_descriptor(chip, 1), dtype=np.float64)
        except Exception:  # noqa: BLE001 - any failure keeps dlib's own recogniser
            return None
        if ours.shape != theirs.shape or not np.isfinite(ours).all() or np.abs(ours - theirs).max() > AGREE:
            return None
        return made

    def descriptors(self, chips: list[np.ndarray]) -> np.ndarray:
        """(n, 128) float64 descriptors of n 150x150 RGB uint8 chips, as dlib computes them."""
        if not chips:
            return np.zeros((0, 128), dtype=np.float64)
        for chip in chips:
            if chip.shape != (CHIP, CHIP, 3) or chip.dtype != np.uint8:
                raise ValueError(f"expected a {CHIP}x{CHIP} RGB uint8 chip, got {chip.shape} {chip.dtype}")
        out = []
        for start in range(0, len(chips), BATCH):  # as dlib does: bounded memory for a crowd
            batch = np.stack(chips[start:start + BATCH]).transpose(0, 3, 1, 2).astype(np.float32)
            batch = (batch - self._mean) / np.float32(256)
            out.append(self._session.run(["descriptor"], {"chips": np.ascontiguousarray(batch)})[0])
        return np.concatenate(out).astype(np.float64)


def probe_chip() -> np.ndarray:
    """The fixed chip of the start-up check: smooth shading with a face-like layout (dark eyes
    and mouth on a lighter oval) and seeded noise, so every layer of the network is exercised."""
    y, x = np.mgrid[0:CHIP, 0:CHIP].astype(np.float32) / CHIP
    skin = 150 + 60 * np.exp(-(((x - 0.5) / 0.3) ** 2 + ((y - 0.5) / 0.4) ** 2))
    for cx, cy, r in ((0.35, 0.4, 0.05), (0.65, 0.4, 0.05), (0.5, 0.72, 0.07)):
        skin = skin - 100 * np.exp(-(((x - cx) / r) ** 2 + ((y - cy) / (r * 0.6)) ** 2))
    face = np.stack([skin, skin * 0.8, skin * 0.65], axis=-1)
    noise = np.random.default_rng(15).normal(0, 25, face.shape)
    return np.clip(face + noise, 0, 255).astype(np.uint8)

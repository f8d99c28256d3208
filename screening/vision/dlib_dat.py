"""Reads the weights of dlib's face recognition ResNet from its own serialisation
(`dlib_face_recognition_resnet_model_v1.dat`, shipped by face_recognition_models), so that the
same network can run on onnxruntime (`vision/recogniser.py`).

The file is `dlib::serialize(anet_type)`, the network of dlib's dnn_face_recognition_ex.cpp:

    loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

with ares<N> = relu<add_prev1<affine<con<N,3,3,1,1, relu<affine<con<N,3,3,1,1, tag1<.>>>>>>>>
and ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2, skip1<tag2<affine<con<N,3,3,1,1, relu<
affine<con<N,3,3,2,2, tag1<.>>>>>>>>>>>. dlib writes a nested layer as: its version, its
subnetwork, then its own details, so the file holds every wrapper's version from the outside in,
the input layer, then each layer's details from the input out. Affine layers may be stored as
the batch-norm layers they were trained as (dlib converts them on reading; so do we).

Nothing here trusts the file: every version string, size and count is checked against the
architecture above, and any mismatch raises (the caller then keeps dlib's own recogniser).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# (channels, blocks, first block halves the size) per level, from the input out.
LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))
CHIP = 150


@dataclass
class Layer:
    kind: str  # con, affine, relu, add_prev, avg_pool, max_pool, tag, skip, global_avg, fc
    arg: int = 0  # tag / add_prev / skip id; con: output channels
    stride: int = 1
    size: int = 0  # con / pool window
    weights: dict = field(default_factory=dict)


@dataclass
class Network:
    mean_rgb: tuple[float, float, float]  # subtracted from each pixel, then divided by 256
    layers: list[Layer]  # from the input out


def _block(n: int, stride: int) -> list[Layer]:
    """block<N, affine, stride>, input side first."""
    return [Layer("con", n, stride, 3), Layer("affine"), Layer("relu"), Layer("con", n, 1, 3), Layer("affine")]


def architecture() -> list[Layer]:
    """The layers of anet_type from the input out (what the file must hold)."""
    layers = [Layer("con", 32, 2, 7), Layer("affine"), Layer("relu"), Layer("max_pool", 0, 2, 3)]
    for channels, blocks, down in LEVELS:
        for i in range(blocks):
            if i == 0 and down:
                layers += [Layer("tag", 1), *_block(channels, 2), Layer("tag", 2), Layer("skip", 1),
                           Layer("avg_pool", 0, 2, 2), Layer("add_prev", 2), Layer("relu")]
            else:
                layers += [Layer("tag", 1), *_block(channels, 1), Layer("add_prev", 1), Layer("relu")]
    return layers + [Layer("global_avg"), Layer("fc", 128)]


class Reader:
    """dlib's serialisation primitives (dlib/serialize.h, dlib/cuda/tensor.h)."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.at = 0

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.at + n > len(self.data):
            raise ValueError(f"dlib model file truncated at byte {self.at}")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def int(self) -> int:
        head = self._take(1)[0]
        size = head & 0x0F
        if size > 8 or head & 0x70:
            raise ValueError(f"bad integer at byte {self.at - 1}")
        value = int.from_bytes(self._take(size), "little") if size else 0
        return -value if head & 0x80 else value

    def string(self) -> str:
        n = self.int()
        if not 0 <= n <= 256:
            raise ValueError(f"implausible string length {n} at byte {self.at}")
        return bytes(self._take(n)).decode("ascii")

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        return float(mantissa) * 2.0 ** exponent

    def bool(self) -> bool:
        ch = bytes(self._take(1))
        if ch not in (b"0", b"1"):
            raise ValueError(f"bad bool at byte {self.at - 1}")
        return ch == b"1"

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ValueError(f"unexpected tensor version at byte {self.at}")
        shape = tuple(self.int() for _ in range(4))
        if any(d < 0 for d in shape) or int(np.prod(shape)) > 50_000_000:
            raise ValueError(f"implausible tensor shape {shape}")
        count = int(np.prod(shape))
        return np.frombuffer(bytes(self._take(4 * count)), dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, ...]:
        if self.int() != 1:
            raise ValueError(f"unexpected alias_tensor version at byte {self.at}")
        return tuple(self.int() for _ in range(4))

    def expect(self, *names: str) -> str:
        name = self.string()
        if name not in names:
            raise ValueError(f"expected {' or '.join(names)}, found {name!r} at byte {self.at}")
        return name


def read(data: bytes) -> Network:
    """The network in `data` (the .dat file's bytes), checked against `architecture()`."""
    r = Reader(data)
    layers = architecture()
    if r.int() != 1:
        raise ValueError("not a dlib loss layer")
    if r.expect("loss_metric_", "loss_metric_2") == "loss_metric_2":
        r.float(), r.float()  # margin, distance threshold: training only
    # Every wrapper's version, outermost (fc) first.
    versions = {}
    for layer in reversed(layers):
        version = r.int()
        ok = {1, 2} if layer.kind not in ("tag", "skip") else {1}
        if layer is layers[0]:
            ok = {2, 3}
        if version not in ok:
            raise ValueError(f"unexpected version {version} for a {layer.kind} layer")
        versions[id(layer)] = version
    r.expect("input_rgb_image_sized")
    mean = (r.float(), r.float(), r.float())
    if (r.int(), r.int()) != (CHIP, CHIP):
        raise ValueError("the network's input is not 150x150")
    for layer in layers:
        if layer.kind in ("tag", "skip"):
            continue
        _details(r, layer)
        r.bool(), r.bool(), r.bool()  # setup called, gradient stale, output disabled
        r.tensor(), r.tensor()  # x_grad, cached output
        if layer is layers[0]:
            r.tensor()  # grad_final
            if versions[id(layer)] == 3:
                r.int()  # sample expansion factor
        elif versions[id(layer)] == 2:
            r.tensor()  # params_grad
    if r.at != len(r.data):
        raise ValueError(f"{len(r.data) - r.at} bytes left over after the network")
    return Network(mean, layers)


def _pool(r: Reader, layer: Layer, name: str) -> None:
    r.expect(name)
    nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
    if layer.kind == "global_avg":
        want = (0, 0, 1, 1, 0, 0)
    else:
        want = (layer.size, layer.size, layer.stride, layer.stride, 0, 0)
    if (nr, nc, sy, sx, py, px) != want:
        raise ValueError(f"{name}: window {nr}x{nc} stride {sy},{sx} padding {py},{px}, expected {want}")


def _details(r: Reader, layer: Layer) -> None:
    """One layer's own serialisation (dlib/dnn/layers.h), weights into layer.weights."""
    if layer.kind == "con":
        _con(r, layer)
    elif layer.kind == "affine":
        _affine(r, layer)
    elif layer.kind == "relu":
        if r.expect("relu_", "relu_2") == "relu_2" and r.bool():
            raise ValueError("a disabled relu layer")
    elif layer.kind == "add_prev":
        r.expect("add_prev_")
    elif layer.kind == "max_pool":
        _pool(r, layer, "max_pool_2")
    elif layer.kind in ("avg_pool", "global_avg"):
        _pool(r, layer, "avg_pool_2")
    elif layer.kind == "fc":
        _fc(r, layer)
    else:
        raise AssertionError(layer.kind)


def _con(r: Reader, layer: Layer) -> None:
    version = r.expect("con_4", "con_5", "con_6")
    params = r.tensor().ravel()
    filters = r.int()
    nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
    pad = 0 if layer.stride != 1 else layer.size // 2  # dlib's default padding
    if (filters, nr, nc, sy, sx, py, px) != (layer.arg, layer.size, layer.size, layer.stride, layer.stride, pad, pad):
        raise ValueError(f"con_: {filters} filters {nr}x{nc} stride {sy},{sx} padding {py},{px}, expected "
                         f"{layer.arg} {layer.size}x{layer.size} stride {layer.stride} padding {pad}")
    shape_w, shape_b = r.alias(), r.alias()
    for _ in range(4):
        r.float()  # learning rate and weight decay multipliers
    use_bias = r.bool() if version in ("con_5", "con_6") else True
    if version == "con_6" and r.bool():
        raise ValueError("con_ with a fused relu is not expected here")
    n_w, n_b = int(np.prod(shape_w)), int(np.prod(shape_b))
    if shape_w[0] != filters or shape_w[2:] != (nr, nc) or params.size != n_w + (n_b if use_bias else 0):
        raise ValueError(f"con_: parameters {params.size} do not fit filters {shape_w} and biases {shape_b}")
    layer.weights["w"] = params[:n_w].reshape(shape_w)
    layer.weights["b"] = params[n_w:n_w + n_b].copy() if use_bias else np.zeros(filters, np.float32)


def _affine(r: Reader, layer: Layer) -> None:
    version = r.expect("affine_", "affine_2", "bn_con2")
    if version == "bn_con2":  # converted as dlib's affine_(const bn_&) does
        params = r.tensor().ravel()
        g, b = r.alias(), r.alias()
        r.tensor(), r.tensor()  # batch means and inverse stds (training only)
        running_means, running_variances = r.tensor().ravel(), r.tensor().ravel()
        r.int(), r.float()  # num_updates, running_stats_window_size
        for _ in range(4):
            r.float()
        eps = r.float()
        n = int(np.prod(g))
        if params.size != 2 * n or running_means.size != n or running_variances.size != n:
            raise ValueError("bn_con2: sizes do not agree")
        gamma = params[:n] / np.sqrt(running_variances + np.float32(eps))
        layer.weights["g"] = gamma.astype(np.float32)
        layer.weights["b"] = (params[n:] - gamma * running_means).astype(np.float32)
        return
    params = r.tensor().ravel()
    g, b = r.alias(), r.alias()
    if r.int() != 0:  # layer_mode: CONV_MODE
        raise ValueError("affine_ not in convolution mode")
    if version == "affine_2" and r.bool():
        raise ValueError("a disabled affine layer")
    n = int(np.prod(g))
    if params.size != 2 * n or int(np.prod(b)) != n:
        raise ValueError("affine_: sizes do not agree")
    layer.weights["g"], layer.weights["b"] = params[:n].copy(), params[n:].copy()


def _fc(r: Reader, layer: Layer) -> None:
    version = r.expect("fc_2", "fc_3")
    outputs, inputs = r.int(), r.int()
    params = r.tensor().ravel()
    r.alias(), r.alias()
    if r.int() != 1:  # FC_NO_BIAS
        raise ValueError("fc layer with a bias, expected fc_no_bias")
    for _ in range(4):
        r.float()
    if version == "fc_3":
        r.bool()
    if outputs != layer.arg or params.size != inputs * outputs:
        raise ValueError(f"fc: {inputs}x{outputs} with {params.size} parameters")
    layer.weights["w"] = params.reshape(inputs, outputs).copy()

"""dlib's face recognition ResNet on onnxruntime (vision/recogniser.py, vision/dlib_dat.py): the
same descriptor as dlib's own, and dlib kept whenever the conversion fails or disagrees."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from screening import imaging
from screening.config import FaceSettings
from screening.vision import dlib_dat
from screening.vision.face_engine import RESNET_FILE, FaceEngine, models_dir
from screening.vision import recogniser
from screening.vision.recogniser import AGREE, Recogniser, probe_chip

# The largest difference, in any of the 128 numbers, measured between the two (float32 rounding
# is about 1e-6; docs/faces.md, "Speed"). The tests hold the converted network to this.
CLOSE = 1e-5


@pytest.fixture(scope="module")
def dat() -> Path:
    return models_dir() / RESNET_FILE


@pytest.fixture(scope="module")
def dlib_model(dat):
    import dlib

    return dlib.face_recognition_model_v1(str(dat))


@pytest.fixture(scope="module")
def engines():
    fast, slow = FaceEngine(FaceSettings()), FaceEngine(FaceSettings(), fast=False)
    assert (fast.recogniser, slow.recogniser) == ("onnxruntime", "dlib")
    return fast, slow


def test_the_file_is_read_whole_and_as_the_architecture_says(dat):
    net = dlib_dat.read(dat.read_bytes())
    assert net.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)
    convs = [layer for layer in net.layers if layer.kind == "con"]
    assert len(convs) == 29 and convs[0].weights["w"].shape == (32, 3, 7, 7)
    assert net.layers[-1].weights["w"].shape == (256, 128)
    assert all(np.isfinite(w).all() for layer in net.layers for w in layer.weights.values())


@pytest.mark.parametrize("cut", [10, 1000, 5_000_000, -1])
def test_a_truncated_file_is_refused(dat, cut):
    with pytest.raises(ValueError):
        dlib_dat.read(dat.read_bytes()[:cut])


def test_bytes_after_the_network_are_refused(dat):
    with pytest.raises(ValueError, match="left over"):
        dlib_dat.read(dat.read_bytes() + b"\x00")


def test_another_network_is_refused(dat):
    data = dat.read_bytes()
    at = data.index(b"con_")
    with pytest.raises(ValueError):  # the first layer is no longer a convolution
        dlib_dat.read(data[:at] + b"fc_2" + data[at + 4:])


def _chips() -> list[np.ndarray]:
    chip = probe_chip()
    return [chip, np.ascontiguousarray(chip[:, ::-1]), np.ascontiguousarray(chip[::-1]), np.full_like(chip, 128)]


def test_the_recorded_reference_is_what_dlib_computes(dat, dlib_model):
    """The start-up check compares with a recorded dlib descriptor: it must be dlib's, for this file."""
    import base64
    import hashlib

    assert hashlib.sha256(dat.read_bytes()).hexdigest() == recogniser.REFERENCE_SHA256
    recorded = np.frombuffer(base64.b64decode(recogniser.REFERENCE), dtype="<f4")
    assert np.abs(recorded - np.array(dlib_model.compute_face_descriptor(probe_chip(), 1))).max() < CLOSE


def test_chips_agree_with_dlib_and_a_batch_equals_one_at_a_time(dat, dlib_model):
    made = Recogniser.build(dat, lambda: dlib_model)
    assert made is not None
    chips = _chips()
    batch = made.descriptors(chips)
    single = np.stack([made.descriptors([c])[0] for c in chips])
    theirs = np.array([dlib_model.compute_face_descriptor(c, 1) for c in chips])
    assert batch.shape == (4, 128) and batch.dtype == np.float64
    assert np.abs(batch - single).max() < CLOSE
    assert np.abs(batch - theirs).max() < CLOSE
    with pytest.raises(ValueError):
        made.descriptors([np.zeros((160, 160, 3), np.uint8)])
    crowd = chips * 5  # more than one run's batch (recogniser.BATCH = 16)
    assert np.abs(made.descriptors(crowd) - np.concatenate([batch] * 5)).max() < CLOSE


def test_a_tampered_weight_is_caught_at_start_up(dat, dlib_model, tmp_path):
    """A conversion that computes anything else than dlib is never used: build() gives None,
    whether the reference is dlib computing it there and then (another file) or recorded."""
    data = bytearray(dat.read_bytes())
    net = dlib_dat.read(bytes(data))
    first = net.layers[0].weights["w"].ravel()
    at = bytes(data).index(first[:4].astype("<f4").tobytes())
    data[at:at + 4] = np.float32(first[0] + 0.5).tobytes()
    bad = tmp_path / "tampered.dat"
    bad.write_bytes(bytes(data))
    assert dlib_dat.read(bytes(data)).layers[0].weights["w"].ravel()[0] == pytest.approx(first[0] + 0.5)
    asked = []
    assert Recogniser.build(bad, lambda: asked.append(1) or dlib_model) is None
    assert asked  # another file than the recorded one: dlib was asked
    (tmp_path / "broken.dat").write_bytes(bytes(data[:100]))
    assert Recogniser.build(tmp_path / "broken.dat", lambda: dlib_model) is None
    assert AGREE <= 1e-4


def test_a_conversion_that_disagrees_with_the_recorded_reference_is_refused(dat, monkeypatch):
    good = Recogniser.build(dat, lambda: pytest.fail("dlib is not needed for the recorded file"))
    assert good is not None
    shifted = np.frombuffer(__import__("base64").b64decode(recogniser.REFERENCE), dtype="<f4") + np.float32(1e-3)
    monkeypatch.setattr(recogniser, "REFERENCE", __import__("base64").b64encode(shifted.tobytes()).decode())
    assert Recogniser.build(dat, lambda: pytest.fail("not asked")) is None


def test_an_engine_whose_conversion_fails_keeps_dlib(monkeypatch):
    from screening.vision import recogniser

    monkeypatch.setattr(recogniser, "_BUILT", {})
    monkeypatch.setattr(recogniser.Recogniser, "build", classmethod(lambda cls, *a, **k: None))
    engine = FaceEngine(FaceSettings(), threads=3)
    assert engine.recogniser == "dlib" and engine._fast is None
    import dlib  # ... and still encodes, with dlib's own network (never nothing)

    own = dlib.face_recognition_model_v1(str(models_dir() / RESNET_FILE))
    got = engine._descriptors([probe_chip()], 1)
    assert len(got) == 1 and np.abs(got[0] - np.array(own.compute_face_descriptor(probe_chip(), 1))).max() < CLOSE


def _agree(fast: FaceEngine, slow: FaceEngine, rgb: np.ndarray) -> int:
    """Every face of `rgb` encodes (plain and mirror-averaged) to dlib's descriptor; the count."""
    faces = fast.locate(rgb)
    for face in faces:
        for mirror in (False, True):
            ours, why_ours = fast.encode_with_reason(rgb, face.box, mirror=mirror)
            theirs, why_theirs = slow.encode_with_reason(rgb, face.box, mirror=mirror)
            assert why_ours == why_theirs
            if theirs is not None:
                assert np.abs(ours - theirs).max() < CLOSE
    return len(faces)


@pytest.mark.slow
def test_the_astronaut_encodes_as_dlib_encodes_her(engines, public_domain):
    rgb = imaging.load(public_domain / "astronaut.png").frames[0]
    assert _agree(*engines, rgb) == 1


@pytest.mark.slow
def test_real_faces_encode_as_dlib_encodes_them(engines, shared_data):
    deep = shared_data / "deepface"
    with open(deep / "identity_clusters.csv") as f:
        photos = [deep / r["image"] for r in csv.DictReader(f)][:6]
    assert sum(_agree(*engines, imaging.load(p).frames[0]) for p in photos) >= 6


@pytest.mark.slow
def test_several_faces_in_one_batch_encode_as_one_at_a_time(engines, public_domain):
    """encode_many (the detector's batch) gives each face what encode_with_reason gives it, and
    a face too small to identify keeps its reason without disturbing the others' order."""
    fast, _ = engines
    rgb = imaging.load(public_domain / "astronaut.png").frames[0]
    two = np.ascontiguousarray(np.hstack([rgb, rgb[:, ::-1]]))
    boxes = [face.box for face in fast.locate(two)]
    assert len(boxes) == 2
    boxes.insert(1, (5, 5, fast.settings.min_face_px - 1, fast.settings.min_face_px - 1))
    for mirror in (False, True):
        batch = fast.encode_many(two, boxes, mirror=mirror)
        single = [fast.encode_with_reason(two, box, mirror=mirror) for box in boxes]
        assert [why for _, why in batch] == [why for _, why in single]
        assert batch[1][0] is None and "too small" in batch[1][1]
        for (a, _), (b, _) in zip(batch, single):
            assert (a is None) == (b is None) and (a is None or np.abs(a - b).max() < CLOSE)

"""SFace, the second recogniser (vision/sface.py): loaded only from the recorded files, aligned on
YuNet's landmarks, and separating the same person from the closest strangers measured."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from screening import imaging
from screening.vision import sface

ASTRONAUT_FACE = (175, 76, 90, 90)  # dlib's HOG box of her face in astronaut.png


@pytest.fixture(scope="module")
def model():
    try:
        sface.models_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    return sface.SFace()


@pytest.fixture(scope="module")
def astronaut(public_domain):
    return imaging.load(public_domain / "astronaut.png").frames[0]


def _distance(a, b) -> float:
    return float(np.linalg.norm(a - b))


def test_a_face_gives_a_unit_descriptor_and_a_resized_copy_the_same_person(model, astronaut):
    import cv2

    (vector, why), = model.encode_many(astronaut, [ASTRONAUT_FACE])
    assert why == "" and vector.shape == (128,) and vector.dtype == np.float64
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    smaller = cv2.resize(astronaut, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    (again, _), = model.encode_many(smaller, [tuple(round(v * 0.8) for v in ASTRONAUT_FACE)])
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    left = astronaut.shape[1] - ASTRONAUT_FACE[0] - ASTRONAUT_FACE[2]
    (flipped, _), = model.encode_many(mirrored, [(left, *ASTRONAUT_FACE[1:])])
    # the same photo resized and mirrored: far inside the strict threshold (about 1.0)
    assert _distance(vector, again) < 0.3 and _distance(vector, flipped) < 0.5  # measured 0.15, 0.29
    assert not np.array_equal(vector, again)


def test_a_box_with_no_face_gives_no_descriptor_and_says_why(model, public_domain, astronaut):
    camera = imaging.load(public_domain / "camera.png").frames[0]
    grey = np.full((300, 300, 3), 128, np.uint8)
    sky = (400, 20, 90, 90)  # the astronaut photo's top right: no face there
    results = model.encode_many(camera, [(10, 10, 60, 60)]) + model.encode_many(grey, [(100, 100, 90, 90)])
    results += model.encode_many(astronaut, [sky])
    assert [v for v, _ in results] == [None, None, None]
    assert all("no face landmarks" in why for _, why in results)


def test_bad_input_is_refused(model):
    with pytest.raises(ValueError):
        model.encode_many(np.zeros((50, 50), np.uint8), [(0, 0, 10, 10)])


def test_a_model_file_with_other_bytes_is_refused(model, tmp_path):
    folder = sface.models_dir()
    for name in (sface.SFACE_FILE, sface.YUNET_FILE):
        shutil.copy(folder / name, tmp_path / name)
    assert sface.SFace(tmp_path).version == sface.VERSION  # the copies themselves load
    data = bytearray((tmp_path / sface.YUNET_FILE).read_bytes())
    data[len(data) // 2] ^= 1
    (tmp_path / sface.YUNET_FILE).write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="sha256"):
        sface.SFace(tmp_path)
    (tmp_path / sface.SFACE_FILE).unlink()
    with pytest.raises(RuntimeError, match="cannot read"):
        sface.checked_file(tmp_path, sface.SFACE_FILE)


@pytest.mark.slow
def test_same_people_nearer_than_the_closest_strangers_measured(model, shared_data):
    """deepface pairs (docs/faces.md): the furthest same-person pair measured (img28/img46, 1.04)
    and the closest different people (img33/img35, 1.10), found by CenterFace as a scan does."""
    from screening.config import FaceSettings
    from screening.vision.face_engine import FaceEngine

    engine = FaceEngine(FaceSettings(), threads=1)
    folder = shared_data / "deepface" / "tests" / "unit" / "dataset"

    def main_face(name: str) -> np.ndarray:
        rgb = imaging.load(folder / name).frames[0]
        face = max(engine.locate(rgb), key=lambda f: f.box[2] * f.box[3])
        (vector, why), = model.encode_many(rgb, [face.box])
        assert vector is not None, why
        return vector

    same = _distance(main_face("img28.jpg"), main_face("img46.jpg"))
    different = _distance(main_face("img33.jpg"), main_face("img35.jpg"))
    assert same < 1.07 < different < sface.PUBLISHED_THRESHOLD

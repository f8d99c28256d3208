"""The derived model graphs kept on disk (vision/model_cache.py): used only when their bytes are
exactly the recorded ones; anything else is built again, never trusted."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from screening.vision import centerface, model_cache, recogniser
from screening.vision.dlib_dat import read
from screening.vision.face_engine import RESNET_FILE, models_dir


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_cached_graph_is_used_only_with_exactly_the_recorded_bytes(tmp_path):
    good = b"the graph this version builds"
    built = []

    def build():
        built.append(1)
        return good

    assert model_cache.graph_bytes(sha(good), build, tmp_path) == good and len(built) == 1  # built, then cached
    assert model_cache.graph_bytes(sha(good), build, tmp_path) == good and len(built) == 1  # read from the cache
    cached = tmp_path / f"{sha(good)}.onnx"
    for bad in (good[:-3], good + b"\0", b"a graph someone put there", b""):  # truncated, extended, tampered
        cached.write_bytes(bad)
        assert model_cache.graph_bytes(sha(good), build, tmp_path) == good
        assert cached.read_bytes() == good  # rebuilt and rewritten
    assert len(built) == 5


def test_a_build_that_is_not_the_recorded_graph_is_used_but_never_cached(tmp_path):
    other = b"built by another onnx version"
    assert model_cache.graph_bytes(sha(b"recorded"), lambda: other, tmp_path) == other
    assert not list(tmp_path.iterdir())
    assert model_cache.graph_bytes(None, lambda: other, tmp_path) == other  # unknown weights: never cached
    assert not list(tmp_path.iterdir())


def test_an_unwritable_cache_only_costs_time(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert model_cache.graph_bytes(sha(b"g"), lambda: b"g", blocker / "models") == b"g"


@pytest.mark.slow
def test_the_recorded_digests_are_what_this_code_builds_from_the_installed_weights():
    """If onnx or the conversion changes, the digests change: then nothing is cached (correct,
    only slower); this test says so, so the constants are updated."""
    dat = (models_dir() / RESNET_FILE).read_bytes()
    assert sha(dat) == recogniser.REFERENCE_SHA256
    assert sha(recogniser.graph(read(dat)).SerializeToString()) == recogniser.GRAPH_SHA256
    raw = centerface.weight_bytes()
    assert sha(raw) == centerface.WEIGHTS_SHA256
    assert sha(centerface._free_sizes(raw)) == centerface.FREED_SHA256


def test_a_tampered_cached_recogniser_graph_is_rebuilt_never_used(tmp_path, monkeypatch):
    """A graph under the cached name that is not the recorded bytes is built again from dlib's
    file (and the start-up probe against dlib's descriptor still runs on whatever is used)."""
    monkeypatch.setenv("SCREENING_CACHE", str(tmp_path))
    dat = models_dir() / RESNET_FILE
    made = recogniser.Recogniser.build(dat, lambda: None, 1)
    assert made is not None
    cached = model_cache.cache_dir() / f"{recogniser.GRAPH_SHA256}.onnx"
    assert sha(cached.read_bytes()) == recogniser.GRAPH_SHA256
    # a graph with one weight changed, under the cached name: not the recorded bytes, so rebuilt
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0x01
    cached.write_bytes(bytes(data))
    again = recogniser.Recogniser.build(dat, lambda: None, 1)
    assert again is not None and sha(cached.read_bytes()) == recogniser.GRAPH_SHA256
    chip = recogniser.probe_chip()
    assert np.array_equal(again.descriptors([chip]), made.descriptors([chip]))

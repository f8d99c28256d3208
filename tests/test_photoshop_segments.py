"""Photoshop resources continued over several APP13 segments (Photoshop splits them at 64 KB):
read joined, as the metadata and thumbnail readers do (follow-up to RT16-2). A picture cut across
two segments is still found; joined resources that cannot be read keep the file from being cleared."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from screening.model import Status

from .test_redteam6 import backdrop, config, found_face, jpeg, verdict, with_face  # noqa: F401


def _resource(rid: int, body: bytes) -> bytes:
    return b"8BIM" + struct.pack(">H", rid) + b"\x00\x00" + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)


def _with_app13(tmp_path, name: str, block: bytes, cuts: list[int]):
    """A clean photo whose Photoshop resources `block` are cut into APP13 segments at `cuts`."""
    bounds = [0, *cuts, len(block)]
    segments = b"".join(b"\xff\xed" + struct.pack(">H", 2 + 14 + b - a) + b"Photoshop 3.0\x00" + block[a:b]
                        for a, b in zip(bounds, bounds[1:]))
    data = jpeg(backdrop())
    path = tmp_path / name
    path.write_bytes(data[:2] + segments + data[2:])
    return path


def _hidden_face_block() -> tuple[bytes, int]:
    """Resources: 30 KB of print settings, then a face JPEG in a private resource; where it starts."""
    before = _resource(0x0425, b"\x00" * 16) + _resource(0x2710, b"\x00" * 30000)
    return before + _resource(0x0FA0, jpeg(with_face())), len(before) + 12


def test_a_face_picture_cut_across_two_app13_segments_is_found(tmp_path, config):
    block, at = _hidden_face_block()
    found_face(_with_app13(tmp_path, "one.jpg", block, []), config)  # control: in one segment
    found_face(_with_app13(tmp_path, "cut.jpg", block, [at + 500]), config)
    found_face(_with_app13(tmp_path, "three.jpg", block, [at - 3, at + 700]), config)


def test_clean_resources_over_three_segments_are_cleared(tmp_path, config):
    block = _resource(0x0425, b"\x00" * 16) + _resource(0x2710, bytes(range(256)) * 200)
    assert verdict(_with_app13(tmp_path, "clean.jpg", block, [100, 30000]), config)[1].status is Status.CLEARED


def test_joined_resources_that_cannot_be_read_are_not_cleared(tmp_path, config):
    block = _resource(0x0425, b"\x00" * 16) + _resource(0x2710, bytes(range(256)) * 200)
    bad = block[:20000] + b"JUNK" + block[20000:]  # a resource longer than declared: the rest is junk
    assert verdict(_with_app13(tmp_path, "junk.jpg", bad, [20000]), config)[1].status is not Status.CLEARED
    bad = block + b"8BIM\x04\x04\x00\x00\x00\x01\x00\x00"  # a last resource declaring more than follows
    assert verdict(_with_app13(tmp_path, "cutoff.jpg", bad, [30000]), config)[1].status is not Status.CLEARED

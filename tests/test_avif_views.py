"""An AVIF holding both an image sequence and a primary item: the one Pillow does not decode is
screened as a view (formats/avif_views.py, RT29-30); the red team's cases are in test_redteam29."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from .test_redteam6 import backdrop, config, verdict, kinds, with_face  # noqa: F401
from .test_redteam29 import _found, _iloc_first_extent, avis_with_primary


@pytest.fixture(autouse=True)
def _avif():
    from screening.imaging import AVIF_SUPPORTED

    if not AVIF_SUPPORTED:
        pytest.skip("this Pillow has no AVIF codec")


def _animated(*frames) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frames[0]).save(out, "AVIF", save_all=True, append_images=[Image.fromarray(f) for f in frames[1:]],
                                    duration=500, quality=80)
    return out.getvalue()


def test_control_an_ordinary_animated_avif_is_cleared(tmp_path, config):
    """libavif writes the first frame as the primary item: the same picture, nothing more to find."""
    assert _found(tmp_path, config, "anim.avif", _animated(backdrop(), backdrop())) == {"cleared"}


def test_control_a_face_in_a_later_frame_is_still_found(tmp_path, config):
    assert "unknown_face" in _found(tmp_path, config, "anim_face.avif", _animated(backdrop(), with_face()))


def test_control_a_still_avif_is_cleared(tmp_path, config):
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "AVIF", quality=80)
    assert _found(tmp_path, config, "still.avif", out.getvalue()) == {"cleared"}


def test_the_face_in_the_primary_item_is_a_face_of_that_view(tmp_path, config):
    path = tmp_path / "poster.avif"
    path.write_bytes(avis_with_primary(with_face()))
    _, decision = verdict(path, config)
    assert kinds(decision) == {"unknown_face"}
    assert any("primary image item" in r.detail for r in decision.reasons)


def test_a_primary_item_that_cannot_be_decoded_is_an_error(tmp_path, config):
    """The track decodes; the item its readers of stills show does not (its data is the ftyp box)."""
    data = bytearray(avis_with_primary(with_face()))
    field, _, _ = _iloc_first_extent(bytes(data))
    struct.pack_into(">I", data, field, 0)
    path = tmp_path / "broken_item.avif"
    path.write_bytes(bytes(data))
    _, decision = verdict(path, config)
    assert kinds(decision) == {"error"}
    assert any("primary image item" in r.detail and "cannot be decoded" in r.detail for r in decision.reasons)

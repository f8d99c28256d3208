"""Red team 23: base64 pictures beside/inside XMP packets in PNG text (png._outside_xmp, xmp.xmp_images).
SAFE cases assert the safe outcome beside a control; UNSAFE ones are strict xfails (RT23-N)."""

from __future__ import annotations

import base64

import pytest

from screening.model import Status

from .test_carried_gaps import _face_jpeg
from .test_redteam22 import _faces, _png_text
from .test_video import config  # noqa: F401

_NS = 'xmlns:x="adobe:ns:meta/"'
_RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'


def _b64() -> str:
    return base64.b64encode(_face_jpeg()).decode()


def test_control_base64_face_beside_packet_is_found(tmp_path, config):
    packet = f'<x:xmpmeta {_NS}><rdf:RDF {_RDF}><rdf:Description/></rdf:RDF></x:xmpmeta>'
    d = _faces(tmp_path, config, _png_text("Comment", packet + "\n" + _b64()))
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


def test_control_data_uri_in_xmp_property_text_is_found(tmp_path, config):
    packet = (f'<x:xmpmeta {_NS}><rdf:RDF {_RDF}><rdf:Description><dc:source xmlns:dc="http://purl.org/dc/elements/1.1/">'
              f'data:image/jpeg;base64,{_b64()}</dc:source></rdf:Description></rdf:RDF></x:xmpmeta>')
    d = _faces(tmp_path, config, _png_text("Comment", packet))
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


# RT23-1: the base64 face sits in the packet as an element's *tail* text (after <rdf:Description/>):
# _outside_xmp cuts the whole packet out of the chunk text, and xmp_images reads only element.text
# and attributes, never .tail; the picture a reader of the text sees is searched by nobody.
# RT23-1 (fixed: xmp_images searches the packet's bytes for base64 picture runs)
def test_unsafe_base64_face_in_xmp_tail_text(tmp_path, config):
    packet = f'<x:xmpmeta {_NS}><rdf:RDF {_RDF}><rdf:Description/>\n{_b64()}\n</rdf:RDF></x:xmpmeta>'
    d = _faces(tmp_path, config, _png_text("Comment", packet))
    assert d.status is not Status.CLEARED, d.reasons


# RT23-2: the face is inside an XML comment in the packet: ElementTree drops comments, _outside_xmp
# drops the packet.
# RT23-2 (fixed: the same search sees inside XML comments)
def test_unsafe_base64_face_in_xmp_comment(tmp_path, config):
    packet = f'<x:xmpmeta {_NS}><!-- {_b64()} --><rdf:RDF {_RDF}><rdf:Description/></rdf:RDF></x:xmpmeta>'
    d = _faces(tmp_path, config, _png_text("Comment", packet))
    assert d.status is not Status.CLEARED, d.reasons


# SAFE: an "XMP packet" that does not parse (prefix never bound) holding the face is not cleared.
def test_safe_base64_face_in_unparseable_packet(tmp_path, config):
    packet = f'<x:xmpmeta>\n{_b64()}\n</x:xmpmeta>'
    d = _faces(tmp_path, config, _png_text("Comment", packet))
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- watch --into the reference photos


from .test_watch import trust  # noqa: E402,F401


def _watch_into(trust, into):  # noqa: F811
    from screening import cli

    from .fake_detectors import photo
    from .test_watch import BLUE

    (trust / "consents" / "photos" / "P1").mkdir(parents=True, exist_ok=True)
    photo(trust / "consents" / "photos" / "P1" / "ref.png", BLUE)
    photo(trust / "inbox" / "trip.png", BLUE)
    return cli.main(["watch", "inbox", "--into", str(into), "--once", "--workers", "1",
                     "--settle", "0.1", "--grace", "0.2"])


def test_control_watch_into_an_ordinary_folder_sorts(trust):  # noqa: F811
    rc = _watch_into(trust, trust / "screened")
    assert rc == 0 and [p.name for p in (trust / "screened").rglob("*.png")] == ["trip.png"]


# RT23-3: since b52536c only the inbox is checked for the trust's own files: `--into consents/photos`
# is accepted, and the sorted inbox photos land in consents/photos/cleared/ (needs-permission/...),
# i.e. as reference photos of new "people" named after the sorted folders, enrolled by the next scan.
# RT23-3 (fixed: --into inside the reference photos, state or logos is refused, commands/watch._into_own_files)
def test_unsafe_watch_into_the_reference_photos_folder(trust):  # noqa: F811
    photos = trust / "consents" / "photos"
    rc = _watch_into(trust, photos)
    written = sorted(str(p.relative_to(photos)) for p in photos.rglob("*") if p.is_file())
    assert rc != 0 and written == ["P1/ref.png"], (rc, written)


# ---------------------------------------------------------------- QuickTime sound sized from a lying stsd


def _pcm_with_face(tmp_path, channels: int | None) -> bytes:
    import struct

    from .test_carried_gaps import _in_mdat
    from .test_redteam22 import _legacy_pcm_mov

    data = bytearray(_in_mdat(_legacy_pcm_mov(tmp_path), _face_jpeg(), False))
    if channels is not None:
        sowt = data.find(b"sowt", data.find(b"stsd"))
        struct.pack_into(">H", data, sowt + 20, channels)  # version-0 sound description: channels
    return bytes(data)


def test_control_face_after_legacy_pcm_sound_is_found(tmp_path, config):
    from .test_carried_gaps import _found
    _found(tmp_path, config, "face.mov", _pcm_with_face(tmp_path, None), "")


# RT23-4: the stsd's channel count is taken on trust (stsz size 1 => chunk bytes = samples x channels
# x bytes): 60000 channels make the sound's last chunk cover the face JPEG after it in the mdat.
# RT23-4 (fixed: a sound description claiming more than 512 bytes a sample frame is not believed)
def test_unsafe_lying_stsd_channels_hide_a_face_in_the_mdat(tmp_path, config):
    from .test_carried_gaps import screen as _screen
    path = tmp_path / "lie.mov"
    path.write_bytes(_pcm_with_face(tmp_path, 60000))
    s, d = _screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons

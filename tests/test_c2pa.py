"""C2PA / JUMBF manifests (formats/c2pa.py) and the CBOR reader under it (formats/cbor.py).

Positions, places and names in any assertion of any container reach the location and text checks;
a manifest that cannot be read is an error; an ordinary manifest (claim, actions, hashes, signature,
the author) clears. Files are built here, small (the helpers of red teams 6, 9 and 29)."""

from __future__ import annotations

import json
import struct

import pytest

from screening.formats import c2pa, cbor
from screening.formats.common import MetadataError

from .test_redteam6 import backdrop, config, insert_segments, jpeg, segment  # noqa: F401
from .test_redteam9 import ACADEMY, PUPIL
from .test_redteam29 import _C2PA, _CBOR, _JSON, _box, _found, _superbox, c2pa_jpeg, c2pa_store


def _text(s: str) -> bytes:
    raw = s.encode()
    return (bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw


def _map(pairs: list[tuple[bytes, bytes]]) -> bytes:
    assert len(pairs) < 24
    return bytes([0xA0 + len(pairs)]) + b"".join(k + v for k, v in pairs)


def _float(x: float) -> bytes:
    return b"\xfb" + struct.pack(">d", x)


def _cbor_assertion(label: str, body: bytes) -> bytes:
    return _superbox(_CBOR, label, _box(b"cbor", body))


def _manifest_jpeg(*assertions: bytes) -> bytes:
    """A JPEG whose APP11 holds a store: one manifest, its assertion store holding `assertions`."""
    manifest = _superbox(_C2PA, "urn:uuid:0001", _superbox(_C2PA, "c2pa.assertions", *assertions))
    store = _superbox(_C2PA, "c2pa", manifest)
    return insert_segments(jpeg(backdrop()), segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + store))


# ---------------------------------------------------------------- the CBOR reader


def test_cbor_reads_every_kind_of_item():
    data = (b"\xa6" + _text("n") + b"\x19\x01\x00" + _text("neg") + b"\x38\x63" + _text("b") + b"\x43abc"
            + _text("a") + b"\x9f\x01\x02\xff" + _text("t") + b"\xc0" + _text("2026-11-28") + _text("f") + _float(1.5))
    value = cbor.loads(data)
    assert isinstance(value, cbor.Pairs)
    assert list(value) == [("n", 256), ("neg", -100), ("b", b"abc"), ("a", [1, 2]), ("t", "2026-11-28"), ("f", 1.5)]


def test_cbor_keeps_a_repeated_key_and_joins_chunked_strings():
    data = b"\xa2" + _text("k") + _text("one") + _text("k") + b"\x7f" + _text("tw") + _text("o") + b"\xff"
    assert list(cbor.loads(data)) == [("k", "one"), ("k", "two")]


@pytest.mark.parametrize("data", [b"\x78\x05ab", b"\x62ab\x00", b"\x1c", b"\x62\xff\xfe", b"\x9b" + b"\xff" * 8,
                                  b"\xa1\x61k", b"\x7f\x01\xff", b"\xff", b""],
                         ids=["cut-text", "trailing", "reserved", "not-utf8", "huge-array", "key-without-value",
                              "chunk-of-other-kind", "lone-break", "empty"])
def test_cbor_that_is_not_well_formed_raises(data):
    with pytest.raises(MetadataError):
        cbor.loads(data)


# ---------------------------------------------------------------- finding and walking the manifests


def test_every_assertion_of_every_manifest_is_found_with_its_label():
    data = _manifest_jpeg(_superbox(_JSON, "stds.exif", _box(b"json", b'{"exif:Make": "Canon"}')),
                          _cbor_assertion("c2pa.actions", _map([(_text("action"), _text("c2pa.created"))])))
    found = c2pa.assertions(data, "JPEG")
    assert [where for where, _ in found] == ["C2PA stds.exif", "C2PA c2pa.actions"]
    assert found[0][1] == ((("exif:Make",), "Canon", True),)


def test_the_four_letters_without_a_description_box_are_not_a_manifest():
    assert c2pa.assertions(b"\x00\x00\x00\x10jumbXXXXjumpjump plain bytes", "") == []


@pytest.mark.parametrize("damage", ["cut-store", "bad-json", "bad-cbor", "short-description", "no-description"])
def test_a_manifest_that_cannot_be_read_raises(damage):
    store = c2pa_store("stds.exif", b'{"exif:GPSLatitude": "53,48.048N"}')
    if damage == "cut-store":
        blob = store[:-6]
    elif damage == "bad-json":
        blob = c2pa_store("stds.exif", b'{"exif:GPSLatitude": ')
    elif damage == "bad-cbor":
        blob = _superbox(_C2PA, "c2pa", _cbor_assertion("stds.exif", b"\xa1" + _text("exif:GPSLatitude")))
    elif damage == "short-description":
        blob = _superbox(_C2PA, "c2pa", _box(b"jumb", _box(b"jumd", b"\x00" * 4) + _box(b"json", b"{}")))
    else:
        blob = _superbox(_C2PA, "c2pa", _box(b"jumb", _box(b"json", b"{}")))  # an inner superbox without one
    with pytest.raises(MetadataError):
        c2pa.assertions(b"\x89PNG" + blob, "PNG")


def test_a_store_split_over_two_app11_segments_is_joined():
    store = c2pa_store("stds.exif", json.dumps({"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W",
                                               "padding": "x" * 200}).encode())
    half = len(store) // 2
    first = segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + store[:half])
    second = segment(0xEB, b"JP" + struct.pack(">HI", 1, 2) + store[:8] + store[half:])  # LBox and TBox repeated
    data = insert_segments(jpeg(backdrop()), first + second)
    (where, claims), = c2pa.claims(tuple(c2pa.assertions(data, "JPEG")))
    assert (round(claims.positions[0].lat, 4), round(claims.positions[0].lon, 4)) == (53.8008, -1.5491)


# ---------------------------------------------------------------- what the checks make of them


def test_gps_in_a_c2pa_assertion_is_a_location_not_an_error(tmp_path, config):
    data = c2pa_jpeg("stds.exif", json.dumps({"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W"}).encode())
    assert _found(tmp_path, config, "gps.jpg", data) == {"location"}


def test_coordinates_as_cbor_numbers_in_a_creativework_are_a_location(tmp_path, config):
    geo = _map([(_text("latitude"), _float(53.8008)), (_text("longitude"), _float(-1.5491))])
    body = _map([(_text("@type"), _text("CreativeWork")), (_text("locationCreated"), _map([(_text("geo"), geo)]))])
    data = _manifest_jpeg(_cbor_assertion("stds.schema-org.CreativeWork", body))
    assert _found(tmp_path, config, "geo.jpg", data) == {"location"}


@pytest.mark.parametrize("payload", [{"exif:GPSAreaInformation": "Headingley"},
                                     {"contentLocation": {"@type": "Place", "name": "Headingley playing fields"}},
                                     {"Iptc4xmpExt:LocationShown": [{"Iptc4xmpExt:City": "Leeds"}]}],
                         ids=["gps-area", "content-location-name", "location-shown"])
def test_a_place_named_in_a_c2pa_assertion_is_a_location(tmp_path, config, payload):
    assert _found(tmp_path, config, "place.jpg", c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps(payload).encode())) \
        == {"location"}


def test_a_latitude_without_its_longitude_is_never_cleared(tmp_path, config):
    data = c2pa_jpeg("stds.exif", b'{"exif:GPSLatitude": "53,48.048N"}')
    assert _found(tmp_path, config, "half.jpg", data) & {"location", "error"}


def test_names_in_a_cbor_assertion_are_text(tmp_path, config):
    body = _map([(_text("@type"), _text("CreativeWork")), (_text("description"), _text(f"{PUPIL} at {ACADEMY}"))])
    assert "text" in _found(tmp_path, config, "names.jpg", _manifest_jpeg(_cbor_assertion("stds.schema-org.CW", body)))


def test_a_cut_off_manifest_is_an_error(tmp_path, config):
    store = c2pa_store("stds.exif", b'{"exif:Make": "Canon"}')
    data = insert_segments(jpeg(backdrop()), segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + store[:-10]))
    assert "error" in _found(tmp_path, config, "cut.jpg", data)


def test_control_an_ordinary_manifest_is_cleared(tmp_path, config):
    """What a camera or an editor writes: the claim, actions with their software, a hash, the
    camera's EXIF without GPS, the photographer as author: nothing to find."""
    actions = _map([(_text("actions"), b"\x81" + _map([(_text("action"), _text("c2pa.created")),
                                                       (_text("softwareAgent"), _text("Adobe Photoshop 25.0")),
                                                       (_text("when"), b"\xc0" + _text("2026-10-01T10:00:00Z"))]))])
    hashed = _map([(_text("alg"), _text("sha256")), (_text("hash"), b"\x58\x20" + bytes(32)),
                   (_text("exclusions"), b"\x81" + _map([(_text("start"), b"\x14"), (_text("length"), b"\x19\x01\x00")]))])
    claim = _map([(_text("claim_generator"), _text("Adobe_Photoshop/25.0 adobe_c2pa/0.7.6")),
                  (_text("dc:format"), _text("image/jpeg")), (_text("signature"), _text("self#jumbf=c2pa.signature"))])
    exif = {"exif:Make": "Canon", "exif:Model": "EOS R6", "exif:DateTimeOriginal": "2026-10-01T10:00:00Z",
            "exif:GPSVersionID": "2.3.0.0"}
    work = {"@context": "https://schema.org", "@type": "CreativeWork",
            "author": [{"@type": "Person", "name": "Jo Bloggs"}]}
    data = _manifest_jpeg(_cbor_assertion("c2pa.actions", actions), _cbor_assertion("c2pa.hash.data", hashed),
                          _superbox(_JSON, "stds.exif", _box(b"json", json.dumps(exif).encode())),
                          _superbox(_JSON, "stds.schema-org.CreativeWork", _box(b"json", json.dumps(work).encode())),
                          _superbox(_CBOR, "c2pa.claim", _box(b"cbor", claim)))
    assert _found(tmp_path, config, "ordinary.jpg", data) == {"cleared"}


def test_clip_names_in_the_c2pa_manifest_of_an_mp4_are_text(tmp_path, config):
    pytest.importorskip("av")
    from .clips import write_clip
    from .test_redteam29 import _clip_kinds

    raw = write_clip(tmp_path / "base.mp4", 1.0).read_bytes()
    store = c2pa_store("stds.schema-org.CreativeWork", json.dumps({"description": f"{PUPIL} at {ACADEMY}"}).encode())
    uuid = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
    path = tmp_path / "c2pa_names.mp4"
    path.write_bytes(raw + _box(b"uuid", uuid + b"\x00" * 4 + b"manifest\x00" + struct.pack(">Q", 0) + store))
    assert "text" in _clip_kinds(path, config)


def test_a_manifest_inside_a_box_the_walk_skips_is_still_read(tmp_path, config):
    """A store whose bytes lie in an embedded-file (`bidb`) box of another superbox: every `jumb` of
    the file is walked from its own start."""
    real = c2pa_store("stds.exif", json.dumps({"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W"}).encode())
    outer = _superbox(bytes.fromhex("6266646200110010800000AA00389B71"), "decoy", _box(b"bidb", b"\x00" * 7 + real))
    data = insert_segments(jpeg(backdrop()), segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + outer))
    assert _found(tmp_path, config, "nested.jpg", data) == {"location"}


@pytest.mark.parametrize("container", ["png", "webp", "gif"])
def test_where_a_store_belongs_something_else_is_an_error(tmp_path, config, container):
    """Raw JSON where the spec puts a store (PNG caBX, WebP 'C2PA', GIF C2PA_GIF): not nothing found."""
    import io

    from PIL import Image

    from .test_redteam29 import _pchunk, _png, _wchunk, _webp

    raw = b'{"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W"}'
    if container == "png":
        data = _png(_pchunk(b"caBX", raw))
    elif container == "webp":
        data = _webp(_wchunk(b"C2PA", raw))
    else:
        out = io.BytesIO()
        Image.fromarray(backdrop()).save(out, "GIF")
        gif = out.getvalue()
        at = 13 + (3 << ((gif[10] & 7) + 1) if gif[10] & 0x80 else 0)
        data = gif[:at] + b"\x21\xff\x0bC2PA_GIF\x01\x00\x00" + bytes([len(raw)]) + raw + b"\x00" + gif[at:]
    assert _found(tmp_path, config, f"raw.{container}", data) == {"error"}


def test_a_pupil_as_the_manifests_author_is_text(tmp_path, config):
    """The maker's keys are read for pupils' names, as EXIF Artist is (formats/credits.py, RT29-24)."""
    work = {"@context": "https://schema.org", "@type": "CreativeWork", "author": [{"@type": "Person", "name": PUPIL}]}
    data = _manifest_jpeg(_superbox(_JSON, "stds.schema-org.CreativeWork", _box(b"json", json.dumps(work).encode())))
    assert "text" in _found(tmp_path, config, "author.jpg", data)

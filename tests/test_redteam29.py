"""Red team 29: what a viewer (exiftool, a Content Credentials inspector, Windows, a DAM, a still-image
reader) shows that the checks never look at, so the file is cleared and published carrying it.

Every file is built here, small, from the helpers of red teams 6 and 9 (stand-in checks: the real
location check, the text check on metadata with an OCR that reads nothing, a pure red square as the
face). A case the product gets wrong is xfail(strict=True) with "RT29-N: what, why it matters, the
fix" in its reason: when a fix lands the test passes, the xfail fails, and the mark must go. Controls
(the same payload where the product looks) are plain tests. What exiftool 12.57 prints for a file is
quoted in its docstring.

Found: a face in the primary item of an animated AVIF, or in the track of an AVIF branded as a still
(RT29-30); an APNG frame past acTL's count (RT29-21); a thumbnail differing in colour only (RT29-27);
GPS in C2PA manifests (RT29-1 to 4), in HEIF thumbnails' and gain maps' EXIF (RT29-23), PNG zxIf
(RT29-11), GeoTIFF tags (RT29-29), two tags or text chunks (RT29-25/26), map links, location codes,
projected and oddly spelt coordinates (RT29-18/19/31/32), rdf:resource and Photoshop URLs (RT29-22/28),
other vocabularies' place fields (RT29-20); names in C2PA, maker notes, EXIF of other types and
directories, TIFF pages, split keywords, blank letters, APPn text segments, Photoshop text layers,
earlier file names, 3GPP clip titles, the photographer's fields, a profile's name (RT29-5 to 17, 24, 33).
Resisted: register and caption name forms (surname first, titles, accents, Turkish I, O'/Mc, hashtags,
invisible joiners, NBSP and other spaces), EXIF GPS in odd types and pointers, GPS in C2PA thumbnails'
and every embedded picture's EXIF, Apple/Waze/HERE/geo: links, photo-named sidecars, a web upload with
its sidecar, --into inside the inbox, a clip's top-level udta."""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from .test_redteam6 import backdrop, config, gps_exif, insert_segments, jpeg, kinds, segment, verdict, with_face  # noqa: F401
from .test_redteam9 import ACADEMY, PUPIL, ascii_, photoshop_iptc, rational, short, tiff_block

GPS = {1: ascii_("N"), 2: rational(53, 48, 2.88), 3: ascii_("W"), 4: rational(1, 32, 56.76)}  # the trust's site


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _found(tmp_path, config, name: str, data: bytes) -> set[str]:  # noqa: F811
    """The reason kinds of the file's verdict; 'cleared' when there are none."""
    _, d = verdict(_write(tmp_path, name, data), config)
    return kinds(d) or {"cleared"}


def _exif(ifd0: dict, exif_ifd: dict | None = None, chain: dict | None = None) -> bytes:
    ifds = {"ifd0": dict(ifd0)}
    if exif_ifd:
        ifds["ifd0"][0x8769] = ("ifd", "exif")
        ifds["exif"] = exif_ifd
    ifds.update(chain or {})
    return b"Exif\x00\x00" + tiff_block(ifds, ["ifd0", *(chain or {})])


# ================================================================ C2PA (Content Credentials) manifests

_JSON = bytes.fromhex("6A736F6E00110010800000AA00389B71")  # JUMBF content type: JSON
_C2PA = bytes.fromhex("6332706100110010800000AA00389B71")  # JUMBF content type: a C2PA store


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body) + 8) + kind + body


def _superbox(uuid: bytes, label: str, *content: bytes) -> bytes:
    return _box(b"jumb", _box(b"jumd", uuid + b"\x03" + label.encode() + b"\x00") + b"".join(content))


def c2pa_store(label: str, payload: bytes) -> bytes:
    """A C2PA store holding one JSON assertion (as c2patool writes stds.exif, stds.schema-org.*)."""
    return _superbox(_C2PA, "c2pa", _superbox(_JSON, label, _box(b"json", payload)))


def c2pa_jpeg(label: str, payload: bytes) -> bytes:
    """A plain JPEG with the store in an APP11 JUMBF segment (ISO 19566-5: 'JP', box instance, sequence)."""
    return insert_segments(jpeg(backdrop()), segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + c2pa_store(label, payload)))


def test_rt29_control_gps_latitude_in_a_c2pa_exif_assertion_is_never_cleared(tmp_path, config):
    data = c2pa_jpeg("stds.exif", json.dumps({"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W"}).encode())
    assert _found(tmp_path, config, "c2pa_gps.jpg", data) & {"location", "error"}


# RT29-1: fixed
def test_rt29_1_gps_destination_in_a_c2pa_exif_assertion_is_not_cleared(tmp_path, config):
    """exiftool: [JSON] ExifGPSDestLatitude : 53,48.048N / ExifGPSDestLongitude : 1,32.946W"""
    data = c2pa_jpeg("stds.exif", json.dumps({"exif:GPSDestLatitude": "53,48.048N",
                                              "exif:GPSDestLongitude": "1,32.946W"}).encode())
    assert _found(tmp_path, config, "c2pa_dest.jpg", data) & {"location", "error"}


_CBOR = bytes.fromhex("63626F7200110010800000AA00389B71")  # JUMBF content type: CBOR (most C2PA assertions)


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 24
    return bytes([0x60 + len(raw)]) + raw


def _cbor_chunked(*parts: str) -> bytes:
    """A CBOR text string of indefinite length: its chunks, which a decoder joins."""
    return b"\x7f" + b"".join(_cbor_text(p) for p in parts) + b"\xff"


def _c2pa_escaped(form: str) -> bytes:
    if form == "json-escapes":
        return c2pa_jpeg("stds.exif", b'{"exif:GPS\\u004catitude": "53,48.048N", "exif:GPS\\u004congitude": "1,32.946W"}')
    cbor = (b"\xa2" + _cbor_chunked("exif:GPSLat", "itude") + _cbor_text("53,48.048N")
            + _cbor_chunked("exif:GPSLon", "gitude") + _cbor_text("1,32.946W"))
    store = _superbox(_C2PA, "c2pa", _superbox(_CBOR, "stds.exif", _box(b"cbor", cbor)))
    return insert_segments(jpeg(backdrop()), segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + store))


# RT29-2: fixed
@pytest.mark.parametrize("form", ["json-escapes", "cbor-chunks"])
def test_rt29_2_gps_in_a_c2pa_assertion_with_encoded_keys_is_not_cleared(tmp_path, config, form):
    """exiftool: [JSON] (or [CBOR]) ExifGPSLatitude : 53,48.048N / ExifGPSLongitude : 1,32.946W"""
    assert _found(tmp_path, config, f"c2pa_{form}.jpg", _c2pa_escaped(form)) & {"location", "error"}


# RT29-3: fixed
def test_rt29_3_coordinates_in_a_c2pa_creativework_content_location_are_not_cleared(tmp_path, config):
    """exiftool: [JSON] ContentLocationGeoLatitude : 53.8008 / ContentLocationGeoLongitude : -1.5491"""
    data = c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps({
        "@context": "https://schema.org", "@type": "CreativeWork",
        "contentLocation": {"@type": "Place", "geo": {"@type": "GeoCoordinates",
                                                      "latitude": 53.8008, "longitude": -1.5491}}}).encode())
    assert _found(tmp_path, config, "c2pa_geo.jpg", data) & {"location", "error"}


def _webp(*chunks: bytes) -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "WEBP", lossless=True)
    body = b"WEBP" + out.getvalue()[12:] + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _wchunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) % 2)


def _png(*chunks: bytes, before_idat: bool = False) -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG")
    data = out.getvalue()
    at = data.index(b"IDAT") - 4 if before_idat else data.index(b"IEND") - 4
    return data[:at] + b"".join(chunks) + data[at:]


def _pchunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


_GPS_JSON = json.dumps({"exif:GPSLatitude": "53,48.048N", "exif:GPSLongitude": "1,32.946W"}).encode()


def test_rt29_control_gps_in_a_c2pa_manifest_of_a_png_is_never_cleared(tmp_path, config):
    data = _png(_pchunk(b"caBX", c2pa_store("stds.exif", _GPS_JSON)))
    assert _found(tmp_path, config, "c2pa.png", data) & {"location", "error"}


def _c2pa_in(container: str) -> bytes:
    """The GPS store of the PNG control embedded as the C2PA 2.x spec embeds it in each container."""
    store = c2pa_store("stds.exif", _GPS_JSON)
    if container == "webp":
        return _webp(_wchunk(b"C2PA", store))
    if container == "tiff":
        return _tiff_pages({0xCD41: (7, len(store), store)})
    if container == "gif":
        out = io.BytesIO()
        Image.fromarray(backdrop()).save(out, "GIF")
        gif = out.getvalue()
        blocks = b"".join(bytes([len(store[i:i + 255])]) + store[i:i + 255] for i in range(0, len(store), 255))
        at = 13 + (3 << ((gif[10] & 7) + 1) if gif[10] & 0x80 else 0)  # after the header and global colour table
        return gif[:at] + b"\x21\xff\x0b" + b"C2PA_GIF" + b"\x01\x00\x00" + blocks + b"\x00" + gif[at:]
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, container.upper())
    uuid = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # C2PA's BMFF box
    return out.getvalue() + _box(b"uuid", uuid + b"\x00" * 4 + b"manifest\x00" + struct.pack(">Q", 0) + store)


# RT29-4: fixed
@pytest.mark.parametrize("container", ["webp", "tiff", "heif", "avif", "gif"])
def test_rt29_4_gps_in_the_c2pa_manifest_of_other_containers_is_not_cleared(tmp_path, config, container):
    """The same store that makes the PNG control an error (exiftool 12.57 reads none of these; c2patool does)."""
    assert _found(tmp_path, config, f"c2pa.{container}", _c2pa_in(container)) & {"location", "error"}


# RT29-5: fixed
def test_rt29_5_names_in_a_c2pa_creativework_assertion_are_not_cleared(tmp_path, config):
    """exiftool: [JSON] About : Trinity North Academy sports day / Description : Amelia Hart, 100 m"""
    data = c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps({
        "@context": "https://schema.org", "@type": "CreativeWork",
        "about": f"{ACADEMY} sports day", "description": f"{PUPIL}, 100 m"}).encode())
    assert _found(tmp_path, config, "c2pa_names.jpg", data) & {"text", "error"}


# ================================================================ maker notes (Panasonic), shown by exiftool


def panasonic_exif(entries: dict[int, tuple[int, int, bytes]]) -> bytes:
    """EXIF whose Exif IFD holds a Panasonic maker note ('Panasonic\\0\\0\\0' + an IFD whose offsets
    count from the TIFF header, as Lumix cameras write it)."""
    head = b"Panasonic\x00\x00\x00"

    def note(at: int) -> bytes:
        data_at = at + len(head) + 2 + 12 * len(entries) + 4
        ifd, data = struct.pack("<H", len(entries)), b""
        for tag, (kind, count, raw) in sorted(entries.items()):
            if len(raw) > 4:
                ifd += struct.pack("<HHII", tag, kind, count, data_at + len(data))
                data += raw + b"\x00" * (len(raw) % 2)
            else:
                ifd += struct.pack("<HHI", tag, kind, count) + raw.ljust(4, b"\x00")
        return head + ifd + b"\x00\x00\x00\x00" + data

    def block(mn: bytes) -> bytes:
        return tiff_block({"ifd0": {0x0112: short(1), 0x8769: ("ifd", "exif")}, "exif": {0x927C: (7, len(mn), mn)}},
                          ["ifd0"])

    at = block(note(0)).index(head)  # where the note lands (its size does not depend on `at`)
    out = block(note(at))
    assert out.index(head) == at
    return b"Exif\x00\x00" + out


# RT29-6: fixed (was a strict xfail)
def test_rt29_6_a_pupils_name_in_a_panasonic_maker_note_is_not_cleared(tmp_path, config):
    """exiftool: [Panasonic] BabyName : Amelia Hart"""
    data = jpeg(backdrop(), exif=panasonic_exif({0x0066: ascii_(PUPIL, 7)}))
    assert _found(tmp_path, config, "lumix_baby.jpg", data) & {"text", "error"}


# RT29-7: fixed (was a strict xfail)
def test_rt29_7_place_names_in_a_panasonic_maker_note_are_not_cleared(tmp_path, config):
    """exiftool: [Panasonic] City : Leeds / Landmark : Trinity North Academy"""
    data = jpeg(backdrop(), exif=panasonic_exif({0x006D: ascii_("Leeds", 7), 0x006F: ascii_(ACADEMY, 7)}))
    assert _found(tmp_path, config, "lumix_place.jpg", data) & {"location", "text", "error"}


# ================================================================ EXIF text where the readers do not look


def test_rt29_control_a_pupils_name_in_the_ascii_image_description_is_read(tmp_path, config):
    data = jpeg(backdrop(), exif=_exif({0x010E: ascii_(f"{PUPIL} at sports day")}))
    assert "text" in _found(tmp_path, config, "desc.jpg", data)


# RT29-8: fixed (was a strict xfail)
def test_rt29_8_a_pupils_name_in_an_image_description_of_type_undefined_is_not_cleared(tmp_path, config):
    """exiftool: [IFD0] ImageDescription : Amelia Hart at sports day"""
    data = jpeg(backdrop(), exif=_exif({0x010E: ascii_(f"{PUPIL} at sports day", 7)}))
    assert _found(tmp_path, config, "desc_undefined.jpg", data) & {"text", "error"}


# RT29-9: fixed (was a strict xfail)
def test_rt29_9_a_pupils_name_in_the_image_description_of_ifd1_is_not_cleared(tmp_path, config):
    """exiftool: [IFD1] ImageDescription : Amelia Hart at sports day"""
    data = jpeg(backdrop(), exif=_exif({0x0112: short(1)},
                                       chain={"ifd1": {0x010E: ascii_(f"{PUPIL} at sports day")}}))
    assert _found(tmp_path, config, "desc_ifd1.jpg", data) & {"text", "error"}


def _tiff_pages(*extras: dict) -> bytes:
    """An uncompressed RGB TIFF with one page per `extras` (tags added to that page's directory)."""
    px = np.ascontiguousarray(backdrop((64, 48)))
    h, w = px.shape[:2]
    ifds, blobs = {}, {}
    for i, extra in enumerate(extras):
        blobs[f"s{i}"] = px.tobytes()
        ifds[f"p{i}"] = {256: short(w), 257: short(h), 258: short(8, 8, 8), 259: short(1), 262: short(2),
                         273: ("blob", f"s{i}"), 277: short(3), 278: short(h), 279: ("size", f"s{i}"), **extra}
    return tiff_block(ifds, list(ifds), blobs)


def test_rt29_control_a_pupils_name_in_the_first_pages_description_of_a_tiff_is_read(tmp_path, config):
    data = _tiff_pages({0x010E: ascii_(f"{PUPIL} at sports day")}, {})
    assert "text" in _found(tmp_path, config, "page1.tif", data)


# RT29-10: fixed (was a strict xfail)
def test_rt29_10_a_pupils_name_in_the_second_pages_description_of_a_tiff_is_not_cleared(tmp_path, config):
    """exiftool: [IFD1] ImageDescription : Amelia Hart at sports day"""
    data = _tiff_pages({}, {0x010E: ascii_(f"{PUPIL} at sports day")})
    assert _found(tmp_path, config, "page2.tif", data) & {"text", "error"}


# ================================================================ PNG zxIf: compressed EXIF


def test_rt29_control_gps_in_a_png_exif_chunk_is_found(tmp_path, config):
    data = _png(_pchunk(b"eXIf", gps_exif()[6:]), before_idat=True)
    assert "location" in _found(tmp_path, config, "exif.png", data)


# RT29-11: fixed (was a strict xfail)
def test_rt29_11_gps_in_a_png_zxif_chunk_is_not_cleared(tmp_path, config):
    """exiftool: [GPS] GPSLatitude : 53 deg 48' 2.88\" ... GPSPosition : 53 deg 48' 2.88\" N, 1 deg 32' 56.76\" W"""
    exif = gps_exif()[6:]
    data = _png(_pchunk(b"zxIf", b"\x00" + struct.pack(">I", len(exif)) + zlib.compress(exif)), before_idat=True)
    assert _found(tmp_path, config, "zxif.png", data) & {"location", "error"}


# ================================================================ names split or spaced so the reader misses them


def _xmp_jpeg(body: bytes) -> bytes:
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' + body
              + b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    return insert_segments(jpeg(backdrop()), segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet))


def test_rt29_control_a_pupils_name_as_one_keyword_is_read(tmp_path, config):
    data = _xmp_jpeg(b"<dc:subject><rdf:Bag><rdf:li>Amelia Hart</rdf:li></rdf:Bag></dc:subject>")
    assert "text" in _found(tmp_path, config, "keyword.jpg", data)


# RT29-12: fixed (was a strict xfail)
@pytest.mark.parametrize("where", ["xmp", "iptc"])
def test_rt29_12_a_pupils_forename_and_surname_as_two_keywords_are_not_cleared(tmp_path, config, where):
    """exiftool: [XMP-dc] Subject : Amelia, Hart / [IPTC] Keywords : Amelia, Hart"""
    if where == "xmp":
        data = _xmp_jpeg(b"<dc:subject><rdf:Bag><rdf:li>Amelia</rdf:li><rdf:li>Hart</rdf:li></rdf:Bag></dc:subject>")
    else:
        data = insert_segments(jpeg(backdrop()), photoshop_iptc((25, b"Amelia"), (25, b"Hart")))
    assert _found(tmp_path, config, f"keywords_{where}.jpg", data) & {"text", "error"}


# RT29-13: fixed (was a strict xfail)
@pytest.mark.parametrize("blank", ["\u3164", "\uffa0", "\u115f"])
def test_rt29_13_a_pupils_name_spaced_by_a_blank_letter_is_not_cleared(tmp_path, config, blank):
    data = jpeg(backdrop(), exif=_exif({0x010E: ascii_(f"Amelia{blank}Hart")}))
    assert _found(tmp_path, config, f"blank_{ord(blank):04x}.jpg", data) & {"text", "error"}


def test_rt29_control_a_pupils_name_spaced_by_an_em_space_is_read(tmp_path, config):
    data = jpeg(backdrop(), exif=_exif({0x010E: ascii_("Amelia\u2003Hart")}))
    assert "text" in _found(tmp_path, config, "emspace.jpg", data)


# ================================================================ JPEG APPn text segments exiftool decodes


def _app_text_segment(kind: str) -> bytes:
    text = f"{PUPIL} at sports day"
    if kind == "ducky":  # APP12 'Ducky' (Photoshop/ImageReady Save for Web): Quality, then Comment in UTF-16
        raw = text.encode("utf-16-be")
        body = b"Ducky" + struct.pack(">HHI", 1, 4, 60) + struct.pack(">HHI", 2, len(raw) + 4, len(text)) + raw + b"\x00\x00"
        return segment(0xEC, body)
    if kind == "pictureinfo":  # APP12 'PictureInfo' (Olympus, Agfa, Epson, Toshiba cameras' text block)
        return segment(0xEC, f"[picture info]\r\nTimeDate=966900000\r\nTitle={text}\r\n[end]\r\n\x00".encode())
    # APP9 'Media Jukebox' (J. River Media Center's tags: Name, Album, People, Keywords)
    return segment(0xE9, b"Media Jukebox" + b"\x00" * 8 + f"<MJMD><Name>x</Name><People>{PUPIL}</People></MJMD>".encode())


def test_rt29_control_a_pupils_name_in_a_jpeg_comment_is_read(tmp_path, config):
    data = insert_segments(jpeg(backdrop()), segment(0xFE, f"{PUPIL} at sports day".encode()))
    assert "text" in _found(tmp_path, config, "comment.jpg", data)


# RT29-14: fixed (was a strict xfail)
@pytest.mark.parametrize("kind", ["ducky", "pictureinfo", "mediajukebox"])
def test_rt29_14_a_pupils_name_in_an_appn_text_segment_is_not_cleared(tmp_path, config, kind):
    """exiftool: [Ducky] Comment / [PictureInfo] Title / [MediaJukebox] People : Amelia Hart ..."""
    data = insert_segments(jpeg(backdrop()), _app_text_segment(kind))
    assert _found(tmp_path, config, f"{kind}.jpg", data) & {"text", "error"}


# ================================================================ XMP that says what the picture shows, skipped as "how it was made"


def _xmp_ns_jpeg(body: bytes, ns: bytes) -> bytes:
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about=""' + ns + b'>' + body + b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    return insert_segments(jpeg(backdrop()), segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet))


_PS_NS = b' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
_MM_NS = (b' xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
          b' xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#"')


def test_rt29_control_a_pupils_name_in_the_photoshop_headline_is_read(tmp_path, config):
    data = _xmp_ns_jpeg(b"<photoshop:Headline>Well done Amelia Hart!</photoshop:Headline>", _PS_NS)
    assert "text" in _found(tmp_path, config, "headline.jpg", data)


# RT29-15: fixed (was a strict xfail)
def test_rt29_15_a_pupils_name_in_a_photoshop_text_layer_is_not_cleared(tmp_path, config):
    """exiftool: [XMP-photoshop] TextLayerName : Amelia Hart / TextLayerText : Well done Amelia Hart!"""
    data = _xmp_ns_jpeg(b'<photoshop:TextLayers><rdf:Seq><rdf:li photoshop:LayerName="Amelia Hart" '
                        b'photoshop:LayerText="Well done Amelia Hart!"/></rdf:Seq></photoshop:TextLayers>', _PS_NS)
    assert _found(tmp_path, config, "poster.jpg", data) & {"text", "error"}


def test_rt29_control_a_pupils_name_in_the_files_own_name_is_read(tmp_path, config):
    assert "text" in _found(tmp_path, config, "Amelia Hart - Year 4.jpg", jpeg(backdrop()))


# RT29-16: fixed (was a strict xfail)
@pytest.mark.parametrize("body", [b"<xmpMM:PreservedFileName>Amelia Hart - Year 4.jpg</xmpMM:PreservedFileName>",
                                  b'<xmpMM:DerivedFrom stRef:filePath="/Users/office/Amelia Hart - Year 4.psd"/>'],
                         ids=["preserved", "derived"])
def test_rt29_16_a_pupils_name_in_the_files_earlier_name_is_not_cleared(tmp_path, config, body):
    """exiftool: [XMP-xmpMM] PreservedFileName : Amelia Hart - Year 4.jpg"""
    assert _found(tmp_path, config, "IMG_0042.jpg", _xmp_ns_jpeg(body, _MM_NS)) & {"text", "error"}


# ================================================================ a clip's 3GPP user data (TS 26.244), shown by exiftool and phones


def _clip_with_udta(tmp_path, name: str, child: bytes):
    """A 1 s MP4 (moov last, as PyAV writes it) with one more `udta` box in its `moov`."""
    pytest.importorskip("av")
    from .clips import write_clip

    raw = write_clip(tmp_path / "base.mp4", 1.0).read_bytes()
    at, boxes = 0, {}
    while at < len(raw):
        (size,) = struct.unpack_from(">I", raw, at)
        boxes[raw[at + 4:at + 8]] = (at, size)
        at += size
    moov_at, moov_size = boxes[b"moov"]
    assert moov_at + moov_size == len(raw)
    udta = _box(b"udta", child)
    data = bytearray(raw + udta)
    struct.pack_into(">I", data, moov_at, moov_size + len(udta))
    return _write(tmp_path, name, bytes(data))


def _clip_kinds(path, config) -> set[str]:  # noqa: F811
    _, d = verdict(path, config)
    return kinds(d) or {"cleared"}


_CLIP_TEXT = f"{PUPIL} at {ACADEMY}"


def test_rt29_control_a_pupils_name_in_a_clips_quicktime_title_is_read(tmp_path, config):
    text = _CLIP_TEXT.encode()
    path = _clip_with_udta(tmp_path, "titled.mp4", _box(b"\xa9nam", struct.pack(">HH", len(text), 0x55C4) + text))
    assert "text" in _clip_kinds(path, config)


# RT29-17: fixed (was a strict xfail)
@pytest.mark.parametrize("atom", ["titl", "dscp", "kywd"])
def test_rt29_17_a_pupils_name_in_a_clips_3gpp_title_description_or_keywords_is_not_cleared(tmp_path, config, atom):
    """exiftool: [UserData] Title : Amelia Hart at Trinity North Academy (Description, Keywords alike)"""
    text = _CLIP_TEXT.encode()
    head = b"\x00\x00\x00\x00" + struct.pack(">H", 0x15C7)  # version/flags, language 'eng'
    body = head + (b"\x01" + bytes([len(text) + 1]) + text + b"\x00" if atom == "kywd" else text + b"\x00")
    path = _clip_with_udta(tmp_path, f"{atom}.mp4", _box(atom.encode(), body))
    assert _clip_kinds(path, config) & {"text", "error"}


# ================================================================ the trust's site written in captions in forms coordtext does not parse

_DC_NS = b' xmlns:dc="http://purl.org/dc/elements/1.1/"'


def _described(text: str) -> bytes:
    return _xmp_ns_jpeg(b"<dc:description>" + text.replace("&", "&amp;").encode() + b"</dc:description>", _DC_NS)


@pytest.mark.parametrize("text", ["https://www.google.com/maps?q=53.8008,-1.5491",
                                  "https://www.openstreetmap.org/?mlat=53.8008&mlon=-1.5491#map=18/53.8008/-1.5491",
                                  "https://www.google.com/maps/search/?api=1&query=53.8008%2C-1.5491"])
def test_rt29_control_map_links_coordtext_knows_are_a_location(tmp_path, config, text):
    assert "location" in _found(tmp_path, config, "link.jpg", _described(text))


# RT29-18: fixed
@pytest.mark.parametrize("text", ["https://www.openstreetmap.org/#map=18/53.80080/-1.54910",
                                  "https://www.google.com/maps/place/x/data=!3m1!4b1!4m6!3m5!1s0x0:0x0!8m2!3d53.8008!4d-1.5491",
                                  "https://www.bing.com/maps?cp=53.8008~-1.5491&lvl=16"],
                         ids=["osm-map", "google-3d4d", "bing-cp"])
def test_rt29_18_the_sites_coordinates_in_other_map_links_are_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "link.jpg", _described(text)) & {"location", "error"}


def _plus_code(lat: float, lon: float) -> str:
    """Open Location Code (Google Maps' 'plus code') of a point, 10 digits (about 14 m)."""
    digits, code, res = "23456789CFGHJMPQRVWX", "", 20.0
    lat, lon = lat + 90, lon + 180
    for _ in range(5):
        a, b = int(lat // res), int(lon // res)
        code += digits[a] + digits[b]
        lat, lon, res = lat - a * res, lon - b * res, res / 20
        if len(code) == 8:
            code += "+"
    return code


# RT29-19: fixed
@pytest.mark.parametrize("text", [f"Meet at {_plus_code(53.8008, -1.5491)}", "Meet at ///filled.count.soap",
                                  "https://w3w.co/filled.count.soap", "geohash gcwfhf0y2"],
                         ids=["plus-code", "what3words", "w3w-link", "geohash"])
def test_rt29_19_the_site_written_as_a_location_code_is_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "code.jpg", _described(text)) & {"location", "error"}


# RT29-20: fixed
@pytest.mark.parametrize("body,ns", [
    (b"<mediapro:City>Leeds</mediapro:City>", b' xmlns:mediapro="http://ns.iview-multimedia.com/mediapro/1.0/"'),
    (b"<mediapro:Location>Headingley playing fields</mediapro:Location>",
     b' xmlns:mediapro="http://ns.iview-multimedia.com/mediapro/1.0/"'),
    (b"<Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType='Resource'><Iptc4xmpExt:LocationId>"
     b"https://www.openstreetmap.org/way/123456</Iptc4xmpExt:LocationId></rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>",
     b' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"')], ids=["mediapro-city", "mediapro-location",
                                                                                "location-id"])
def test_rt29_20_place_fields_of_other_vocabularies_are_not_cleared(tmp_path, config, body, ns):
    assert _found(tmp_path, config, "place.jpg", _xmp_ns_jpeg(body, ns)) & {"location", "error"}


def test_rt29_control_photoshop_city_is_a_location(tmp_path, config):
    data = _xmp_ns_jpeg(b"<photoshop:City>Leeds</photoshop:City>", _PS_NS)
    assert "location" in _found(tmp_path, config, "city.jpg", data)


# ================================================================ pictures: an APNG frame past the count its header gives


def _apng_chunks(count: int | None) -> bytes:
    """A two-frame APNG, the stand-in face in the second frame only; `count` overrides acTL's num_frames."""
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", save_all=True, append_images=[Image.fromarray(with_face())],
                                     duration=1000)
    data, at, chunks = out.getvalue(), 8, []
    while at < len(data):
        (size,) = struct.unpack_from(">I", data, at)
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + size]
        if kind == b"acTL" and count is not None:
            body = struct.pack(">II", count, 0)
        chunks.append(_pchunk(kind, body))
        at += 12 + size
    return data[:8] + b"".join(chunks)


def test_rt29_control_a_face_in_the_second_frame_of_an_apng_is_found(tmp_path, config):
    assert "unknown_face" in _found(tmp_path, config, "two.png", _apng_chunks(None))


# RT29-21: fixed (was a strict xfail)
def test_rt29_21_an_apng_frame_past_the_count_in_actl_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "one_of_two.png", _apng_chunks(1)) != {"cleared"}


# ================================================================ Photoshop's URL resource (File Info 'URL'), shown by exiftool


def _photoshop_url(url: bytes) -> bytes:
    """A JPEG whose APP13 'Photoshop 3.0' holds image resource 0x040B (URL)."""
    res = b"8BIM" + struct.pack(">H", 0x040B) + b"\x00\x00" + struct.pack(">I", len(url)) + url + b"\x00" * (len(url) % 2)
    return insert_segments(jpeg(backdrop()), segment(0xED, b"Photoshop 3.0\x00" + res))


def test_rt29_control_the_same_map_link_in_the_iptc_caption_is_a_location(tmp_path, config):
    data = insert_segments(jpeg(backdrop()), photoshop_iptc((120, b"https://www.google.com/maps?q=53.8008,-1.5491")))
    assert "location" in _found(tmp_path, config, "iptc_link.jpg", data)


# RT29-22: fixed (was a strict xfail)
@pytest.mark.parametrize("url,kind", [(b"https://www.google.com/maps?q=53.8008,-1.5491", "location"),
                                      (b"https://example.sch.uk/news/amelia-hart-wins-county-100m", "text")],
                         ids=["map-link", "pupils-name"])
def test_rt29_22_photoshops_url_resource_is_read(tmp_path, config, url, kind):
    """exiftool: [Photoshop] URL : https://www.google.com/maps?q=53.8008,-1.5491"""
    assert _found(tmp_path, config, "ps_url.jpg", _photoshop_url(url)) & {kind, "error"}


# ================================================================ HEIF: EXIF of an image that is not a top-level image


def _heic_second_with_gps(relation: str | None) -> bytes:
    """A HEIC whose second image carries EXIF GPS (its own Exif item, `cdsc` to it), made the first
    image's thumbnail or HDR gain map (tests/heif_boxes.relate), or left a top-level image."""
    pillow_heif = pytest.importorskip("pillow_heif")
    from .heif_boxes import relate

    heif = pillow_heif.from_pillow(Image.fromarray(backdrop()))
    heif.add_from_pillow(Image.fromarray(backdrop((160, 120))))
    heif[1].info["exif"] = gps_exif()
    out = io.BytesIO()
    heif.save(out, quality=90)
    data = out.getvalue()
    if relation == "thumbnail":
        return relate(data, "thmb")
    if relation == "gain map":
        return relate(data, "auxl", "urn:com:apple:photo:2020:aux:hdrgainmap")
    return data


def test_rt29_control_gps_in_the_exif_of_a_second_top_level_heif_image_is_found(tmp_path, config):
    assert "location" in _found(tmp_path, config, "second.heic", _heic_second_with_gps(None))


# RT29-23: fixed
@pytest.mark.parametrize("relation", ["thumbnail", "gain map"])
def test_rt29_23_gps_in_the_exif_of_a_heif_thumbnail_or_gain_map_is_not_cleared(tmp_path, config, relation):
    """exiftool: [GPS] GPSLatitude : 53 deg 48' 2.88\" (and the rest of the site's position)"""
    data = _heic_second_with_gps(relation)
    assert _found(tmp_path, config, "related.heic", data) & {"location", "error"}


# ================================================================ a pupil as the photographer


# RT29-24: fixed (was a strict xfail)
@pytest.mark.parametrize("where", ["artist", "xpauthor", "dc-creator", "iptc-byline"])
def test_rt29_24_a_pupil_named_as_the_photographer_is_not_cleared(tmp_path, config, where):
    """exiftool: [IFD0] Artist : Amelia Hart (XPAuthor, Creator, By-line alike)"""
    if where == "artist":
        data = jpeg(backdrop(), exif=_exif({0x013B: ascii_(PUPIL)}))
    elif where == "xpauthor":
        raw = (PUPIL + "\x00").encode("utf-16-le")
        data = jpeg(backdrop(), exif=_exif({0x9C9D: (1, len(raw), raw)}))
    elif where == "dc-creator":
        data = _xmp_jpeg(b"<dc:creator><rdf:Seq><rdf:li>Amelia Hart</rdf:li></rdf:Seq></dc:creator>")
    else:
        data = insert_segments(jpeg(backdrop()), photoshop_iptc((80, PUPIL.encode())))
    assert _found(tmp_path, config, f"by_{where}.jpg", data) & {"text", "error"}


# ================================================================ a clip's position in two tags


def _tagged_clip(tmp_path, name: str, tags: dict[str, str]):
    pytest.importorskip("av")
    from .clips import write_clip

    return write_clip(tmp_path / name, 1.0, metadata=tags)


def test_rt29_control_a_clips_position_in_one_tag_is_a_location(tmp_path, config):
    path = _tagged_clip(tmp_path, "one_tag.mkv", {"COORDINATES": "53.8008, -1.5491"})
    assert "location" in _clip_kinds(path, config)


# RT29-25: fixed
@pytest.mark.parametrize("tags", [{"LATITUDE": "53.8008", "LONGITUDE": "-1.5491"},
                                  {"GPS_LATITUDE": "53.8008", "GPS_LONGITUDE": "-1.5491"}], ids=["plain", "gps-prefix"])
def test_rt29_25_a_clips_position_in_two_tags_is_not_cleared(tmp_path, config, tags):
    """exiftool: [Matroska] Latitude : 53.8008 / Longitude : -1.5491"""
    assert _clip_kinds(_tagged_clip(tmp_path, "two_tags.mkv", tags), config) & {"location", "error"}


def test_rt29_control_a_position_in_one_png_text_chunk_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "one.png", _png(_pchunk(b"tEXt", b"GPS\x0053.8008, -1.5491")))


# RT29-26: fixed
@pytest.mark.parametrize("kind,keys", [(b"tEXt", (b"Latitude", b"Longitude")), (b"iTXt", (b"GPSLatitude", b"GPSLongitude"))])
def test_rt29_26_a_pngs_position_in_two_text_chunks_is_not_cleared(tmp_path, config, kind, keys):
    extra = b"\x00\x00\x00\x00" if kind == b"iTXt" else b""  # iTXt: compression flag, method, language, translated
    chunks = [_pchunk(kind, key + b"\x00" + extra + value) for key, value in zip(keys, (b"53.8008", b"-1.5491"))]
    assert _found(tmp_path, config, "two.png", _png(*chunks)) & {"location", "error"}


# RT29-4 (clip): fixed
def test_rt29_4_gps_in_the_c2pa_manifest_of_an_mp4_is_not_cleared(tmp_path, config):
    pytest.importorskip("av")
    from .clips import write_clip

    raw = write_clip(tmp_path / "base.mp4", 1.0).read_bytes()
    uuid = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
    store = c2pa_store("stds.exif", _GPS_JSON)
    path = _write(tmp_path, "c2pa.mp4", raw + _box(b"uuid", uuid + b"\x00" * 4 + b"manifest\x00" + struct.pack(">Q", 0) + store))
    assert _clip_kinds(path, config) & {"location", "error"}


# ================================================================ a thumbnail differing from the photo in colour only


def _photo_and_thumbnail(thumb_red: int, grey: int) -> bytes:
    """A photo of a grey checker (grey +-15) whose EXIF thumbnail is its copy with a red square (the
    stand-in face) of `thumb_red` in red only: at grey 76 and red 255 the square has the grey of what
    it covers, so only its colour differs."""
    from .test_redteam6 import exif_with_thumbnail

    ys, xs = np.mgrid[0:240, 0:320]
    checker = ((xs // 20 + ys // 20) % 2 * 30).astype(int) - 15
    main = np.clip(grey + checker, 0, 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    thumb = main[::2, ::2].copy()
    thumb[40:80, 60:100] = (thumb_red, 0, 0)
    return jpeg(main, exif=exif_with_thumbnail(jpeg(thumb)))


def test_rt29_control_a_red_square_brighter_than_the_photo_in_its_thumbnail_is_found(tmp_path, config):
    assert "unknown_face" in _found(tmp_path, config, "thumb_bright.jpg", _photo_and_thumbnail(255, 150))


# RT29-27: fixed (was a strict xfail)
def test_rt29_27_a_thumbnail_differing_only_in_colour_is_screened(tmp_path, config):
    assert _found(tmp_path, config, "thumb_colour.jpg", _photo_and_thumbnail(255, 76)) != {"cleared"}


# ================================================================ XMP values written as rdf:resource


def test_rt29_control_a_map_link_as_an_xmp_text_value_is_a_location(tmp_path, config):
    data = _xmp_ns_jpeg(b"<dc:source>https://www.google.com/maps?q=53.8008,-1.5491</dc:source>", _DC_NS)
    assert "location" in _found(tmp_path, config, "source_text.jpg", data)


# RT29-28: fixed (was a strict xfail)
@pytest.mark.parametrize("body,kind", [
    (b'<dc:source rdf:resource="https://www.google.com/maps?q=53.8008,-1.5491"/>', "location"),
    (b'<dc:relation rdf:resource="https://example.sch.uk/news/amelia-hart-wins-county-100m"/>', "text")],
    ids=["map-link", "pupils-name"])
def test_rt29_28_a_link_written_as_rdf_resource_is_read(tmp_path, config, body, kind):
    """exiftool: [XMP-dc] Source : https://www.google.com/maps?q=53.8008,-1.5491"""
    assert _found(tmp_path, config, "resource.jpg", _xmp_ns_jpeg(body, _DC_NS)) & {kind, "error"}


# ================================================================ GeoTIFF: a drone map of the school


def _geotiff(tie: tuple[float, ...], model_type: int = 2, crs: int = 4326) -> bytes:
    """A TIFF georeferenced as GIS tools and drone photogrammetry write it: its top-left pixel at
    `tie` (ModelTiepointTag 33922), a pixel size (33550), a GeoKey directory (34735) naming the
    coordinate system (2 geographic WGS 84, or 1 projected: 27700 British National Grid)."""
    keys = struct.pack("<16H", 1, 1, 0, 3, 1024, 0, 1, model_type, 1025, 0, 1, 1,
                       2048 if model_type == 2 else 3072, 0, 1, crs)
    return _tiff_pages({33922: (12, 6, struct.pack("<6d", *tie)), 33550: (12, 3, struct.pack("<3d", 1e-5, 1e-5, 0)),
                        34735: (3, 16, keys)})


# RT29-29: fixed
@pytest.mark.parametrize("tie,model,crs", [((0, 0, 0, -1.5491, 53.8008, 0), 2, 4326),
                                           ((0, 0, 0, 429672.0, 434261.0, 0), 1, 27700)], ids=["wgs84", "bng"])
def test_rt29_29_a_geotiff_of_the_site_is_not_cleared(tmp_path, config, tie, model, crs):
    """exiftool: [IFD0] ModelTiePoint : 0 0 0 -1.5491 53.8008 0 / [GeoTiff] GeographicType : WGS 84"""
    assert _found(tmp_path, config, "ortho.tif", _geotiff(tie, model, crs)) & {"location", "error"}


# ================================================================ AVIF image sequence: a primary image item the track does not show


def _iloc_first_extent(data: bytes) -> tuple[int, int, int]:
    """(where its offset field is, offset, length) of item 1's only extent in the file's iloc, as
    libavif writes it (version 0, 4-byte offsets and lengths, no base offset)."""
    at = data.index(b"iloc") - 4
    body = at + 8
    assert data[body] == 0 and data[body + 4] == 0x44 and data[body + 5] >> 4 == 0, "this helper reads libavif's iloc"
    assert struct.unpack_from(">HH", data, body + 6)[1] == 1  # the first item listed is item 1
    field = body + 6 + 2 + 2 + 2 + 2  # count, item id, data reference index, extent count
    offset, length = struct.unpack_from(">II", data, field)
    return field, offset, length


def avis_with_primary(primary: np.ndarray) -> bytes:
    """An animated AVIF ('avis': two clean frames in its track) whose primary image item, which an
    AVIF image sequence must also hold for readers of stills, is `primary` (same size and coding)."""
    track, still = io.BytesIO(), io.BytesIO()
    Image.fromarray(backdrop()).save(track, "AVIF", save_all=True, append_images=[Image.fromarray(backdrop())],
                                     duration=500, quality=80)
    Image.fromarray(primary).save(still, "AVIF", quality=80)
    track, still = track.getvalue(), still.getvalue()
    field, _, _ = _iloc_first_extent(track)
    _, offset, length = _iloc_first_extent(still)
    payload = still[offset:offset + length]
    out = bytearray(track + struct.pack(">I", len(payload) + 8) + b"mdat" + payload)
    struct.pack_into(">II", out, field, len(track) + 8, len(payload))
    return bytes(out)


def _avif_or_skip():
    from screening.imaging import AVIF_SUPPORTED

    if not AVIF_SUPPORTED:
        pytest.skip("this Pillow has no AVIF codec")


def test_rt29_control_the_primary_item_alone_shows_the_face(tmp_path, config):
    """The same file with its track turned into a `free` box and branded a still: Pillow (libavif)
    then decodes the primary item, and the face is found."""
    _avif_or_skip()
    data = bytearray(avis_with_primary(with_face()))
    at = data.index(b"moov")
    data[at:at + 4] = b"free"
    data[8:12], data[20:32] = b"avif", b"avifmif1mif1"  # major brand, and no 'avis'/'msf1' among the compatible
    assert "unknown_face" in _found(tmp_path, config, "item.avif", bytes(data))


# RT29-30: fixed
def test_rt29_30_a_face_in_the_primary_item_of_an_animated_avif_is_not_cleared(tmp_path, config):
    _avif_or_skip()
    assert _found(tmp_path, config, "poster.avif", avis_with_primary(with_face())) != {"cleared"}


# RT29-30 (other way round): fixed
def test_rt29_30_a_face_in_the_track_of_an_avif_branded_as_a_still_is_not_cleared(tmp_path, config):
    _avif_or_skip()
    track, still = io.BytesIO(), io.BytesIO()
    Image.fromarray(with_face()).save(track, "AVIF", save_all=True, append_images=[Image.fromarray(with_face())],
                                      duration=500, quality=80)
    Image.fromarray(backdrop()).save(still, "AVIF", quality=80)
    track, still = track.getvalue(), still.getvalue()
    field, _, _ = _iloc_first_extent(track)
    _, offset, length = _iloc_first_extent(still)
    payload = still[offset:offset + length]
    data = bytearray(track + struct.pack(">I", len(payload) + 8) + b"mdat" + payload)
    struct.pack_into(">II", data, field, len(track) + 8, len(payload))
    data[8:12], data[20:32] = b"avif", b"avifmif1mif1"
    assert _found(tmp_path, config, "still_with_track.avif", bytes(data)) != {"cleared"}


# ================================================================ the site's position in other notations


@pytest.mark.parametrize("text", ["Grid: SE 29672 34261 (OSGB)", "53° 48.048' N 1° 32.946' W", "Lat: 53.8008 Long: -1.5491"])
def test_rt29_control_notations_coordtext_knows_are_a_location(tmp_path, config, text):
    assert "location" in _found(tmp_path, config, "notation.jpg", _described(text))


# RT29-31: fixed
@pytest.mark.parametrize("text", ["Easting 429672, Northing 434261", "E 429672 N 434261", "UTM 30U 595556 5962335",
                                  "MGRS 30UWE9555662335"], ids=["easting-northing", "E-N", "utm", "mgrs"])
def test_rt29_31_the_site_as_projected_coordinates_is_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "projected.jpg", _described(text)) & {"location", "error"}


# RT29-32: fixed
@pytest.mark.parametrize("text", ["53:48:02.88N 1:32:56.76W", "53 48 02.9 N 001 32 56.8 W", "lon -1.5491 lat 53.8008",
                                  "lat 53°48.048 lon -1°32.946", "lat/lon 53.8008/-1.5491", "53.8008 | -1.5491"],
                         ids=["colons", "spaced-dms", "lon-first", "signed-dm", "slash", "pipe"])
def test_rt29_32_the_sites_position_in_other_spellings_is_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "spelt.jpg", _described(text)) & {"location", "error"}


# RT29-24 (clip): fixed (was a strict xfail)
@pytest.mark.parametrize("tag", ["ARTIST", "AUTHOR"])
def test_rt29_24_a_pupil_named_as_a_clips_artist_is_not_cleared(tmp_path, config, tag):
    path = _tagged_clip(tmp_path, "by.mkv", {tag: PUPIL})
    assert _clip_kinds(path, config) & {"text", "error"}


# ================================================================ low: names where only a tool shows them


# RT29-33: fixed (was a strict xfail)
def test_rt29_33_a_pupils_name_as_the_colour_profiles_name_is_not_cleared(tmp_path, config):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _png(_pchunk(b"iCCP", PUPIL.encode() + b"\x00\x00" + zlib.compress(profile)), before_idat=True)
    assert _found(tmp_path, config, "profile.png", data) & {"text", "error"}

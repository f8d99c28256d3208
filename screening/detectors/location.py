"""Location check: GPS coordinates and place names in EXIF, XMP (and its sidecar) and IPTC, GeoTIFF
georeferencing of a TIFF or an EXIF block (formats/geotiff.py), and
coordinates written in the captions the text check reads (formats/coordtext.py).

Reports a LocationFinding per source; metadata it cannot read raises, so the check is
incomplete and the image is never cleared.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from screening.config import Config
from screening.formats import c2pa, captions, coordtext, exiv2_reader, geotags, geotiff, metadata, sniff
from screening.formats.maker_places import maker_note_places
from screening.formats.sidecars import links_out, sidecars_of
from screening.model import LocationFinding

EARTH_RADIUS_M = 6_371_000.0


class LocationDetector:
    """Reports GPS positions and place names; names the nearest academy site within range."""

    def __init__(self, config: Config):
        self.sites = [(academy.name, site.lat, site.lon) for academy in config.academies for site in academy.sites]
        self.within_m = config.location.nearest_site_within_m
        # exifread logs "File format not recognized" and the like; we report failures ourselves
        logging.getLogger("exifread").setLevel(logging.CRITICAL)

    def detect(self, picture, earlier) -> list[LocationFinding]:
        """Findings from the file's metadata blocks (and Pillow's EXIF view of it) and sidecars."""
        extra = (picture.exif,) if picture.exif else ()
        return self._findings(Path(picture.path), picture.data, extra, getattr(picture, "info", None) or {})

    def detect_undecoded(self, path: Path, data: bytes) -> list[LocationFinding]:
        """The same check on a file whose pixels did not decode: metadata only."""
        return self._findings(Path(path), data, ())

    def detect_claims(self, path: Path, sources) -> list[LocationFinding]:
        """Findings from (source, where, claims) a container reader found (a video's atoms and
        tags), plus the XMP sidecars beside the file: the same wording and deduplication."""
        sources = [(source, where, claims, None) for source, where, claims in sources]
        sources += _sidecar_sources(Path(path))
        sources += [(s, w, c, None) for s, w, c in coordtext.caption_sources(captions.sidecar_captions(Path(path)))]
        return self._report(sources)

    def _findings(self, path: Path, data: bytes, extra_exif: tuple[bytes, ...],
                  info: dict | None = None) -> list[LocationFinding]:
        blocks = metadata.read_blocks(data)
        sources: list[tuple[str, str, geotags.Claims, str | None]] = []
        for block in dict.fromkeys(blocks.exif + extra_exif):
            sources.append(("EXIF GPS", "EXIF", geotags.exif_claims(block), None))
            sources.append(("GeoTIFF", "the TIFF tags", geotiff.claims(block), None))  # RT29-29
            sources.append(("EXIF maker note", "the EXIF maker note", maker_note_places(block), None))
        for packet in blocks.xmp:
            sources.append(("XMP", "XMP", geotags.xmp_claims(packet), None))
        for block in blocks.iptc:
            sources.append(("IPTC", "IPTC", geotags.iptc_claims(block), None))
        sources += [("C2PA", where, claims, None) for where, claims in c2pa.claims(blocks.c2pa)]
        sources += _sidecar_sources(path)
        own = captions.photo_captions(data)  # coordinates written in the text the text check reads
        texts = own + captions.info_captions(info or {}, own) + captions.sidecar_captions(path)
        sources += [(s, w, c, None) for s, w, c in coordtext.caption_sources(texts)]
        findings = self._report(sources)
        _cross_check(data, findings)
        return findings

    def _report(self, sources) -> list[LocationFinding]:
        findings: list[LocationFinding] = []
        seen_positions: set[tuple[float, float]] = set()
        seen_places: set[tuple[str, str]] = set()
        for source, where, claims, sidecar in sources:
            for pos in claims.positions:
                if pos.problem:
                    raw = f" ({pos.raw})" if pos.raw else ""
                    findings.append(LocationFinding(
                        source, f"{pos.what} in {where}, but malformed: {pos.problem}{raw}", malformed=True,
                        sidecar=sidecar))
                    continue
                key = (round(pos.lat, 5), round(pos.lon, 5))
                if key in seen_positions:  # EXIF and XMP copies of one position: report it once
                    continue
                seen_positions.add(key)
                findings.append(LocationFinding(
                    source, f"{pos.what} in {where}: {pos.lat:.5f}, {pos.lon:.5f}{self._near(pos.lat, pos.lon)}",
                    pos.lat, pos.lon, sidecar=sidecar))
            places = [p for p in dict.fromkeys(claims.places) if (p.label, p.value) not in seen_places]
            seen_places.update((p.label, p.value) for p in places)
            if places:
                text = ", ".join(f"{p.label} {p.value!r}" for p in places)
                findings.append(LocationFinding(source, f"location text in {where}: {text}", sidecar=sidecar))
        return findings

    def _near(self, lat: float, lon: float) -> str:
        """", 180 m from Trinity North Academy" for the nearest site within range, else ""."""
        if not self.sites:
            return ""
        metres, name = min((distance_m(lat, lon, s_lat, s_lon), name) for name, s_lat, s_lon in self.sites)
        if metres > self.within_m:
            return ""
        shown = f"{metres / 1000:.1f} km" if metres >= 1000 else f"{round(metres, -1):.0f} m"
        return f", {shown} from {name}"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _cross_check(data: bytes, findings: list[LocationFinding]) -> None:
    """GPS that the field-standard reader (exiv2) sees in the file and ours do not: never cleared."""
    keys = exiv2_reader.gps_keys(data, sniff(data) or "")
    ours = any(f.sidecar is None and (f.lat is not None or f.malformed) for f in findings)
    if keys and not ours:
        raise metadata.MetadataError(f"metadata readers disagree: exiv2 finds GPS ({', '.join(keys[:3])}) "
                                     "that the built-in readers do not")


def _sidecar_sources(path: Path) -> list:
    """The claims of the XMP sidecars beside `path`; a sidecar that is a link out of the folder raises."""
    out = links_out(path)
    if out:
        raise metadata.MetadataError(f"XMP sidecar {out[0]} is a link out of the photo's folder: not read")
    return [("XMP sidecar", f"XMP sidecar {sidecar.name}", claims, sidecar.name)
            for sidecar in sidecars_of(path) for claims in _read_sidecar(sidecar)]


def _read_sidecar(sidecar: Path) -> list[geotags.Claims]:
    try:
        return [geotags.xmp_claims(packet) for packet in metadata.xmp_packets(sidecar.read_bytes())]
    except OSError as exc:
        raise metadata.MetadataError(f"XMP sidecar {sidecar.name} cannot be read: {exc.strerror or exc}") from None
    except metadata.MetadataError as exc:
        raise metadata.MetadataError(f"XMP sidecar {sidecar.name}: {exc}") from None

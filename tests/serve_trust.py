"""A small trust, accounts and a running `screening serve` app for the web tests (TestClient).

Detectors are fakes picked by the first pixel (as in test_audit.py): a JPEG with GPS in its EXIF -> GPS (needs
permission), blue -> a logo, green -> staff member P1 (consented), anything else -> nothing found. Decoding, the file checks and
the policy are the real ones.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from screening import pool
from screening.model import Check, FaceFinding, LocationFinding, LogoFinding
from screening.store.accounts import Accounts
from screening.web import passwords
from tests.academy_trust import logo_folder
from tests.test_config_register import GOOD, HEADER

PASSWORD = "correct horse battery"
PEOPLE = HEADER + "P1,Pat Teacher,staff,north,yes,yes,yes,yes,,\n"


class Nothing:
    def detect(self, picture, earlier):
        return []


class GpsIfTagged:
    """GPS when the file's EXIF has a GPS block (jpeg(gps=True)); a redacted copy drops it."""

    def detect(self, picture, earlier):
        try:
            with Image.open(picture.path) as img:
                tagged = bool(img.getexif().get_ifd(0x8825))
        except Exception:
            tagged = False
        return [LocationFinding("EXIF GPS", "GPS in EXIF: 53.80000, -1.54000", 53.8, -1.54)] if tagged else []


class FaceIfGreen:
    """Staff member P1 (consented) in a photo whose first pixel is green."""

    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0][:3]
        return [FaceFinding((10, 10, 20, 20), (("P1", 0.3),))] if g > 200 and r < 50 else []


class LogoIfBlue:
    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0][:3]
        return [LogoFinding("north", (0, 0, 30, 20), 5.0)] if b > 200 and r < 50 else []


def fakes(config, gallery, people=None):
    return {Check.LOCATION: GpsIfTagged(), Check.FACES: FaceIfGreen(), Check.LOGOS: LogoIfBlue(),
            Check.UNIFORMS: Nothing(), Check.TEXT: Nothing()}


def make_trust(root: Path, monkeypatch) -> Path:
    logo_folder(root / "logos" / "north")
    (root / "consents" / "photos" / "P1").mkdir(parents=True)
    (root / "consents" / "register.csv").write_text(PEOPLE)
    (root / "screening.toml").write_text(GOOD)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    return root / "screening.toml"


def add_accounts(config: Path) -> None:
    from screening.trust import open_trust

    accounts = Accounts(open_trust(config).config.state)
    hashed = passwords.hash_password(PASSWORD)
    accounts.add("alice", "reviewer", hashed)
    accounts.add("root", "admin", hashed)


def jpeg(colour, size=(60, 40), gps: bool = False) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(np.full((size[1], size[0], 3), colour, np.uint8))
    exif = Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (53.0, 48.0, 0.0), 3: "W", 4: (1.0, 32.0, 24.0)})
    img.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def png_bomb(side: int = 60000) -> bytes:
    """A tiny PNG that says it is side x side pixels (3.6 gigapixels at 60000): a decompression bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = zlib.compress(b"\0" * (side // 8 + 1) * 64, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def login(client, name: str = "alice", password: str = PASSWORD, next_: str = "/"):
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "name": name, "password": password,
                                       "next": next_}, follow_redirects=False)

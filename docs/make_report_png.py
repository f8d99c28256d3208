"""Make docs/report.png: a screenshot of the HTML report in headless Chromium.

    .venv/bin/python docs/make_report_png.py                      # the demo batch below
    .venv/bin/python docs/make_report_png.py samples/out/report.html   # any existing report

The demo batch is made only from the two public-domain photos (samples/public-domain/). Its
findings are scripted per file (face boxes from OpenCV's Haar cascades, GPS read from EXIF):
the picture shows what the report looks like, not how well the detectors work. The scan,
permit and report code paths are the real ones.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening import cli, pool  # noqa: E402
from screening.model import (  # noqa: E402
    Check,
    FaceFinding,
    LocationFinding,
    LogoFinding,
    UniformFinding,
)

CONFIG = """
trust = "Trinity Multi Academy Trust"
channels = ["website", "social_media", "print"]
default_channel = "social_media"
[consent]
register = "register.csv"
photos = "photos"
[[academy]]
id = "north"
name = "Trinity North Academy"
uniform_colours = ["#1b2a4a", "#c8a200"]
sites = [{ lat = 53.8008, lon = -1.5491, radius_m = 400 }]
"""
REGISTER = (
    "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
    "S1001,Eileen Collins,staff,north,yes,yes,yes,yes,2027-08-31,\n"
    "P1006,Sam Patel,pupil,north,yes,yes,yes,no,,2026-09-01\n"
)
# file -> who each face is (None: nobody enrolled is close), and scripted logo/uniform boxes
WHO = {"consented.jpg": "S1001", "gps-turned.jpg": "S1001", "withdrawn.jpg": "P1006"}
LOGOS = {"blazer.jpg": [LogoFinding("north", (305, 405, 60, 50), 4.0, "crest on a blazer")]}
UNIFORMS = {"blazer.jpg": [UniformFinding("north", (150, 330, 300, 182), 0.9, crest=True)]}
BANNER = {"banner.jpg": [LogoFinding("north", (20, 20, 150, 90), 6.0, "banner at the gate")]}


def haar(pixels, cascade, scale, neighbours):
    import cv2

    c = cv2.CascadeClassifier(cv2.data.haarcascades + cascade)
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return [tuple(int(v) for v in f) for f in c.detectMultiScale(grey, scale, neighbours, minSize=(60, 60))]


class Faces:
    def detect(self, picture, earlier):
        name = picture.path.name
        boxes = haar(picture.frames[0], "haarcascade_frontalface_default.xml", 1.1, 5) or \
            haar(picture.frames[0], "haarcascade_profileface.xml", 1.05, 3)
        who = WHO.get(name)
        return [FaceFinding(b, ((who, 0.38),) if who else (("S1001", 0.71),)) for b in boxes]


class Location:
    def detect(self, picture, earlier):
        if not picture.exif:
            return []
        exif = Image.Exif()
        exif.load(picture.exif)
        gps = exif.get_ifd(0x8825)
        if not gps:
            return []
        lat = sum(float(x) / 60 ** i for i, x in enumerate(gps[2]))
        lon = -sum(float(x) / 60 ** i for i, x in enumerate(gps[4]))
        return [LocationFinding("EXIF GPS", f"GPS in EXIF: {lat:.5f}, {lon:.5f}, 180 m from "
                                "Trinity North Academy", lat, lon)]


class Scripted:
    def __init__(self, table):
        self.table = table

    def detect(self, picture, earlier):
        return self.table.get(picture.path.name, [])


def scripted_detectors(config, gallery):
    return {Check.LOCATION: Location(), Check.FACES: Faces(),
            Check.LOGOS: Scripted({**LOGOS, **BANNER}), Check.UNIFORMS: Scripted(UNIFORMS)}


def make_batch(folder: Path) -> None:
    public = REPO / "samples" / "public-domain"
    if not (public / "astronaut.png").is_file():
        public = REPO.parent / "shared" / "data" / "public-domain"
    astronaut = Image.open(public / "astronaut.png").convert("RGB")
    camera = Image.open(public / "camera.png").convert("RGB")
    gps = Image.Exif()
    gps[0x0112] = 6  # stored turned, as phones do: the report shows it upright
    gps.get_ifd(0x8825).update({1: "N", 2: (53.0, 48.0, 8.6), 3: "W", 4: (1.0, 32.0, 58.0)})
    astronaut.save(folder / "consented.jpg", quality=90)
    camera.save(folder / "unknown.jpg", quality=90)
    astronaut.transpose(Image.Transpose.ROTATE_90).save(folder / "gps-turned.jpg", quality=90, exif=gps)
    astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "withdrawn.jpg", quality=90)
    blazer = np.asarray(astronaut).copy()
    blazer[330:, 150:450] = (27, 42, 74)  # a navy blazer...
    blazer[405:455, 305:365] = (200, 162, 0)  # ...with a gold crest
    Image.fromarray(blazer).save(folder / "blazer.jpg", quality=90)
    banner = np.asarray(camera.convert("RGB")).copy()
    banner[20:110, 20:170] = (200, 162, 0)
    Image.fromarray(banner).save(folder / "banner.jpg", quality=90)
    data = (folder / "consented.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])


def screenshot(report: Path, png: Path, height: int = 1800) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
                        f"--screenshot={png}", f"--window-size=1280,{height}",
                        "--virtual-time-budget=5000", report.resolve().as_uri()],
                       check=True, capture_output=True)


def main() -> None:
    png = REPO / "docs" / "report.png"
    if len(sys.argv) > 1:
        screenshot(Path(sys.argv[1]), png)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "screening.toml").write_text(CONFIG)
        (root / "register.csv").write_text(REGISTER)
        (root / "photos").mkdir()
        (root / "batch").mkdir()
        make_batch(root / "batch")
        pool.build_detectors = scripted_detectors
        import os

        os.chdir(root)
        quiet = ["--workers", "1", "--quiet"]
        cli.main(["scan", "batch", *quiet])
        cli.main(["permit", "batch/banner.jpg", "--by", "J. Okafor (marketing)",
                  "--note", "signed release from the photographer; the gate banner agreed by the site manager"])
        cli.main(["scan", "batch", *quiet, "--html", "report.html"])
        screenshot(root / "report.html", png)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()

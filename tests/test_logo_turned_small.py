"""Small crests turned 25-55 degrees, every drawing style, 30-60 px on 1400-3000 px photos.

What the logo check finds today (grey SIFT at the working size, GREY_SIDE, and the upright
small-crest pass, logo_match.small). A crest found here must stay found, with no other academy
named: this is the set a cheaper grey channel (a cap on GREY_SIDE) has to keep (issue 16, RT13-9).
The misses are xfail(strict): a change that finds one must move it to FOUND. Measured in
docs/academies.md ("grey channel below the working size: still not affordable").
"""

from __future__ import annotations

import pytest

from tests import crests

# academy -> crest drawing: shield with lettering and scroll, roundel with ring lettering,
# octagon without text, flat two-colour shield, and three drawn styles from seeds
STYLES = {"north": "north", "south": "south", "east": "east", "flat": "flat", "s101": 101, "s202": 202,
          "s303": 303}

# (academy, crest width px, angle degrees, photo size)
FOUND = [
    ("north", 44, 40, (1400, 933)), ("north", 50, -30, (2000, 1333)), ("south", 44, 40, (1400, 933)),
    ("south", 40, 25, (3000, 2000)), ("east", 44, 40, (1400, 933)), ("s101", 60, -45, (2400, 1600)),
    ("s202", 44, 40, (1400, 933)), ("s303", 44, 40, (1400, 933)),
    ("flat", 44, 40, (1400, 933)),  # found once ECC aligned it (issue 16, eccguard round)
]
MISSED = [
    ("south", 30, 40, (1400, 933)), ("east", 36, 55, (1600, 1067)),
    ("s101", 44, 40, (1400, 933)), ("s202", 50, -30, (2000, 1333)),
]


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector

    root = tmp_path_factory.mktemp("turnedtrust")
    body = 'trust = "T"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
    for aid, style in STYLES.items():
        (root / "logos" / aid).mkdir(parents=True)
        crests.draw_crest(style, 512).save(root / "logos" / aid / "crest.png")
        body += f'[[academy]]\nid = "{aid}"\nname = "{aid} Academy"\nlogos = "logos/{aid}"\n'
    (root / "screening.toml").write_text(body, encoding="utf-8")
    return LogoDetector(load_config(root / "screening.toml"), cache=root / "cache")


def _named(detector, academy: str, px: int, angle: float, size: tuple[int, int]) -> set[str]:
    """Academies named at min_score on a generated backdrop `size` with the crest `px` wide turned `angle`."""
    from PIL import Image

    from screening.config import LogoSettings

    from .academy_trust import FakePicture, backdrop

    im = backdrop(1).resize(size, Image.BICUBIC)
    crests.composite(im, crests.draw_crest(STYLES[academy], 512), width_frac=px / size[0], centre=(0.4, 0.5),
                     angle=angle, tilt=0.05, shade=0.95, seed=1)
    found = detector.detect(FakePicture(crests.jpeg(im, 85)), {})
    return {a for f in found if f.score >= LogoSettings().min_score for a in (f.academy, *f.also)}


@pytest.mark.slow
@pytest.mark.parametrize("academy, px, angle, size", FOUND)
def test_a_small_turned_crest_found_today_stays_found_and_alone(detector, academy, px, angle, size):
    assert _named(detector, academy, px, angle, size) == {academy}


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 16: small turned crest not found (no keypoints at the working "
                   "size, and the small-crest pass correlates upright templates only: turned ones score "
                   "0.37-0.47 at 10 view px, clutter 0.6-0.8)")
@pytest.mark.parametrize("academy, px, angle, size", MISSED)
def test_a_small_turned_crest_missed_today(detector, academy, px, angle, size):
    assert academy in _named(detector, academy, px, angle, size)

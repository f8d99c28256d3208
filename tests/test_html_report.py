"""The HTML contact sheet: self-contained, one card per image, a box per face/logo/uniform,
consented names only, and it really opens in a browser (headless Chromium)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.academy_trust import logo_folder
from screening.consent.register import Person
from screening.model import (
    Check,
    CheckResult,
    FaceFinding,
    LocationFinding,
    LogoFinding,
    Screening,
    UniformFinding,
)
from screening.policy import Rules, verdict
from screening.reports.html import HtmlWriter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PEOPLE = {
    "S1": Person("S1", "Jo Consented", "staff", "north", True, {"social_media": True}),
    "P2": Person("P2", "Secret Withdrawn", "pupil", "north", True, {"social_media": True},
                 withdrawn=dt.date(2026, 1, 1)),
}
RULES = Rules(channel="social_media", today=dt.date(2026, 6, 1), people=PEOPLE,
              academy_names={"north": "Trinity North Academy"})
NAMES = {pid: p.name for pid, p in PEOPLE.items()}


def noisy(path, size=(600, 400), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def screened(path, faces=(), logos=(), uniforms=(), location=(), error=None, text=()):
    import hashlib

    from screening.imaging import load

    data = path.read_bytes()
    size = load(path).size
    results = (
        CheckResult(Check.DECODE),
        CheckResult(Check.LOCATION, tuple(location)),
        CheckResult(Check.FACES, tuple(faces), error=error),
        CheckResult(Check.LOGOS, tuple(logos)),
        CheckResult(Check.UNIFORMS, tuple(uniforms)),
        CheckResult(Check.TEXT, tuple(text)),
    )
    return verdict(Screening(str(path), hashlib.sha256(data).hexdigest(), results, size), RULES)


@pytest.fixture
def batch(tmp_path):
    """Five verdicts covering every status and every kind of box; 7 boxes in all."""
    for i, name in enumerate(["group.png", "logo.jpg", "gps.jpg", "clean.jpg"]):
        noisy(tmp_path / name, seed=i)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    verdicts = [
        screened(tmp_path / "group.png", faces=[
            FaceFinding((40, 50, 80, 80), (("S1", 0.3),)),
            FaceFinding((200, 60, 70, 70), (("P2", 0.3),)),
            FaceFinding((400, 70, 60, 60), ()),
        ]),
        screened(tmp_path / "logo.jpg", logos=[LogoFinding("north", (10, 10, 100, 50), 3.0)],
                 uniforms=[UniformFinding("north", (300, 150, 200, 200), 0.9, crest_score=0.9)]),
        screened(tmp_path / "gps.jpg", location=[LocationFinding("EXIF GPS", "GPS in EXIF: 53.80, -1.54", 53.8, -1.54)]),
        screened(tmp_path / "clean.jpg"),
        verdict(Screening(str(tmp_path / "broken.jpg"), None,
                          (CheckResult(Check.DECODE, error="JPEG is truncated"),)), RULES),
    ]
    return tmp_path, verdicts


def write_report(tmp_path, verdicts):
    out = tmp_path / "report.html"
    writer = HtmlWriter(out, title="Trinity: social_media", names=NAMES)
    for v in verdicts:
        writer.write(v)
    writer.close()
    return out


def test_report_has_a_card_per_image_with_status_and_summary(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    assert len(re.findall(r'<article class="card ', text)) == 5
    statuses = re.findall(r'data-status="(\w+)"', text)
    assert sorted(statuses) == ["cleared", "error", "needs_permission", "needs_permission", "needs_permission"]
    # summary tiles at the top, before the first card
    assert text.index('class="tile cleared"><b>1</b>') < text.index("<article")
    assert 'class="tile needs_permission"><b>3</b>' in text
    assert 'class="tile error"><b>1</b>' in text


def test_report_is_self_contained_and_leaves_no_spool_files(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "url(" not in text and "@import" not in text
    assert len(re.findall(r'src="data:image/jpeg;base64,', text)) == 4
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_boxes_name_only_consented_people(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    labels = re.findall(r'<div class="box ([\w -]+)" style="[^"]+" data-box="[^"]+"><span>([^<]*)</span>', text)
    labels = [(css.removesuffix(" below"), label) for css, label in labels]
    assert sorted(labels) == sorted([
        ("face ok", "Jo Consented"),
        ("face no-consent", "no consent: P2"),
        ("face unknown", "unknown"),
        ("logo", "logo north"),
        ("uniform", "uniform north"),
    ])
    assert "Secret Withdrawn" not in text


def test_boxes_are_placed_in_percent_of_the_full_image(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    # face (40, 50, 80, 80) in a 600x400 image
    assert 'left:6.67%;top:12.50%;width:13.33%;height:20.00%' in text


def test_undecodable_file_shows_no_preview_but_its_reason(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    card = re.search(r'<article class="card error".*?</article>', text, re.S).group(0)
    assert "no preview" in card and "JPEG is truncated" in card


def test_a_file_changed_since_screening_gets_no_preview(batch):
    tmp_path, verdicts = batch
    noisy(tmp_path / "clean.jpg", seed=99)  # replaced after the scan: its boxes would lie
    text = write_report(tmp_path, verdicts).read_text()
    card = re.search(r'<article class="card cleared".*?</article>', text, re.S).group(0)
    assert "no preview" in card


def test_location_line_and_filters_by_reason_kind(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    assert "Location: GPS in EXIF: 53.80, -1.54" in text
    assert "Location: none in the file" in text
    filters = set(re.findall(r'data-filter="kind" value="(\w+)"', text))
    assert filters == {"unknown_face", "no_consent", "logo", "uniform", "location", "error"}


def test_thumbnails_keep_the_report_small(tmp_path):
    big = tmp_path / "big.jpg"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(big, quality=95)
    writer = HtmlWriter(tmp_path / "r.html")
    v = screened(big)
    for _ in range(10):
        writer.write(v)
    writer.close()
    # worst case (pure noise compresses badly): still under 100 KB per image
    assert (tmp_path / "r.html").stat().st_size < 10 * 100_000


def chromium(*args, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_opens_in_headless_chromium_with_every_image_and_box(batch):
    tmp_path, verdicts = batch
    report = write_report(tmp_path, verdicts)
    dom = chromium("--dump-dom", report.as_uri(), tmp_path=tmp_path).stdout
    assert 'data-previews-shown="4"' in dom  # every decodable image decoded in the browser
    assert dom.count('<article class="card') == 5
    assert len(re.findall(r'<div class="box ', dom)) == 5
    assert "Showing 5 of 5 image(s)." in dom  # the filter script ran
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", report.as_uri(), tmp_path=tmp_path)
    with Image.open(shot) as img:
        assert img.size == (1280, 1600)
        # not a blank page: the thumbnails are noise, the page background is flat
        assert np.asarray(img.convert("L")).std() > 20


def test_scan_html_option_writes_the_contact_sheet(tmp_path, monkeypatch):
    from screening import cli, pool

    from .test_config_register import GOOD, HEADER
    from .test_scan_cli import fakes, photo

    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(HEADER)
    (tmp_path / "screening.toml").write_text(GOOD)
    (tmp_path / "batch").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    photo(tmp_path / "batch" / "a.png", (0, 0, 255))
    photo(tmp_path / "batch" / "gps.png", (255, 0, 0))
    assert cli.main(["scan", "batch", "--workers", "1", "--html", "out.html"]) == 1
    text = (tmp_path / "out.html").read_text()
    assert "Trinity Multi Academy Trust: social_media" in text
    assert text.count("<article") == 2 and text.count("data:image/jpeg;base64,") == 2


def test_permitted_image_shows_who_gave_permission_and_keeps_its_boxes(batch):
    from screening.model import Permit
    from screening.policy import permitted

    tmp_path, verdicts = batch
    logo = verdicts[1]
    covers = ("logo:north", "uniform:north")
    v = permitted(logo, [Permit(logo.sha256, "social_media", "J. Smith", "form on file",
                                "2026-03-02T10:00:00+00:00", "me", covers)])
    text = write_report(tmp_path, [v]).read_text()
    assert "cleared with permission</b> by J. Smith on 2026-03-02: form on file" in text
    assert text.count('<div class="box logo') == 1 and text.count('<div class="box uniform') == 1
    assert 'data-kinds="logo uniform"' in text  # still found by the reason filters


def test_report_is_private_to_its_owner_like_the_jsonl_and_csv(batch):
    """It shows children's faces and names (docs/security.md): 0600 whatever the umask."""
    import os

    tmp_path, verdicts = batch
    old = os.umask(0o022)
    try:
        report = write_report(tmp_path, verdicts)
    finally:
        os.umask(old)
    assert report.stat().st_mode & 0o777 == 0o600


def test_cards_are_grouped_needs_permission_then_errors_then_cleared(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, list(reversed(verdicts))).read_text()
    statuses = re.findall(r'<article class="card (\w+)"', text)
    assert statuses == ["needs_permission"] * 3 + ["error", "cleared"]
    headings = re.findall(r'<section class="group (\w+)"><h2>([^<]+)', text)
    assert [h[0] for h in headings] == ["needs_permission", "error", "cleared"]
    paths = re.findall(r'<p class="path" title="([^"]+)"', text)[:3]
    assert paths == sorted(paths)  # by path within a group, whatever order they finished in


def test_reasons_lead_with_plain_words_and_keep_the_numbers_in_details(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    assert "face 3 is not recognised as anyone on the consent register" in text
    item = re.search(r'<li class="unknown_face">.*?</li>', text, re.S).group(0)
    assert item.index("not recognised") < item.index("<details>")
    assert "no enrolled person to compare with" in item.split("<details>")[1]


def test_every_photo_can_be_enlarged_and_links_to_its_original(batch):
    tmp_path, verdicts = batch
    text = write_report(tmp_path, verdicts).read_text()
    assert text.count('<div class="pic" title="click to enlarge" tabindex="0">') == 4
    assert 'id="viewer"' in text
    links = re.findall(r'<a class="original" href="([^"#]+)">open the original</a>', text)
    assert sorted(links) == sorted(["group.png", "logo.jpg", "gps.jpg", "clean.jpg", "broken.jpg"])


def test_interrupted_report_says_it_is_incomplete_at_the_top(batch):
    tmp_path, verdicts = batch
    out = tmp_path / "report.html"
    writer = HtmlWriter(out, title="Trinity")
    writer.write(verdicts[0])
    writer.close(incomplete="INCOMPLETE: the scan was interrupted after 1 of 5 file(s)")
    text = out.read_text()
    assert "<title>INCOMPLETE: Trinity</title>" in text
    assert text.index('id="incomplete"') < text.index("<article")
    assert "interrupted after 1 of 5" in text


def test_files_not_screened_are_listed(batch):
    from screening.files import CLUTTER, Skipped

    tmp_path, verdicts = batch
    out = tmp_path / "report.html"
    writer = HtmlWriter(out, skipped=[Skipped(tmp_path / "Thumbs.db", "batch/Thumbs.db", CLUTTER)])
    writer.write(verdicts[0])
    writer.close()
    text = out.read_text()
    assert "1 file(s) not screened" in text and "<code>batch/Thumbs.db</code>: OS clutter" in text


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_clicking_a_photo_opens_the_large_view_in_a_browser(batch):
    tmp_path, verdicts = batch
    report = write_report(tmp_path, verdicts)
    # a test page: the report, then a script that clicks the first photo once it has loaded
    page = tmp_path / "click.html"
    page.write_text(report.read_text().replace(
        "</body>", "<script>document.querySelector('.card .pic[tabindex]').click();</script></body>"))
    dom = chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path).stdout
    viewer = re.search(r'<div id="viewer".*?</p></div>', dom, re.S).group(0)
    assert "hidden" not in viewer.split(">", 1)[0]
    assert '<div class="pic"' in viewer and 'href="' in viewer


def test_every_reason_kind_has_a_word_in_the_report():
    from screening.model import Kind
    from screening.reports.html.cards import KIND_WORDS

    assert set(KIND_WORDS) == set(Kind)

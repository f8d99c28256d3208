"""`screening serve` end to end in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser is downloaded): sign in, upload the demo batch, watch it screen with the
real checks, open a flagged photo, permit it, make and download the publishable copy, see it all
in the audit, and be refused without a session.

A screenshot of each page is saved: into $SCREENING_SCREENSHOTS when set (the README's pictures,
docs/screens/), otherwise into the test's tmp_path.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BATCH = ("unknown.jpg", "gps.jpg", "clean.jpg", "broken.jpg")
PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The demo trust (samples/make_samples.py) served on 127.0.0.1 by uvicorn, as `serve` runs it."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    import uvicorn

    from samples.make_samples import make
    from screening.store.accounts import Accounts
    from screening.trust import open_trust
    from screening.web import passwords
    from screening.web.app import create_app
    from screening.web.security import Settings

    samples = make(tmp_path)
    config = samples / "screening.toml"
    Accounts(open_trust(config).config.state).add("alice", "reviewer", passwords.hash_password(PASSWORD))
    port = _free_port()
    app = create_app(config, Settings(port=port, workers=2))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", samples / "batch", app.state.ctx
    srv.should_exit = True
    thread.join(timeout=10)


def test_journey_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, batch, ctx = server
    shots = Path(os.environ.get("SCREENING_SCREENSHOTS") or tmp_path / "screens")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            _journey(page, base, batch, shots, expect, tmp_path)
            _refusals(browser, page, base, tmp_path, expect)
        finally:
            browser.close()


def _journey(page, base, batch, shots, expect, tmp_path) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login?next=%2F")  # no session: the login page, no photo
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "login.png"))
    page.click("button[type=submit]")
    expect(page.locator("h1", has_text="Consent changes")).to_be_visible()

    page.set_input_files("#files", [str(batch / name) for name in BATCH])
    page.fill("input[name=title]", "Sports day")
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    page.click("#upload button[type=submit]")
    expect(page.locator("h1", has_text="Sports day")).to_be_visible()
    if page.locator("progress").count():  # live progress while it screens
        page.screenshot(path=str(shots / "batch-screening.png"))
    expect(page.locator("text=All 4 file(s) screened.")).to_be_visible(timeout=240_000)
    expect(page.locator(".tile.needs_permission b")).to_have_text("2")
    expect(page.locator(".tile.error b")).to_have_text("1")
    expect(page.locator(".tile.cleared b")).to_have_text("1")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # previews load lazily
    # previews served to the signed-in browser (broken.jpg has none)
    page.wait_for_function("() => Array.from(document.querySelectorAll('.card img'))"
                           ".filter(i => i.complete && i.naturalWidth > 0).length >= 3")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "batch.png"), full_page=True)

    page.click("text=unknown.jpg")
    expect(page.locator("#status")).to_have_text("needs permission")
    expect(page.locator(".box.face.unknown")).to_have_count(1)
    expect(page.locator("ul.reasons")).to_contain_text("not recognised as anyone on the consent register")
    page.screenshot(path=str(shots / "photo.png"), full_page=True)

    page.fill("#permit input[name=note]", "signed form from parent, 2026-11-27")
    page.click("#permit button")
    expect(page.locator(".permission")).to_contain_text("Cleared with permission by alice")
    page.click("#copy button")
    expect(page.locator("#copy-result")).to_contain_text("The copy is cleared", timeout=120_000)
    with page.expect_download() as download:
        page.click("#download-copy")
    saved = tmp_path / "copy.jpg"
    download.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"\xff\xd8" and download.value.suggested_filename == "unknown-publishable.jpg"
    page.screenshot(path=str(shots / "photo-permitted.png"), full_page=True)

    page.click("nav >> text=Audit")
    for command in ("scan", "permit", "redact", "download"):
        expect(page.locator("table.audit td", has_text=command).first).to_be_visible()
    expect(page.locator("table.audit td.path", has_text="unknown.jpg").first).to_be_visible()
    page.screenshot(path=str(shots / "audit.png"), full_page=True)


def _refusals(browser, page, base, tmp_path, expect) -> None:
    """Signed in, a forged form is refused (403) and a hostile upload is an error, never cleared;
    in a fresh browser (no session) the audit export and a photo are refused."""
    status = page.evaluate("""async () => (await fetch('/recheck', {method: 'POST',
        body: new URLSearchParams({csrf: 'forged'})})).status""")
    assert status == 403
    hostile = tmp_path / "hostile.jpg"
    hostile.write_bytes(b"<script>alert(1)</script> not a photo\n")
    page.goto(base + "/")
    page.set_input_files("#files", [{"name": "../../<b>evil</b>.jpg", "mimeType": "image/jpeg",
                                     "buffer": hostile.read_bytes()}])
    page.click("#upload button[type=submit]")
    expect(page.locator("text=All 1 file(s) screened.")).to_be_visible(timeout=120_000)
    expect(page.locator(".tile.error b")).to_have_text("1")
    expect(page.locator(".card .path")).to_contain_text("<b>evil</b>.jpg")  # shown as text, not markup
    assert page.locator(".card .path b").count() == 0
    photo = page.locator(".card .path a").get_attribute("href")

    context = browser.new_context()
    stranger = context.new_page()
    assert stranger.goto(base + "/audit.csv").status == 401
    assert stranger.goto(base + photo + "/image").status == 401
    stranger.goto(base + photo)
    assert "/login?next=" in stranger.url
    context.close()

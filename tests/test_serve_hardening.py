"""`screening serve` after the web red team (RTW-11, 20, 29, 30, 31, 33): the Origin check of every
POST, the Host allow-list, private folders that refuse links, "do not publish" against copies in
any batch, and headers on a 500. Real app and store through Starlette's TestClient, fake detectors."""

from __future__ import annotations

import os
import stat

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from screening import cli  # noqa: E402
from screening.web import uploads  # noqa: E402
from tests import serve_trust as st  # noqa: E402
from tests.test_redteam_web import _app, csrf, gps_jpeg, photo_of, sign_in, upload  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def served(tmp_path, monkeypatch):
    app, root = _app(tmp_path, monkeypatch)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, app, root


# ---------------------------------------------------------------- Origin / Sec-Fetch-Site on every POST


@pytest.mark.parametrize("headers", [
    {"origin": "http://127.0.0.1:9999"},                       # another port of the same host
    {"origin": "http://evil.example"},
    {"origin": "https://127.0.0.1"},                           # another scheme
    {"sec-fetch-site": "same-site"},                           # no Origin, but the browser says so
    {"sec-fetch-site": "cross-site"},
    {"origin": "null"},                                        # opaque: not known to be ours
    {"origin": "http://127.0.0.1", "sec-fetch-site": "same-site"},
])
def test_a_cross_origin_post_is_refused_even_with_the_right_token(served, headers):
    client, app, root = served
    sign_in(client)
    token = csrf(client)
    r = client.post("/recheck", data={"csrf": token}, headers=headers, follow_redirects=False)
    assert r.status_code == 403, headers
    assert r.headers["x-frame-options"] == "DENY"
    page = client.get("/login")
    r = client.post("/login", data={"csrf": st.csrf_of(page.text), "name": "root", "password": st.PASSWORD},
                    headers=headers, follow_redirects=False)
    assert r.status_code == 403 and "screening_session=" not in r.headers.get("set-cookie", ""), headers


@pytest.mark.parametrize("headers", [
    {},                                                        # an old browser: the CSRF token decides
    {"origin": "http://127.0.0.1"},
    {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"},
    {"origin": "null", "sec-fetch-site": "same-origin"},       # our Referrer-Policy: no-referrer hides it
    {"sec-fetch-site": "none"},
])
def test_a_same_origin_post_is_answered(served, headers):
    client, app, root = served
    sign_in(client)
    r = client.post("/recheck", data={"csrf": csrf(client)}, headers=headers, follow_redirects=False)
    assert r.status_code == 303, headers
    assert client.post("/recheck", data={"csrf": "wrong"}, headers=headers).status_code == 403  # token still needed


# ---------------------------------------------------------------- the Host allow-list


def test_loopback_names_are_answered_and_others_refused_with_headers(served):
    client, app, root = served
    for host in ("127.0.0.1", "127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert client.get("/login", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil.example:8765", "10.0.0.1", "",
                 "www.127.0.0.1"):
        r = client.get("/batches/", headers={"host": host}, follow_redirects=False)
        assert r.status_code == 400, host
        assert "location" not in r.headers and r.headers["x-frame-options"] == "DENY", host


def test_allowed_host_option_behind_a_tls_proxy(tmp_path, monkeypatch):
    app, root = _app(tmp_path, monkeypatch, allowed_hosts=("Screening.Trust.example",), behind_tls_proxy=True)
    with TestClient(app, base_url="https://screening.trust.example") as client:  # (Secure cookies)
        page = client.get("/login")
        assert page.status_code == 200
        ours = {"origin": "https://screening.trust.example", "host": "127.0.0.1:8765"}  # nginx's default Host
        r = client.post("/login", data={"csrf": st.csrf_of(page.text), "name": "root", "password": st.PASSWORD},
                        headers=ours, follow_redirects=False)
        assert r.status_code == 303
        assert client.get("/login", headers={"host": "other.example"}).status_code == 400
        r = client.post("/login", data={"csrf": "x"}, headers={"origin": "https://other.example"})
        assert r.status_code == 403


def test_a_non_loopback_address_does_not_answer_to_localhost(tmp_path, monkeypatch):
    app, root = _app(tmp_path, monkeypatch, host="192.0.2.5")
    with TestClient(app, base_url="http://192.0.2.5") as client:
        assert client.get("/login").status_code == 200
        assert client.get("/login", headers={"host": "localhost"}).status_code == 400


def test_serve_refuses_an_unusable_allowed_host_and_an_unnamed_wildcard_address(tmp_path, monkeypatch, capsys):
    config = st.make_trust(tmp_path, monkeypatch)
    for bad in ("https://x.example", "x.example:8443", "*.example", "a b"):
        assert cli.main(["serve", "--config", str(config), "--allowed-host", bad]) == 2, bad
        assert "--allowed-host" in capsys.readouterr().err
    assert cli.main(["serve", "--config", str(config), "--host", "0.0.0.0", "--behind-tls-proxy"]) == 2
    assert "--allowed-host NAME" in capsys.readouterr().err


# ---------------------------------------------------------------- private folders


def test_private_dir_narrows_every_level_and_never_follows_a_link(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "uploads").mkdir(mode=0o777)
    os.chmod(state / "uploads", 0o777)  # left loose by an earlier version
    made = uploads.private_dir(state / "uploads" / "abc" / "0001", under=state)
    for p in (state / "uploads", state / "uploads" / "abc", made):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    (state / "copies").symlink_to(elsewhere)
    with pytest.raises(OSError):
        uploads.private_dir(state / "copies" / "abc", under=state)
    assert list(elsewhere.iterdir()) == [] and stat.S_IMODE(elsewhere.stat().st_mode) == 0o755
    (state / "file").write_text("x")
    with pytest.raises(OSError):
        uploads.private_dir(state / "file" / "abc", under=state)


def test_a_copies_folder_replaced_by_a_link_gets_no_copy(served, tmp_path):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".screening" / "copies").symlink_to(outside)
    raw = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    raw.cookies = client.cookies
    r = raw.post(photo_of(url) + "/copy", data={"csrf": csrf(client)}, follow_redirects=False)
    assert r.status_code == 500 and r.headers["x-frame-options"] == "DENY"
    assert "Traceback" not in r.text
    assert list(outside.rglob("*")) == []


# ---------------------------------------------------------------- "do not publish" and copies


def test_do_not_publish_refuses_a_copy_of_the_same_photo_in_another_batch(served):
    client, app, root = served
    sign_in(client)
    first = upload(client, [("gps.jpg", gps_jpeg())])
    second = upload(client, [("again.jpg", gps_jpeg())])  # the same photo, uploaded again
    token = csrf(client)
    client.post(photo_of(second) + "/copy", data={"csrf": token})
    assert client.get(photo_of(second) + "/download").status_code == 200  # control: before the mark
    assert client.post(photo_of(first) + "/hold", data={"csrf": token}, follow_redirects=False).status_code == 303
    r = client.get(photo_of(second) + "/download")
    assert r.status_code == 409 and "do not publish" in r.text
    assert "download-copy" not in client.get(photo_of(second)).text  # and it is not offered


# ---------------------------------------------------------------- errors


def test_an_unexpected_error_is_a_plain_500_with_every_header(served, monkeypatch):
    client, app, root = served
    sign_in(client)

    def broken():
        raise RuntimeError("SECRET internal detail")

    monkeypatch.setattr(app.state.ctx.workspace, "batches", broken)
    raw = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    raw.cookies = client.cookies
    r = raw.get("/")
    assert r.status_code == 500
    assert "SECRET" not in r.text and "Traceback" not in r.text
    h = r.headers
    assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in h["content-security-policy"] and h["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------- account changes in the audit trail


def test_account_changes_on_the_admin_page_are_audited_with_the_admins_name(served):
    client, app, root = served
    sign_in(client, "root")
    secret = "a-new-password-SECRET"
    r = client.post("/admin/users", data={"csrf": csrf(client, "/admin"), "name": "bob", "role": "reviewer",
                                          "password": secret}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/admin/users/remove", data={"csrf": csrf(client, "/admin"), "name": "bob"},
                    follow_redirects=False)
    assert r.status_code == 303
    client.post("/admin/users/remove", data={"csrf": csrf(client, "/admin"), "name": "nobody"})  # refused: no row
    trail = app.state.ctx.trail("audit", "test")
    try:
        changes = [(c["user"], c["action"], c["account"], c["detail"]) for c in trail.account_changes()]
    finally:
        trail.close()
    assert changes == [("root", "add", "bob", "role reviewer"), ("root", "remove", "bob", "")]
    page = client.get("/audit").text
    assert "Account changes" in page and "role reviewer" in page and secret not in page
    blob = b"".join(p.read_bytes() for p in (root / ".screening").glob("state.sqlite*"))
    assert secret.encode() not in blob
    sign_in(client, "alice")  # a reviewer reads them too, and still cannot make them
    assert client.post("/admin/users/remove", data={"csrf": csrf(client), "name": "root"}).status_code == 403
    assert "role reviewer" in client.get("/audit").text


# ---------------------------------------------------------------- uploads: OS clutter and XMP sidecars

_GPS_SIDECAR = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,48.048N" '
                'exif:GPSLongitude="1,32.946W"/></rdf:RDF></x:xmpmeta>').encode()


def _cards(client, url) -> dict[str, tuple[str, str]]:
    """uploaded name -> (status, detail) from the batch's rows."""
    batch = url.rsplit("/", 1)[1]
    return {f.name: (f.status, f.detail) for f in client.app.state.ctx.workspace.files(batch)}


def test_uploaded_os_clutter_is_set_aside_as_scan_does(served):
    client, app, root = served
    sign_in(client)
    clutter = [("Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
               ("folder/.DS_Store", b"\x00\x00\x00\x01Bud1" + b"\0" * 100),
               ("desktop.ini", b"[.ShellClassInfo]\r\nIconResource=x.dll,0\r\n"),
               ("._IMG_1.jpg", b"\x00\x05\x16\x07" + b"\0" * 100)]
    photo_named_clutter = ("thumbs.db", gps_jpeg())  # a photo renamed: screened (scan's rule)
    url = upload(client, clutter + [photo_named_clutter, ("a.jpg", st.jpeg((90, 90, 90)))])
    cards = _cards(client, url)
    for name, _ in clutter:
        status, detail = cards[name]
        assert status == "refused" and "clutter" in detail, name
    assert cards["thumbs.db"][0] == "needs_permission" and cards["a.jpg"][0] == "cleared"
    stored = sorted(p.name for p in (root / ".screening" / "uploads" / url.rsplit("/", 1)[1]).iterdir())
    assert stored == ["0005 thumbs db", "0006 a jpg"]  # clutter is not kept (a file is kept under its name's words)
    assert "set aside" in client.get(url).text


def _real_location(monkeypatch):
    from screening import pool
    from screening.detectors.location import LocationDetector
    from screening.model import Check

    def detectors(config, gallery, people=None):
        out = st.fakes(config, gallery, people)
        out[Check.LOCATION] = LocationDetector(config)
        return out

    monkeypatch.setattr(pool, "build_detectors", detectors)


def test_an_uploaded_xmp_sidecar_is_read_with_its_photo(served, monkeypatch):
    client, app, root = served
    _real_location(monkeypatch)
    sign_in(client)
    plain = st.jpeg((90, 90, 90))
    url = upload(client, [("IMG_1.JPG", plain), ("img_1.xmp", _GPS_SIDECAR), ("IMG_2.jpg", plain),
                          ("a/IMG_3.jpg", plain), ("b/IMG_3.jpg.xmp", _GPS_SIDECAR)])
    cards = _cards(client, url)
    assert cards["IMG_1.JPG"][0] == "needs_permission"  # the sidecar's GPS, read with the photo
    assert cards["img_1.xmp"][0] == "refused" and "sidecar of IMG_1.JPG" in cards["img_1.xmp"][1]
    assert cards["IMG_2.jpg"][0] == "cleared"  # control: the same photo with no sidecar
    assert cards["a/IMG_3.jpg"][0] == "cleared"  # another folder's sidecar is not its own ...
    assert cards["b/IMG_3.jpg.xmp"][0] == "error"  # ... and is screened on its own, as scan does
    assert "sidecar" in client.get(photo_of(url, 1)).text.lower()


def test_a_photo_uploaded_with_two_sidecars_is_refused_not_screened_without_them(served, monkeypatch):
    client, app, root = served
    _real_location(monkeypatch)
    sign_in(client)
    url = upload(client, [("IMG_1.jpg", st.jpeg((90, 90, 90))), ("IMG_1.xmp", b"<x/>"),
                          ("IMG_1.jpg.xmp", _GPS_SIDECAR), ("other.jpg", st.jpeg((80, 80, 80)))])
    cards = _cards(client, url)
    assert cards["IMG_1.jpg"][0] == "refused" and "2 XMP sidecars" in cards["IMG_1.jpg"][1]
    assert cards["IMG_1.xmp"][0] == cards["IMG_1.jpg.xmp"][0] == "refused"
    assert cards["other.jpg"][0] == "cleared"


# ---------------------------------------------------------------- login attempts keep no typed name


def test_login_attempts_keep_a_keyed_hash_not_the_typed_name(served):
    client, app, root = served
    typed = "Typed-In-The-Name-Field-SECRET"
    for _ in range(5):
        st.login(client, typed, "wrong password")
        st.login(client, "alice", "wrong password")
    state = root / ".screening"
    blob = b"".join(p.read_bytes() for p in state.glob("state.sqlite*"))
    assert typed.encode() not in blob
    assert b"account:alice" not in blob and b"address:testclient" not in blob
    key = state / "login-attempts.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert st.login(client, "alice").status_code == 429  # control: still counted per account
    from screening.store.accounts import Accounts

    again = Accounts(app.state.ctx.accounts.db)  # a restart: same key, same counts
    assert again.failures("account:alice", 900) == 5 and again.failures(f"account:{typed}", 900) == 5


def test_plain_login_attempts_of_an_older_version_are_dropped(tmp_path):
    import sqlite3

    from screening.store.accounts import Accounts

    db = tmp_path / "state.sqlite"
    Accounts(db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO login_attempts (key, at) VALUES ('account:old-SECRET', 1e12)")
    Accounts(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM login_attempts").fetchone()[0] == 0

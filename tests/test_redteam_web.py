"""Red team of `screening serve` (RTW-N): attacks by a logged-out visitor, another account on the
same machine, a reviewer trying admin things and an uploader of hostile files. Every test asserts
the SAFE outcome; a case found unsafe is xfail(strict) with a passing control beside it showing
the attack reaches the code. Real app, store and pipeline through Starlette's TestClient, fake
detectors (tests/serve_trust.py)."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
import time
import zipfile
from urllib.parse import urljoin

import pytest

pytest.importorskip("starlette")
from starlette.routing import Mount, Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from screening import pool  # noqa: E402
from screening.model import Check, TextFinding  # noqa: E402
from screening.web import passwords  # noqa: E402
from screening.web.app import create_app  # noqa: E402
from screening.web.security import Settings  # noqa: E402
from tests import serve_trust as st  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

XSS = "<script>alert(1)</script>"
IMG_XSS = "<img src=x onerror=alert(2)>"


class TextIfRed:
    """OCR that 'reads' markup in a photo whose first pixel is red (a name on a sign)."""

    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0][:3]
        if r > 200 and g < 50 and b < 50:
            return [TextFinding((5, 5, 20, 10), f"Pat {XSS} {IMG_XSS}", 0.99, 30, "person", "P1",
                                similarity=1.0)]
        return []


def fakes_with_text(config, gallery, people=None):
    out = st.fakes(config, gallery, people)
    out[Check.TEXT] = TextIfRed()
    return out


def _app(tmp_path, monkeypatch, **settings):
    root = tmp_path / "trust"
    root.mkdir()
    config = st.make_trust(root, monkeypatch)
    monkeypatch.setattr(pool, "build_detectors", fakes_with_text)
    st.add_accounts(config)
    return create_app(config, Settings(workers=1, **settings)), root


@pytest.fixture
def served(tmp_path, monkeypatch):
    app, root = _app(tmp_path, monkeypatch)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, app, root


def sign_in(client, name="alice"):
    r = st.login(client, name)
    assert r.status_code == 303, r.text
    return client


def upload(client, files, **data) -> str:
    home = client.get("/")
    r = client.post("/batches", data={"csrf": st.csrf_of(home.text), **data},
                    files=[("files", (name, body, "image/jpeg")) for name, body in files], follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    for _ in range(300):
        p = client.get(url + "/progress").json()
        if p["state"] in ("done", "failed"):
            return url
        time.sleep(0.1)
    raise AssertionError(f"batch not screened: {p}")


def photo_of(url: str, n: int = 1) -> str:
    return url.replace("/batches/", "/photo/") + f"/{n}"


def csrf(client, path="/") -> str:
    return st.csrf_of(client.get(path).text)


def gps_jpeg() -> bytes:
    return st.jpeg((200, 200, 200), gps=True)


# ---------------------------------------------------------------- RTW-1 every route without a session


def _concrete(path: str, batch: str) -> str:
    return re.sub(r"\{n(:int)?\}", "1", re.sub(r"\{batch(:str)?\}", batch, path))


def test_rtw1_every_route_refuses_a_visitor_without_a_session(served):
    """Enumerate the app's routes and call each (every method, real batch id) with no cookie."""
    client, app, root = served
    sign_in(client)
    url = upload(client, [("a.jpg", st.jpeg((90, 90, 90)))])
    batch = url.rsplit("/", 1)[1]
    assert client.get(photo_of(url) + "/image").status_code == 200  # control: reachable signed in
    client.cookies.clear()
    tried = 0
    for route in app.routes:
        if isinstance(route, Mount) or route.path == "/login":
            continue
        assert isinstance(route, Route)
        path = _concrete(route.path, batch)
        for method in sorted(route.methods or {"GET"}):
            r = client.request(method, path, follow_redirects=False)
            tried += 1
            assert r.status_code in (303, 401), (method, path, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login?next="), (method, path)
            assert b"\xff\xd8" not in r.content and b"PNG" not in r.content[:8], (method, path)
            assert batch not in r.text.replace(f"next=%2F", "").split("next=")[0], (method, path)
    assert tried >= 15
    assert len(app.state.ctx.workspace.batches()) == 1  # no POST did anything


def test_rtw2_static_mount_serves_only_its_own_files(served):
    client, app, root = served
    assert client.get("/static/progress.js").status_code == 200  # control: public by design
    for path in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py", "/static/..%5capp.py",
                 "/static/%2e%2e%2ftemplates%2fbase.html", "/static/../../store/accounts.py",
                 "/static//etc/passwd", "/static/%00progress.js"):
        r = client.get(path)
        assert r.status_code in (400, 404, 405), path
        assert "import" not in r.text and "root:" not in r.text, path


def test_rtw3_error_pages_need_no_session_and_leak_nothing(served):
    client, app, root = served
    for path in ("/nope", "/photo/x/y", "/batches/", "/admin/users"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code in (303, 307, 401, 404, 405), path
        if r.status_code == 307:  # Starlette's slash redirect: to this site only
            assert r.headers["location"].startswith("http://127.0.0.1/"), r.headers["location"]
        assert "Traceback" not in r.text and str(root) not in r.text, path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- RTW-4..7 sessions


def test_rtw4_session_fixation_a_planted_cookie_never_becomes_the_victims_session(served):
    client, app, root = served
    sign_in(client, "root")  # the attacker's own session, planted in the victim's browser
    planted = client.cookies.get("screening_session")
    r = st.login(client, "alice")
    assert r.status_code == 303
    assert client.cookies.get("screening_session") != planted  # a fresh token at sign-in
    client.cookies.set("screening_session", planted)
    page = client.get("/")
    assert "alice (reviewer)" not in page.text  # the planted token is not alice's


def test_rtw5_removing_an_account_ends_its_sessions(served):
    client, app, root = served
    sign_in(client, "alice")
    assert client.get("/", follow_redirects=False).status_code == 200  # control
    app.state.ctx.accounts.remove("alice")
    assert client.get("/", follow_redirects=False).status_code == 303
    app.state.ctx.accounts.add("alice", "admin", passwords.hash_password(st.PASSWORD))  # same name again
    assert client.get("/admin", follow_redirects=False).status_code == 303  # the old cookie stays dead


def test_rtw6_a_new_password_ends_the_accounts_sessions(served):
    client, app, root = served
    sign_in(client, "alice")
    assert client.get("/", follow_redirects=False).status_code == 200
    app.state.ctx.accounts.set_password("alice", passwords.hash_password("a brand new password"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_rtw7_removed_by_an_admin_in_the_browser_ends_the_sessions(served, tmp_path):
    client, app, root = served
    with TestClient(app, base_url="http://127.0.0.1") as victim:
        sign_in(victim, "alice")
        assert victim.get("/", follow_redirects=False).status_code == 200
        sign_in(client, "root")
        r = client.post("/admin/users/remove", data={"csrf": csrf(client, "/admin"), "name": "alice"},
                        follow_redirects=False)
        assert r.status_code == 303
        assert victim.get("/", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------- RTW-8..11 CSRF


def test_rtw8_csrf_another_users_token_or_a_token_in_the_query_is_refused(served):
    client, app, root = served
    sign_in(client, "root")
    roots_token = csrf(client)
    with TestClient(app, base_url="http://127.0.0.1") as other:
        sign_in(other, "alice")
        url = upload(other, [("gps.jpg", gps_jpeg())])
        photo = photo_of(url)
        mine = csrf(other)
        data = {"by": "alice", "note": "consent form"}
        assert other.post(photo + "/permit", data=data | {"csrf": roots_token}).status_code == 403
        assert other.post(photo + f"/permit?csrf={mine}", data=data).status_code == 403
        assert other.post(photo + "/hold", params={"csrf": mine}).status_code == 403
        assert other.get(photo + f"/permit?csrf={mine}&by=a&note=b").status_code == 405
        assert other.get(f"/logout?csrf={mine}").status_code == 405
        assert "needs permission" in other.get(photo).text
        r = other.post(photo + "/permit", data=data | {"csrf": mine}, follow_redirects=False)
        assert r.status_code == 303  # control: the right token works


def test_rtw9_csrf_token_as_a_file_part_is_refused(served):
    client, app, root = served
    sign_in(client)
    token = csrf(client)
    r = client.post("/recheck", files=[("csrf", ("csrf", token.encode(), "text/plain"))])
    assert r.status_code in (400, 403)
    assert client.post("/recheck", data={"csrf": token}, follow_redirects=False).status_code == 303


def test_rtw10_get_never_changes_state(served):
    """SameSite=Strict is void from another port of the same host (same site): no GET may act."""
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    photo = photo_of(url)
    for path in (photo + "/permit", photo + "/copy", photo + "/hold", "/recheck", "/logout", "/admin/users",
                 "/admin/users/remove", "/batches", "/batches/folder"):
        assert client.get(path).status_code in (303, 401, 404, 405), path
    assert not (root / ".screening" / "copies").exists()
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    assert "needs permission" in client.get(photo).text


def test_rtw11_login_csrf_from_another_origin_is_refused(served):
    client, app, root = served
    planted = "attacker-chosen-login-token"
    client.cookies.set("screening_login", planted)  # set by http://127.0.0.1:9999 (cookies ignore ports)
    r = client.post("/login", data={"csrf": planted, "name": "root", "password": st.PASSWORD, "next": "/"},
                    headers={"origin": "http://127.0.0.1:9999", "sec-fetch-site": "same-site"},
                    follow_redirects=False)
    assert r.status_code == 403 and "screening_session" not in r.headers.get("set-cookie", "")


def test_rtw11_control_a_same_origin_sign_in_works(served):
    client, app, root = served
    page = client.get("/login")
    r = client.post("/login", data={"csrf": st.csrf_of(page.text), "name": "root", "password": st.PASSWORD},
                    headers={"origin": "http://127.0.0.1"}, follow_redirects=False)
    assert r.status_code == 303 and "screening_session" in r.headers["set-cookie"]


# ---------------------------------------------------------------- RTW-12 privilege


def test_rtw12_a_reviewer_cannot_call_admin_actions_by_url(served):
    client, app, root = served
    sign_in(client, "alice")
    token = csrf(client)
    assert client.get("/admin").status_code == 403
    r = client.post("/admin/users/remove", data={"csrf": token, "name": "root"})
    assert r.status_code == 403 and app.state.ctx.accounts.get("root") is not None
    r = client.post("/admin/users", data={"csrf": token, "name": "alice2", "role": "admin", "password": "x" * 12})
    assert r.status_code == 403 and app.state.ctx.accounts.get("alice2") is None
    assert "state database" not in client.get("/admin").text  # the settings stay hidden
    sign_in(client, "root")
    r = client.post("/admin/users", data={"csrf": csrf(client, "/admin"), "name": "x", "role": "superuser",
                                          "password": "x" * 12})
    assert r.status_code == 400 and app.state.ctx.accounts.get("x") is None  # no invented role


# ---------------------------------------------------------------- RTW-13/14 ids and traversal


def test_rtw13_batch_ids_are_random_and_unguessable(served):
    client, app, root = served
    sign_in(client)
    ids = [upload(client, [("a.jpg", st.jpeg((9, 9, 9)))]).rsplit("/", 1)[1] for _ in range(3)]
    assert len(set(ids)) == 3
    for i in ids:
        assert re.fullmatch(r"[0-9a-f]{16}", i)  # 64 random bits
    a, b = int(ids[0], 16), int(ids[1], 16)
    assert abs(a - b) > 1 << 32  # not a counter or a clock


# (a literal ".." segment is resolved by the client itself, as a browser does)
TRAVERSAL = ["%2e%2e", "..%00", "...", "%2E%2E%2F..", "..%2f..%2fetc", "..%5c..%5cwin.ini", "%00", "a%00b",
             "%2fetc%2fpasswd", "C:%5cWindows", "..%252f", "\u2025", "%c0%ae%c0%ae"]


def test_rtw14_path_traversal_in_url_parameters_reaches_no_file(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    (root / ".screening" / "secret").write_bytes(b"SECRET-BYTES")
    token = csrf(client)
    for bad in TRAVERSAL:
        for path in (f"/batches/{bad}", f"/batches/{bad}/progress", f"/photo/{bad}/1", f"/photo/{bad}/1/image",
                     f"/photo/{bad}/1/download", f"/photo/{bad}/1/original"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code in (307, 400, 401, 404), (path, r.status_code)
            if r.status_code == 307:  # Starlette's slash redirect: to this site only
                assert r.headers["location"].startswith("http://127.0.0.1/"), (path, r.headers["location"])
            assert b"SECRET" not in r.content and b"root:" not in r.content
        r = client.post(f"/photo/{bad}/1/copy", data={"csrf": token})
        assert r.status_code in (400, 404), bad
    for n in ("-1", "0", "1.0", "1%00", "9223372036854775807"):
        assert client.get(photo_of(url).rsplit("/", 1)[0] + f"/{n}/original").status_code in (404,), n
    found = [p for p in (root / ".screening").rglob("*") if p.is_dir() and p.parent.name == "copies"]
    assert not found


def test_rtw31_a_huge_photo_number_is_a_404_not_a_crash(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("a.jpg", st.jpeg((90, 90, 90)))])
    raw = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    raw.cookies = client.cookies
    base = url.replace("/batches/", "/photo/")
    assert raw.get(base + "/9223372036854775807").status_code == 404  # control: the largest SQLite integer
    for suffix in ("", "/image", "/original", "/download"):
        r = raw.get(base + "/99999999999999999999" + suffix, follow_redirects=False)
        assert "Traceback" not in r.text and "OverflowError" not in r.text  # the 500 leaks no detail
        assert r.status_code == 404, (suffix, r.status_code)
        assert r.headers.get("x-frame-options") == "DENY"  # (the 500 page also lacks every security header)


def test_rtw15_folder_field_takes_no_path(tmp_path, monkeypatch):
    offered = tmp_path / "offered"
    offered.mkdir()
    (offered / "a.jpg").write_bytes(st.jpeg((5, 5, 5)))
    app, root = _app(tmp_path, monkeypatch, folders=(offered,))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client)
        token = csrf(client)
        for bad in ("../", str(root), "/etc", "1", "-1", "0x0", "\u0660", " 0", "0\x00", "00000000001"):
            r = client.post("/batches/folder", data={"csrf": token, "folder": bad}, follow_redirects=False)
            assert r.status_code == 400, bad
        r = client.post("/batches/folder", data={"csrf": token, "folder": "0"}, follow_redirects=False)
        assert r.status_code == 303  # control
        assert len(app.state.ctx.workspace.batches()) == 1


# ---------------------------------------------------------------- RTW-16..19 uploads


def test_rtw16_hostile_names_and_title_are_display_text_only(served):
    client, app, root = served
    sign_in(client)
    names = ["../../../evil.jpg", "%2e%2e%2fevil.jpg", "/var/abs.jpg", "..\\..\\win.jpg", "a\x00b.jpg",
             XSS + ".jpg", IMG_XSS + ".jpg", "\u202egpj.exe", "x\r\nSet-Cookie: a=b.jpg"]
    url = upload(client, [(n, st.jpeg((90, 90, 90))) for n in names], title=IMG_XSS + XSS)
    batch = url.rsplit("/", 1)[1]
    stored = sorted(p.name for p in (root / ".screening" / "uploads" / batch).iterdir())
    # each stored as "NNNN" and its name's words (letters, digits, '_'), never a path (RT27-10)
    assert [name.split(" ", 1)[0] for name in stored] == [f"{i:04d}" for i in range(1, len(names) + 1)]
    assert all(re.fullmatch(r"\d{4}( \w+)*", name) for name in stored), stored
    assert not (root / "evil.jpg").exists() and not (root.parent / "evil.jpg").exists()
    for page in (client.get("/").text, client.get(url).text, client.get(photo_of(url, 6)).text,
                 client.get(photo_of(url, 7)).text, client.get("/audit").text):
        assert XSS not in page and IMG_XSS not in page and "<img src=x" not in page
        assert "\u202e" not in page
    assert "&lt;script&gt;" in client.get(url).text  # control: the name is shown, escaped
    r = client.get(photo_of(url, 9))
    assert "set-cookie: a=b" not in str(r.headers).lower()


def test_rtw17_text_read_in_a_photo_is_shown_escaped(served):
    """A 'name found by OCR' holding markup: stored XSS through the photo page and the audit."""
    client, app, root = served
    sign_in(client)
    url = upload(client, [("sign.jpg", st.jpeg((250, 10, 10)))])
    page = client.get(photo_of(url)).text
    assert "needs permission" in page or "Pat" in page  # control: the finding reached the page
    for shown in (page, client.get(url).text, client.get("/audit").text, client.get("/audit?user=" + XSS).text):
        assert XSS not in shown and IMG_XSS not in shown


def test_rtw18_hostile_files_are_never_cleared_nor_served_runnable(served):
    client, app, root = served
    sign_in(client)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.jpg", b"\0" * (20 << 20))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    polyglot = st.jpeg((90, 90, 90)) + b"<html><script>alert(3)</script></html>"
    files = [("bomb.zip", bomb.getvalue()), ("bomb.jpg", bomb.getvalue()), ("x.svg", svg), ("svg.jpg", svg),
             ("page.jpg", html), ("page.html", html), ("poly.jpg", polyglot), ("png.jpg", st.png_bomb())]
    url = upload(client, files)
    cards = {int(n): s for s, n in re.findall(r'<article class="card (\w+)".*?href="/photo/\w+/(\d+)"',
                                             client.get(url).text, re.S)}
    assert len(cards) == len(files), cards
    for n in range(1, 7):
        assert cards[n] != "cleared", files[n - 1][0]
    assert cards[8] != "cleared"
    for n in range(1, len(files) + 1):
        for suffix in ("/image", "/original", "/download"):
            r = client.get(photo_of(url, n) + suffix)
            kind = r.headers.get("content-type", "")
            assert not kind.startswith(("text/html", "image/svg", "application/xhtml")), (n, suffix, kind)
            assert r.headers["x-content-type-options"] == "nosniff"
            if r.status_code == 200 and suffix != "/image":
                assert r.headers["content-disposition"].startswith("attachment"), (n, suffix)
                assert kind == "application/octet-stream"
            if suffix == "/image":
                assert kind in ("image/jpeg", "image/png") and b"<script" not in r.content
    for p in (root / ".screening" / "uploads").rglob("*"):
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p


def test_rtw19_more_files_than_allowed_in_one_request_is_refused_whole(served):
    client, app, root = served
    sign_in(client)
    token = csrf(client)
    files = [("files", (f"{i}.jpg", b"x", "image/jpeg")) for i in range(5001)]
    r = client.post("/batches", data={"csrf": token}, files=files, follow_redirects=False)
    assert r.status_code in (400, 413)
    assert app.state.ctx.workspace.batches() == []
    assert not list((root / ".screening").rglob("0001"))  # nothing of the refused request was kept


# ---------------------------------------------------------------- RTW-20 modes whatever the umask


def test_rtw20_every_folder_is_0700_and_every_file_0600_under_umask_0(tmp_path, monkeypatch):
    old = os.umask(0)
    try:
        app, root = _app(tmp_path, monkeypatch)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            sign_in(client)
            url = upload(client, [("gps.jpg", gps_jpeg())])
            r = client.post(photo_of(url) + "/copy", data={"csrf": csrf(client)}, follow_redirects=False)
            assert r.status_code == 303
    finally:
        os.umask(old)
    state = root / ".screening"
    copies = [p for p in (state / "copies").rglob("*") if p.is_file()]
    assert copies  # control: a copy was made
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in copies)  # files: fine
    loose = {str(p.relative_to(state)): oct(stat.S_IMODE(p.stat().st_mode))
             for p in [state, *state.rglob("*")] if p.is_dir() and stat.S_IMODE(p.stat().st_mode) != 0o700}
    assert not loose, loose


# ---------------------------------------------------------------- RTW-21/22 redirects and login


def _browser_target(location: str) -> str:
    """Where a browser lands: it drops tab/CR/LF and treats '\\' as '/' in special URLs."""
    cleaned = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    return urljoin("http://127.0.0.1:8765/login", cleaned)


def test_rtw21_next_never_leaves_the_site(served):
    client, app, root = served
    for target in ("//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\r/evil.example",
                   "/%2f/evil.example", "/%5cevil.example", "https:evil.example", "http://evil.example",
                   "javascript:alert(1)", "/\x00//evil.example", " //evil.example", "/.//evil.example",
                   "/ /evil.example", "/\u3002/evil.example", "///evil.example", "/\\/evil.example"):
        r = st.login(client, next_=target)
        assert r.status_code == 303, target
        where = _browser_target(r.headers["location"])
        assert where.startswith("http://127.0.0.1:8765/"), (target, r.headers["location"], where)
        client.cookies.clear()
    page = client.get("/login", params={"next": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in page


def test_rtw22_rate_limit_is_not_bypassed_by_varying_the_name(served):
    client, app, root = served
    for variant in ("Alice", "ALICE", " alice", "alice ", "alice\t", "alice\u200b", "\uff41lice", "alice\x00"):
        r = st.login(client, variant)  # the RIGHT password: a variant must not sign in
        assert r.status_code in (401, 429), variant
        assert "screening_session" not in r.headers.get("set-cookie", ""), variant
    app.state.ctx.accounts.forgive("address:testclient")
    for _ in range(5):
        st.login(client, "alice", "wrong password")
    assert st.login(client, "alice").status_code == 429  # the account itself is locked


def test_rtw23_an_unknown_name_costs_a_full_password_check(served, monkeypatch):
    """No timing oracle: scrypt runs with the same parameters for an unknown name (no wall-clock
    assertion: the KDF calls are counted)."""
    client, app, root = served
    seen = []
    real = hashlib.scrypt

    def counting(*a, **kw):
        seen.append((kw.get("n"), kw.get("r"), kw.get("p")))
        return real(*a, **kw)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    st.login(client, "no-such-user", "wrong password")
    st.login(client, "alice", "wrong password")
    assert len(seen) == 2 and seen[0] == seen[1] == (passwords.N, passwords.R, passwords.P)


def test_rtw24_a_password_is_never_in_the_database_logs_or_audit(served, caplog):
    client, app, root = served
    secret = "Pa55-redteam-SECRET-typed"
    caplog.set_level(logging.DEBUG)
    st.login(client, "alice", secret)
    st.login(client, secret, "x")  # typed in the name field by mistake: it is still a secret
    sign_in(client, "root")
    client.post("/admin/users", data={"csrf": csrf(client, "/admin"), "name": "bob", "role": "reviewer",
                                      "password": secret + "-bob"})
    assert app.state.ctx.accounts.get("bob") is not None  # control
    blob = b"".join(p.read_bytes() for p in (root / ".screening").glob("state.sqlite*"))
    assert secret.encode() not in blob.replace(f"account:{secret}".encode(), b"")
    assert (secret + "-bob").encode() not in blob
    assert secret not in caplog.text
    assert secret not in client.get("/audit").text and secret not in client.get("/audit.csv").text


# ---------------------------------------------------------------- RTW-25/26 cookies and headers


def test_rtw25_every_cookie_is_httponly_and_samesite(served):
    client, app, root = served
    cookies = [client.get("/login").headers["set-cookie"], st.login(client).headers["set-cookie"]]
    for c in cookies:
        assert "HttpOnly" in c and "samesite=strict" in c.lower() and "path=/" in c.lower(), c


def test_rtw26_security_headers_on_photos_downloads_errors_and_json(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    photo = photo_of(url)
    client.post(photo + "/copy", data={"csrf": csrf(client)})
    responses = {p: client.get(p) for p in (photo, photo + "/image", photo + "/download", photo + "/original",
                                            url + "/progress", "/audit.csv", "/nope", "/batches/zz")}
    assert responses[photo + "/download"].status_code == 200  # control: the copy is served
    for path, r in responses.items():
        h = r.headers
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff", path
        assert h["cache-control"] == "no-store", path
        assert h["referrer-policy"] == "no-referrer", path
        assert "server" not in h or "uvicorn" not in h["server"].lower(), path


# ---------------------------------------------------------------- RTW-27 the audit names the account


def test_rtw27_permit_hold_copy_and_download_are_recorded_with_the_account(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg()), ("plain.jpg", st.jpeg((90, 90, 90)))])
    token = csrf(client)
    client.post(photo_of(url, 1) + "/copy", data={"csrf": token})
    assert client.get(photo_of(url, 1) + "/download").status_code == 200
    client.post(photo_of(url, 1) + "/permit", data={"csrf": token, "by": "Ms Head", "note": "form 12"})
    client.post(photo_of(url, 2) + "/hold", data={"csrf": token})
    trail = app.state.ctx.trail("audit", "test")
    try:
        rows = [(e.command, e.user) for e in trail.entries()]
    finally:
        trail.close()
    for command in ("scan", "redact", "download", "permit", "do-not-publish"):
        users = {u for c, u in rows if c == command}
        assert users == {"alice"}, (command, rows)


# ---------------------------------------------------------------- RTW-28..30 what may be downloaded


def test_rtw28_an_error_or_unredacted_photo_is_never_downloadable(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg()), ("broken.jpg", b"not a jpeg at all" * 10)])
    for n in (1, 2):
        assert client.get(photo_of(url, n) + "/original").status_code == 409, n
        assert client.get(photo_of(url, n) + "/download").status_code == 404, n
    r = client.post(photo_of(url, 2) + "/copy", data={"csrf": csrf(client)})
    assert client.get(photo_of(url, 2) + "/download").status_code in (404, 409)
    assert client.get(photo_of(url, 1) + "/image").status_code == 200  # control: viewable, not publishable


def test_rtw29_a_copy_made_before_do_not_publish_is_not_downloadable_after(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    photo = photo_of(url)
    token = csrf(client)
    client.post(photo + "/copy", data={"csrf": token})
    assert client.get(photo + "/download").status_code == 200  # before the mark
    assert client.post(photo + "/hold", data={"csrf": token}, follow_redirects=False).status_code == 303
    r = client.get(photo + "/download")
    assert r.status_code == 409, r.status_code


def test_rtw29_control_the_mark_refuses_a_new_copy_and_the_original(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("gps.jpg", gps_jpeg())])
    photo = photo_of(url)
    token = csrf(client)
    client.post(photo + "/permit", data={"csrf": token, "by": "Ms Head", "note": "form 12"})
    assert client.get(photo + "/original").status_code == 200  # permitted: downloadable
    client.post(photo + "/hold", data={"csrf": token})
    assert client.get(photo + "/original").status_code == 409
    assert client.post(photo + "/copy", data={"csrf": token}).status_code == 409


# ---------------------------------------------------------------- RTW-30 host header / DNS rebinding


def test_rtw30_a_foreign_host_header_is_refused(served):
    client, app, root = served
    r = client.get("/login", headers={"host": "evil.example"})
    assert r.status_code in (400, 421), r.status_code


def test_rtw30_control_the_real_host_is_answered(served):
    client, app, root = served
    assert client.get("/login", headers={"host": "127.0.0.1:8765"}).status_code == 200


# ---------------------------------------------------------------- RTW-32 formulas in the audit export


def test_rtw32_permission_text_cannot_become_a_spreadsheet_formula_in_audit_csv(served):
    client, app, root = served
    sign_in(client)
    url = upload(client, [("=HYPERLINK(\"http://evil.example\").jpg", gps_jpeg())], title="=1+1")
    client.post(photo_of(url) + "/permit", data={"csrf": csrf(client), "by": "@SUM(A1)",
                                                 "note": "=cmd|' /C calc'!A0"})
    text = client.get("/audit.csv").text
    assert "@SUM(A1)" in text or "cmd|" in text  # control: the permission is exported
    import csv as csv_module
    for row in csv_module.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("-").replace(".", "").isdigit(), cell


# ---------------------------------------------------------------- RTW-33 redirects built from the Host header


def test_rtw33_no_redirect_is_built_from_a_foreign_host_header(served):
    client, app, root = served
    r = client.get("/batches/", headers={"host": "evil.example"}, follow_redirects=False)
    assert "evil.example" not in r.headers.get("location", ""), r.headers.get("location")


def test_rtw33_control_the_slash_redirect_stays_on_the_real_host(served):
    client, app, root = served
    r = client.get("/batches/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "http://127.0.0.1/batches"

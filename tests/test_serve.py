"""`screening serve`: every refusal (no session, wrong role, CSRF, hostile uploads, rate limit,
expiry) and the journey, through Starlette's TestClient against the real app, store and pipeline
(fake detectors: tests/serve_trust.py)."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import time

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from screening.web import uploads  # noqa: E402
from screening.web.app import create_app  # noqa: E402
from screening.web.security import Settings  # noqa: E402
from tests import serve_trust as st  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(client, app context, trust folder): the app running, alice (reviewer) and root (admin)."""
    root = tmp_path / "trust"
    root.mkdir()
    config = st.make_trust(root, monkeypatch)
    st.add_accounts(config)
    app = create_app(config, Settings(workers=1))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, app.state.ctx, root


def signed_in(client, name="alice"):
    r = st.login(client, name)
    assert r.status_code == 303, r.text
    return client


def upload(client, files, **data) -> str:
    """Upload (name, bytes) pairs; the batch's URL once screened."""
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


def statuses(client, url) -> dict[int, str]:
    page = client.get(url).text
    return {int(n): s for s, n in re.findall(r'<article class="card (\w+)".*?href="/photo/\w+/(\d+)"', page, re.S)}


# ---------------------------------------------------------------- no session, wrong role


def test_every_page_needs_a_session(served):
    client, ctx, _ = served
    for path in ("/", "/audit", "/admin", "/batches/abc", "/photo/abc/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    for path in ("/photo/abc/1/image", "/photo/abc/1/download", "/photo/abc/1/original", "/audit.csv",
                 "/batches/abc/progress"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 401, path
        assert b"\xff\xd8" not in r.content


def test_images_need_a_session_even_for_a_real_photo(served):
    client, ctx, _ = served
    signed_in(client)
    url = upload(client, [("a.jpg", st.jpeg((90, 90, 90)))])
    photo = url.replace("/batches/", "/photo/") + "/1"
    assert client.get(photo + "/image").headers["content-type"] == "image/jpeg"
    client.cookies.clear()
    r = client.get(photo + "/image")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/plain")


def test_a_reviewer_cannot_reach_admin_pages(served):
    client, ctx, _ = served
    signed_in(client, "alice")
    home = client.get("/")
    assert client.get("/admin").status_code == 403
    r = client.post("/admin/users", data={"csrf": st.csrf_of(home.text), "name": "mallory", "role": "admin",
                                          "password": "x" * 12})
    assert r.status_code == 403
    assert ctx.accounts.get("mallory") is None


def test_an_admin_adds_and_removes_accounts(served):
    client, ctx, _ = served
    signed_in(client, "root")
    page = client.get("/admin")
    assert page.status_code == 200
    client.post("/admin/users", data={"csrf": st.csrf_of(page.text), "name": "bob", "role": "reviewer",
                                      "password": "long enough pw"})
    assert ctx.accounts.get("bob").role == "reviewer"
    assert "long enough pw" not in ctx.accounts.get("bob").password
    r = client.post("/admin/users", data={"csrf": st.csrf_of(page.text), "name": "eve", "role": "reviewer",
                                          "password": "short"})
    assert r.status_code == 400 and ctx.accounts.get("eve") is None
    client.post("/admin/users/remove", data={"csrf": st.csrf_of(page.text), "name": "bob"})
    assert ctx.accounts.get("bob") is None


# ---------------------------------------------------------------- CSRF


def test_forms_without_the_csrf_token_are_refused(served):
    client, ctx, root = served
    signed_in(client)
    url = upload(client, [("gps.jpg", st.jpeg((200, 30, 30), gps=True))])
    photo = url.replace("/batches/", "/photo/") + "/1"
    for token in (None, "forged-token", ""):
        data = {"by": "alice", "note": "form"} | ({"csrf": token} if token is not None else {})
        assert client.post(photo + "/permit", data=data).status_code == 403
        assert client.post(photo + "/hold", data=data).status_code == 403
        assert client.post(photo + "/copy", data=data).status_code == 403
        assert client.post("/recheck", data=data).status_code == 403
        assert client.post("/logout", data=data).status_code == 403
        r = client.post("/batches", data=data, files=[("files", ("x.jpg", st.jpeg((1, 2, 3)), "image/jpeg"))])
        assert r.status_code == 403
    assert "needs permission" in client.get(photo).text  # nothing was permitted
    assert len(ctx.workspace.batches()) == 1  # no batch from the forged uploads
    assert not (root / ".screening" / "copies").exists()


def test_the_login_form_needs_its_own_token(served):
    client, ctx, _ = served
    client.get("/login")
    r = client.post("/login", data={"csrf": "forged", "name": "alice", "password": st.PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 403 and "screening_session" not in r.headers.get("set-cookie", "")


def test_login_never_redirects_off_site(served):
    client, ctx, _ = served
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = st.login(client, next_=target)
        assert r.headers["location"] == "/"


# ---------------------------------------------------------------- cookies, headers, expiry, logout


def test_cookie_flags_and_security_headers(served):
    client, ctx, _ = served
    r = st.login(client)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Secure" not in cookie
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # no inline script: the CSP would block it


def test_cookies_are_secure_behind_tls(tmp_path, monkeypatch):
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    app = create_app(config, Settings(behind_tls_proxy=True), start_runner=False)
    with TestClient(app, base_url="https://127.0.0.1") as client:
        r = st.login(client)
        assert "Secure" in r.headers["set-cookie"]
        assert "strict-transport-security" in client.get("/").headers


def test_sessions_expire_and_logout_ends_them(served):
    client, ctx, _ = served
    signed_in(client)
    assert client.get("/", follow_redirects=False).status_code == 200
    ctx.accounts.age_sessions(31 * 60)  # idle longer than 30 minutes
    assert client.get("/", follow_redirects=False).status_code == 303
    signed_in(client)
    token = client.cookies.get("screening_session")
    home = client.get("/")
    client.post("/logout", data={"csrf": st.csrf_of(home.text)})
    client.cookies.set("screening_session", token)  # the old cookie, replayed
    assert client.get("/", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------- rate limit


def test_failed_logins_are_rate_limited_per_account_and_survive_a_restart(served, monkeypatch):
    client, ctx, root = served
    for _ in range(5):
        assert st.login(client, "alice", "wrong password").status_code == 401
    r = st.login(client, "alice")  # the right password, too late
    assert r.status_code == 429 and "screening_session" not in r.headers.get("set-cookie", "")
    assert st.login(client, "root").status_code == 303  # another account is not locked out
    app = create_app(root / "screening.toml", Settings(), start_runner=False)  # a restart
    with TestClient(app, base_url="http://127.0.0.1") as again:
        assert st.login(again, "alice").status_code == 429


def test_failed_logins_are_rate_limited_per_address(served):
    client, ctx, _ = served
    for i in range(20):
        st.login(client, f"nobody{i}", "wrong password")
    assert st.login(client, "root").status_code == 429


def test_forwarded_for_is_ignored_unless_configured(served):
    client, ctx, _ = served
    for i in range(20):
        page = client.get("/login")
        client.post("/login", data={"csrf": st.csrf_of(page.text), "name": f"n{i}", "password": "bad"},
                    headers={"x-forwarded-for": f"10.0.0.{i}"})
    assert st.login(client, "root").status_code == 429  # the header did not spread the failures


# ---------------------------------------------------------------- hostile uploads


HOSTILE_NAMES = ["../../x.jpg", "/etc/passwd", "a\x00b.jpg", "n" * 1000 + ".jpg",
                 "<img src=x onerror=alert(1)>.jpg", "..", "C:\\Windows\\win.ini"]


def test_hostile_uploads_are_errors_never_cleared_and_stay_in_the_state_folder(served):
    client, ctx, root = served
    signed_in(client)
    good = st.jpeg((90, 90, 90))
    files = [("truncated.jpg", good[: len(good) // 2]), ("bomb.png", st.png_bomb()),
             ("notes.jpg", b"this is not a photo, only text\n" * 10), ("empty.jpg", b"")]
    files += [(name, st.jpeg((10, 20, 30 + i))) for i, name in enumerate(HOSTILE_NAMES)]
    before = set(os.listdir(root.parent))
    url = upload(client, files)
    found = statuses(client, url)
    assert found[1] == found[2] == found[3] == found[4] == "error"
    long_name = 5 + HOSTILE_NAMES.index("n" * 1000 + ".jpg")  # too long to keep whole with the upload: refused (RT28-2)
    assert found[long_name] == "refused"
    assert all(found[n] == "cleared" for n in range(5, 5 + len(HOSTILE_NAMES)) if n != long_name)  # plain photos, odd names
    assert set(os.listdir(root.parent)) == before  # nothing written beside the trust
    assert not any(p.name in ("x.jpg", "passwd", "win.ini") for p in root.rglob("*"))
    folder = root / ".screening" / "uploads"
    for p in folder.rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p
        assert re.fullmatch(r"[0-9a-f]{16}|\d{4}( \w+)*", p.name), p
    page = client.get(url).text
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;.jpg" in page
    photo = client.get(url.replace("/batches/", "/photo/") + f"/{5 + HOSTILE_NAMES.index(HOSTILE_NAMES[4])}")
    assert "<img src=x onerror" not in photo.text
    assert "\x00" not in page
    assert "n" * 254 + "…" in page and "n" * 256 not in page  # a long name is cut for display


def test_a_name_too_long_for_the_form_parser_refuses_the_upload(served):
    client, ctx, root = served
    signed_in(client)
    home = client.get("/")
    r = client.post("/batches", data={"csrf": st.csrf_of(home.text)},
                    files=[("files", ("n" * 5000 + ".jpg", st.jpeg((1, 2, 3)), "image/jpeg"))])
    assert r.status_code == 400
    assert not ctx.workspace.batches() and not (root / ".screening" / "uploads").exists()


def test_an_upload_over_the_scan_size_limit_is_refused_before_it_is_stored(served, monkeypatch):
    client, ctx, root = served
    signed_in(client)
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 1000)
    url = upload(client, [("big.jpg", st.jpeg((1, 2, 3), size=(400, 400))), ("small.jpg", b"x" * 10)])
    found = statuses(client, url)
    assert found[1] == "refused" and found[2] == "error"
    assert "larger than the limit" in client.get(url).text
    stored = (root / ".screening" / "uploads").rglob("0*")  # files 0001, 0002...; the batch folder is random hex
    assert sorted(p.name for p in stored if p.is_file()) == ["0002 small jpg"]


def test_a_request_larger_than_the_upload_limit_is_refused(tmp_path, monkeypatch):
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    app = create_app(config, Settings(max_upload_bytes=2000), start_runner=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client)
        home = client.get("/")
        r = client.post("/batches", data={"csrf": st.csrf_of(home.text)},
                        files=[("files", ("a.jpg", b"x" * 5000, "image/jpeg"))])
        assert r.status_code == 413
        assert not (tmp_path / ".screening" / "uploads").exists()


# ---------------------------------------------------------------- the journey


def test_journey_permit_copy_download_hold_and_audit(served):
    client, ctx, root = served
    signed_in(client)
    url = upload(client, [("gps.jpg", st.jpeg((200, 30, 30), gps=True)), ("logo.jpg", st.jpeg((10, 10, 250))),
                          ("plain.jpg", st.jpeg((90, 90, 90)))], title="Sports day")
    page = client.get(url).text
    assert "Sports day" in page and 'class="tile needs_permission" href="?status=needs_permission"><b>2</b>' in page
    assert "location" in client.get(url + "?status=needs_permission&kind=location").text
    assert "plain.jpg" not in client.get(url + "?status=needs_permission").text  # filters
    photo = url.replace("/batches/", "/photo/") + "/1"
    text = client.get(photo).text
    assert "the file records where the photo was taken" in text and "technical detail" in text
    # no download of a photo that needs permission
    assert client.get(photo + "/original").status_code == 409
    r = client.post(photo + "/permit", data={"csrf": st.csrf_of(text), "by": "Ms Head", "note": "signed form"})
    assert "Cleared with permission by Ms Head" in r.text
    assert client.get(photo + "/original").status_code == 200
    r = client.post(photo + "/copy", data={"csrf": st.csrf_of(text)})
    assert "The copy is cleared" in r.text
    copy = client.get(photo + "/download")
    assert copy.status_code == 200 and copy.content[:2] == b"\xff\xd8"
    assert 'filename="gps-publishable.jpg"' in copy.headers["content-disposition"]
    logo = url.replace("/batches/", "/photo/") + "/2"
    client.post(logo + "/hold", data={"csrf": st.csrf_of(text)})
    assert "do not publish" in client.get(logo).text
    assert client.post(logo + "/permit", data={"csrf": st.csrf_of(text), "by": "x", "note": "y"}).status_code == 409
    audit = client.get("/audit").text
    for command in ("scan", "permit", "redact", "download", "do-not-publish"):
        assert re.search(rf"<td><a href=\"/audit\?user=alice\">alice</a></td><td>{command}</td>", audit), command
    assert "gps.jpg" in audit  # shown by the name it was uploaded as
    rows = list(csv.reader(io.StringIO(client.get("/audit.csv").text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["at", "user", "command"]
    assert {(r[1], r[2]) for r in rows[1:]} >= {("alice", "permit"), ("alice", "download"), ("alice", "scan")}
    sha = next(r[4] for r in rows[1:] if r[2] == "permit")
    trail = ctx.trail("test", "t")
    try:
        assert [(p.by, p.note, p.user) for p in trail.permits(sha, "social_media")] == [("Ms Head", "signed form", "alice")]
    finally:
        trail.close()


def test_consent_changes_show_at_the_top_of_home(served):
    client, ctx, root = served
    signed_in(client)
    url = upload(client, [("teacher.jpg", st.jpeg((20, 240, 20))), ("plain.jpg", st.jpeg((90, 90, 90)))])
    assert statuses(client, url) == {1: "cleared", 2: "cleared"}  # P1, consented
    home = client.get("/").text
    client.post("/recheck", data={"csrf": st.csrf_of(home)})
    assert ctx.runner.wait(60)
    assert "No photo changed status" in client.get("/").text
    register = root / "consents" / "register.csv"
    register.write_text(register.read_text().replace(",yes,yes,yes,yes,,", ",yes,yes,yes,yes,,2020-01-01"))
    client.post("/recheck", data={"csrf": st.csrf_of(home)})
    assert ctx.runner.wait(60)
    home = client.get("/").text
    assert "1 photo(s) that were cleared are no longer cleared" in home
    assert "teacher.jpg" in home.split("<h1>Screen a new batch")[0] and "plain.jpg" not in home.split("<h1>Screen")[0]


def test_consent_forget_reaches_the_names_of_uploaded_files(served):
    from screening import cli

    client, ctx, root = served
    signed_in(client)
    url = upload(client, [("Pat Teacher at sports day.jpg", st.jpeg((90, 90, 90)))], title="Pat Teacher's class")
    assert "Pat Teacher at sports day.jpg" in client.get(url).text
    assert cli.main(["consent", "forget", "P1", "--yes", "--config", str(root / "screening.toml")]) == 0
    page = client.get(url).text
    assert "Pat Teacher" not in page
    assert "Pat Teacher" not in client.get("/").text


def test_a_video_shows_its_frames_on_the_photo_page(served, tmp_path):
    from tests.clips import write_clip

    client, ctx, root = served
    signed_in(client)
    clip = write_clip(tmp_path / "clip.mp4", 1.0, size=(160, 120))
    url = upload(client, [("sports day.mp4", clip.read_bytes())])
    photo = client.get(url.replace("/batches/", "/photo/") + "/1").text
    assert 'class="stage strip"' in photo and "<figcaption>0.00 s</figcaption>" in photo


def test_a_batch_page_refreshes_itself_without_javascript_while_it_screens(tmp_path, monkeypatch):
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    app = create_app(config, Settings(), start_runner=False)  # nothing screens: the batch stays queued
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client)
        home = client.get("/")
        r = client.post("/batches", data={"csrf": st.csrf_of(home.text)},
                        files=[("files", ("a.jpg", st.jpeg((1, 2, 3)), "image/jpeg"))])
        assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in r.text
        assert '<script src="/static/progress.js"></script>' in r.text
        assert client.get(r.url.path + "/progress").json() == {"state": "queued", "message": "", "total": 1,
                                                              "done": 0, "counts": {"pending": 1}}


def test_a_watch_folder_is_picked_by_number_never_by_path(tmp_path, monkeypatch):
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    offered = tmp_path / "screened" / "needs-permission"
    offered.mkdir(parents=True)
    (offered / "gps.jpg").write_bytes(st.jpeg((200, 30, 30), gps=True))
    (tmp_path / "private.jpg").write_bytes(st.jpeg((10, 200, 30)))
    (offered / "zz-link.jpg").symlink_to(tmp_path / "private.jpg")  # out of the folder: never read
    app = create_app(config, Settings(workers=1, folders=(offered,)))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client)
        home = client.get("/")
        assert str(offered) in home.text
        for bad in ("1", "-1", "٠", str(tmp_path), "../.."):
            r = client.post("/batches/folder", data={"csrf": st.csrf_of(home.text), "folder": bad})
            assert r.status_code == 400, bad
        r = client.post("/batches/folder", data={"csrf": st.csrf_of(home.text), "folder": "0"},
                        follow_redirects=False)
        url = r.headers["location"]
        for _ in range(300):
            if client.get(url + "/progress").json()["state"] == "done":
                break
            time.sleep(0.1)
        assert statuses(client, url) == {1: "needs_permission", 2: "refused"}
        assert "outside the folder given" in client.get(url).text
        assert (offered / "gps.jpg").read_bytes()[:2] == b"\xff\xd8"  # screened in place, untouched


def test_a_batch_queued_when_the_server_stopped_is_screened_when_it_starts_again(tmp_path, monkeypatch):
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    app = create_app(config, Settings(workers=1), start_runner=False)  # stops before screening anything
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client)
        home = client.get("/")
        r = client.post("/batches", data={"csrf": st.csrf_of(home.text)},
                        files=[("files", ("gps.jpg", st.jpeg((1, 2, 3), gps=True), "image/jpeg"))],
                        follow_redirects=False)
        url = r.headers["location"]
    again = create_app(config, Settings(workers=1))
    with TestClient(again, base_url="http://127.0.0.1") as client:
        assert again.state.ctx.runner.wait(120)
        signed_in(client)
        assert statuses(client, url) == {1: "needs_permission"}

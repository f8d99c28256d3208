"""`screening serve` as IT runs it: a real process, over TLS with a self-signed certificate."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import serve_trust as st

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
SCREENING = Path(sys.executable).with_name("screening")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_over_tls_marks_cookies_secure(tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (used only to make a test certificate)")
    httpx = pytest.importorskip("httpx")
    config = st.make_trust(tmp_path, monkeypatch)
    st.add_accounts(config)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    port = _port()
    proc = subprocess.Popen([str(SCREENING), "serve", "--config", str(config), "--host", "127.0.0.1",
                             "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key), "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = f"https://127.0.0.1:{port}"
        with httpx.Client(base_url=base, verify=False, timeout=10) as client:
            for _ in range(200):
                try:
                    page = client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise AssertionError("serve did not answer: " + (proc.stdout.read() if proc.poll() is not None else ""))
            assert page.status_code == 200 and "strict-transport-security" in page.headers
            assert "server" not in page.headers  # no version advertised
            r = client.post("/login", data={"csrf": st.csrf_of(page.text), "name": "alice", "password": st.PASSWORD})
            assert r.status_code == 303
            cookie = r.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
            assert client.get("/").status_code == 200
        with pytest.raises(httpx.TransportError):  # no plain http on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).raise_for_status()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

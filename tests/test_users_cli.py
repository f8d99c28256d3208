"""`screening users`: accounts for `screening serve`, the password from stdin or a prompt, never argv."""

from __future__ import annotations

import io

import pytest

from screening import cli
from screening.store.accounts import Accounts
from screening.trust import open_trust
from screening.web import passwords
from tests import serve_trust as st


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return st.make_trust(tmp_path, monkeypatch)


def test_add_list_password_remove(config, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert cli.main(["users", "add", "alice", "--role", "reviewer"]) == 0
    accounts = Accounts(open_trust(config).config.state)
    stored = accounts.get("alice")
    assert stored.role == "reviewer" and stored.password.startswith("scrypt$")
    assert "a long password" not in stored.password and passwords.verify("a long password", stored.password)
    assert cli.main(["users", "list"]) == 0
    assert "alice" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    assert cli.main(["users", "password", "alice"]) == 0
    assert passwords.verify("another password", accounts.get("alice").password)
    assert cli.main(["users", "remove", "alice"]) == 0
    assert accounts.get("alice") is None


def test_refusals(config, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["users", "add", "bob", "--role", "admin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough pw\n"))
    assert cli.main(["users", "add", "../bob", "--role", "admin"]) == 2
    with pytest.raises(SystemExit):  # there is no way to give a password on the command line
        cli.main(["users", "add", "bob", "--role", "admin", "--password", "long enough pw"])
    with pytest.raises(SystemExit):
        cli.main(["users", "add", "bob", "--role", "superuser"])
    assert cli.main(["users", "remove", "nobody"]) == 2


def test_serve_refuses_to_start_unsafely(config, capsys):
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "unencrypted" in capsys.readouterr().err
    assert cli.main(["serve"]) == 2  # no account yet: nobody could sign in
    assert "users add" in capsys.readouterr().err
    assert cli.main(["serve", "--tls-cert", "c.pem"]) == 2


def test_verify_never_raises_on_a_damaged_hash():
    assert not passwords.verify("x" * 12, "scrypt$bad")
    assert not passwords.verify("x" * 12, passwords.DUMMY)
    assert not passwords.verify("x" * 5000, passwords.hash_password("y" * 12))

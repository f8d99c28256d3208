"""Everything that names a person is readable by its owner only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat

import pytest

from screening.store import db as state_db

from .test_consent_cli import consent, screened, trust  # noqa: F401 - fixtures


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the worst case: a service started with umask 0
    yield
    os.umask(old)


def test_state_database_and_its_wal_and_shm_are_0600(tmp_path, open_umask):
    from screening.store.audit import AuditTrail

    db = tmp_path / ".screening" / "state.sqlite"
    trail = AuditTrail(db, command="scan", config="c", register="r", gallery="g")
    try:
        trail.conn.execute("CREATE TABLE t (x)")
        trail.conn.execute("INSERT INTO t VALUES (1)")
        trail.conn.commit()
        companions = [p for p in db.parent.iterdir() if p.name.startswith("state.sqlite")]
        assert {p.name for p in companions} >= {"state.sqlite", "state.sqlite-wal", "state.sqlite-shm"}
        assert {p.name: mode(p) for p in companions} == {p.name: 0o600 for p in companions}
    finally:
        trail.close()


def test_an_existing_state_database_left_readable_is_narrowed(tmp_path):
    db = tmp_path / "state.sqlite"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    state_db.connect(db).close()
    assert mode(db) == 0o600


def test_private_file_is_0600_under_umask_0_and_when_it_existed_wider(tmp_path, open_umask):
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_text("old")
    os.chmod(old, 0o666)
    for path in (new, old):
        with state_db.private_file(path, "w", encoding="utf-8") as f:
            f.write("P1006 is in IMG_1.jpg")
        assert mode(path) == 0o600 and path.read_text() == "P1006 is in IMG_1.jpg"


def test_state_database_is_never_created_through_a_planted_link(tmp_path):
    target = tmp_path / "victim"
    db = tmp_path / "state.sqlite"
    os.symlink(target, db)  # dangling: O_EXCL|O_NOFOLLOW refuses to create through it
    state_db.make_private(db)
    assert not target.exists()


def test_scan_reports_audit_export_and_encodings_are_0600(screened, open_umask):  # noqa: F811
    from .test_consent_cli import scan

    assert scan("batch", "--csv", "out.csv") == 1
    assert cli_audit_csv(screened) == 0
    for name in ("out.jsonl", "out.csv", "audit.csv", "consents/.encodings.sqlite", ".screening/state.sqlite"):
        assert mode(screened / name) == 0o600, name
    assert [p.name for p in (screened / ".screening").iterdir() if mode(p) & 0o077] == \
        [p.name for p in (screened / ".screening").iterdir() if p.suffix == ".lock"]


def cli_audit_csv(root) -> int:
    from screening import cli

    return cli.main(["audit", "--csv", str(root / "audit.csv")])


def test_only_regular_files_are_narrowed_never_a_device_or_folder(tmp_path):
    """`--csv /dev/stdout` must not chmod the terminal (or /dev/null, as root)."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    state_db._narrow(folder)
    fd = os.open(folder, os.O_RDONLY)
    try:
        state_db._narrow(fd)
    finally:
        os.close(fd)
    assert mode(folder) == 0o755


@pytest.mark.parametrize("mode", ["w", "a", "wb"])
def test_private_file_never_writes_through_a_hard_link_to_another_file(tmp_path, mode):
    """A hard link planted at a report's name (RT15-2) would truncate or append to the photo it
    shares its data with: refused, and the photo is left as it was."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG pixels")
    os.link(photo, tmp_path / "report.csv")
    with pytest.raises(OSError, match="other hard links"):
        state_db.private_file(tmp_path / "report.csv", mode)
    assert photo.read_bytes() == b"\x89PNG pixels"
    (tmp_path / "alone.csv").write_text("old report, longer than the new one")
    with state_db.private_file(tmp_path / "alone.csv", mode.replace("b", "")) as f:  # its own file: written
        f.write("new")
    expected = "old report, longer than the new onenew" if mode == "a" else "new"
    assert (tmp_path / "alone.csv").read_text() == expected

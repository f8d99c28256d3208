"""`consent forget PERSON_ID` under attack: an id is never a path, and only that person's folder goes."""

from __future__ import annotations

import os

import pytest

from screening.consent import forgetting
from screening.consent.register import is_person_id

from .test_consent_cli import consent, screened, trust  # noqa: F401 - fixtures
from .test_enrolment import face_photo, photos_dir
from .tree import changes, snapshot

# What a legitimate forget of P2 may change: its register row, the encodings store, the state
# database (pseudonyms) and consents/photos/P2/ itself.
ALLOWED = ("consents/register.csv", "consents/.encodings.sqlite", ".screening/", "consents/photos/P2")


@pytest.mark.parametrize("hostile", [
    "../../logos", "..", ".", "../photos", "P2/../P1", "P2/..", "/tmp", "logos/north",
    "", "-rf", ".hidden", "P2\n", "P 2", "P2/", "..\\P1", "~", "P2\x00",
])
def test_an_id_that_is_a_path_is_refused_and_nothing_changes(screened, capsys, hostile):  # noqa: F811
    (screened / "elsewhere").mkdir()
    face_photo(screened / "elsewhere" / "keep.png", (1, 2, 3))
    before = snapshot(screened)
    assert consent("forget", "--yes", "--", hostile) == 2
    assert changes(before, snapshot(screened)) == set()
    assert "nothing changed" in capsys.readouterr().err


def test_absolute_path_to_a_real_folder_is_refused(screened, capsys):  # noqa: F811
    before = snapshot(screened)
    assert consent("forget", str(screened / "logos"), "--yes") == 2
    assert consent("forget", str(photos_dir(screened, "P1")), "--yes") == 2
    assert changes(before, snapshot(screened)) == set()


def test_an_id_unknown_everywhere_is_refused_and_nothing_changes(screened, capsys):  # noqa: F811
    """The state database is searched read-only: SQLite may leave its WAL index files, nothing else."""
    before = snapshot(screened)
    assert consent("forget", "P77", "--yes") == 2
    after = snapshot(screened)
    sqlite_own = {".screening/state.sqlite-wal", ".screening/state.sqlite-shm"}
    assert changes(before, after) <= sqlite_own
    assert all(after[p][1] == 0o600 for p in sqlite_own & after.keys())
    assert "no trace of 'P77'" in capsys.readouterr().err


def test_forget_touches_only_the_person_s_own_folder_and_stores(screened):  # noqa: F811
    before = snapshot(screened)
    assert consent("forget", "P2", "--yes") == 0
    changed = changes(before, snapshot(screened))
    assert changed and all(c.startswith(ALLOWED) for c in changed), sorted(changed)
    assert photos_dir(screened, "P1").is_dir() and not photos_dir(screened, "P2").exists()


def test_a_person_folder_that_is_a_symlink_is_not_followed(screened, capsys):  # noqa: F811
    """photos/P2 replaced by a link to logos/: the link's target survives, the failure is said."""
    import shutil

    shutil.rmtree(photos_dir(screened, "P2"))
    face_photo(screened / "logos" / "north" / "crest.png", (9, 9, 9))
    os.symlink(screened / "logos" / "north", photos_dir(screened, "P2"))
    outside = {k: v for k, v in snapshot(screened).items() if not k.startswith(ALLOWED)}
    assert consent("forget", "P2", "--yes") == 2
    assert "symbolic link" in capsys.readouterr().err
    assert {k: v for k, v in snapshot(screened).items() if not k.startswith(ALLOWED)} == outside
    assert (screened / "logos" / "north" / "crest.png").is_file()


def test_links_inside_the_person_s_folder_are_removed_not_followed(screened):  # noqa: F811
    face_photo(screened / "logos" / "north" / "crest.png", (9, 9, 9))
    os.symlink(screened / "logos", photos_dir(screened, "P2") / "dir-link")
    os.symlink(screened / "logos" / "north" / "crest.png", photos_dir(screened, "P2") / "file-link.png")
    outside = {k: v for k, v in snapshot(screened).items() if not k.startswith(ALLOWED)}
    assert consent("forget", "P2", "--yes") == 0
    assert {k: v for k, v in snapshot(screened).items() if not k.startswith(ALLOWED)} == outside
    assert not os.path.lexists(photos_dir(screened, "P2"))


def test_photos_root_reached_through_a_link_still_contains_the_person(trust, tmp_path):  # noqa: F811
    """consents/photos itself a link to the real folder (a trust's share): allowed, contained."""
    real = tmp_path / "real-photos"
    (trust / "consents" / "photos").rename(real)
    os.symlink(real, trust / "consents" / "photos")
    face_photo(real / "P3" / "a.png", (10, 10, 200))
    face_photo(real / "P1" / "a.png", (200, 10, 10))
    assert consent("forget", "P3", "--yes") == 0
    assert not (real / "P3").exists() and (real / "P1" / "a.png").is_file()


def test_forget_api_refuses_a_path_too(screened):  # noqa: F811
    from screening.trust import open_trust

    t = open_trust("screening.toml")
    before = snapshot(screened)
    with pytest.raises(forgetting.ForgetRefused):
        forgetting.forget_person(t.config, t.register, "../../logos")
    assert changes(before, snapshot(screened)) == set()


@pytest.mark.parametrize("text, ok", [("P1006", True), ("staff-07_b", True), ("j.smith", True),
                                      ("..", False), ("a/b", False), ("P1\n", False), ("/P1", False),
                                      (".P1", False), ("", False), ("P1\\..", False)])
def test_person_id_pattern(text, ok):
    assert is_person_id(text) is ok

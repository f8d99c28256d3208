"""Which files a scan screens: everything by content; only listed clutter and read sidecars skipped."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from screening import files


def jpeg(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(path, format="JPEG")


def screened(root, selection):
    return sorted(str(p.relative_to(root)) for p, _ in selection.items)


def test_a_missing_path_is_refused_before_anything_is_listed(tmp_path):
    jpeg(tmp_path / "a.jpg")
    with pytest.raises(files.MissingPath, match="no such file or folder"):
        files.select([tmp_path, tmp_path / "typo"])


def test_clutter_names_with_other_content_are_screened(tmp_path):
    """A photo renamed Thumbs.db, .DS_Store or ._x is not clutter: the walk screens it."""
    for name in ("Thumbs.db", ".DS_Store", "._x.jpg", "desktop.ini"):
        jpeg(tmp_path / name)
    selection = files.select([tmp_path])
    assert screened(tmp_path, selection) == sorted(["Thumbs.db", ".DS_Store", "._x.jpg", "desktop.ini"])
    assert selection.skipped == []


def test_an_xmp_holding_an_image_is_screened_even_beside_its_namesake(tmp_path):
    jpeg(tmp_path / "a.jpg")
    jpeg(tmp_path / "a.xmp")  # a picture under a sidecar's name
    (tmp_path / "b.jpg.xmp").write_text("<x:xmpmeta/>")
    jpeg(tmp_path / "b.jpg")
    selection = files.select([tmp_path])
    assert screened(tmp_path, selection) == ["a.jpg", "a.xmp", "b.jpg"]
    assert [(s.path.name, s.why) for s in selection.skipped] == [("b.jpg.xmp", files.SIDECAR)]


def test_a_symlinked_folder_is_listed_as_not_followed(tmp_path):
    jpeg(tmp_path / "real" / "a.jpg")
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "loop").symlink_to(tmp_path / "batch")
    selection = files.select([tmp_path / "batch"])
    assert selection.items == []
    assert [(s.path.name, s.why) for s in selection.skipped] == [("loop", files.FOLDER_LINK)]


def test_a_folder_that_cannot_be_read_is_a_problem_not_a_silent_gap(tmp_path, monkeypatch):
    jpeg(tmp_path / "a.jpg")
    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top, onerror=onerror, **kw)

    monkeypatch.setattr(files.os, "walk", walk)
    selection = files.select([tmp_path])
    (problem,) = selection.skipped
    assert problem.problem and problem.why == files.UNREADABLE and problem.detail == "Permission denied"
    assert "1 a folder that cannot be read" in selection.skipped_line()


def test_describe_leaves_possible_images_and_zero_filled_copies_alone():
    assert files.describe(b"\xff\xd8\xff\xe0" + bytes(60)) is None
    assert files.describe(b"\x00\x00\x00\x18ftypmp42" + bytes(52)) is None  # a video
    assert files.describe(bytes(64)) is None  # a copy that pre-allocated its size
    assert files.describe(b"Hello") == "a text file"


@pytest.mark.parametrize("content, clutter", [
    ("[.ShellClassInfo]\r\nIconResource=C:\\x.dll,0\r\n; a comment\r\n\r\n[ViewState]\r\nMode=\r\n", True),
    ("\ufeff[.ShellClassInfo]\nLocalizedResourceName=@%SystemRoot%\\system32\\shell32.dll,-21770\n", True),
    ("[.ShellClassInfo]\nAmelia Hart at sports day\n", False),  # a line that is not INI
    ("<svg xmlns='http://www.w3.org/2000/svg'/>\n", False),  # markup
    ("key=<b>x</b>\n", False),
])
def test_desktop_ini_is_clutter_only_when_it_reads_as_an_ini_file(tmp_path, content, clutter):
    (tmp_path / "desktop.ini").write_text(content, encoding="utf-8")
    assert files.is_clutter(tmp_path / "desktop.ini") is clutter


def test_a_utf16_desktop_ini_is_clutter(tmp_path):
    (tmp_path / "desktop.ini").write_bytes("[.ShellClassInfo]\r\nIconIndex=3\r\n".encode("utf-16"))
    assert files.is_clutter(tmp_path / "desktop.ini")


def test_a_link_to_a_file_outside_the_walked_folder_is_refused_not_read(tmp_path):
    jpeg(tmp_path / "outside" / "secret.jpg")
    jpeg(tmp_path / "batch" / "a.jpg")
    (tmp_path / "batch" / "link.jpg").symlink_to(tmp_path / "outside" / "secret.jpg")
    (tmp_path / "batch" / "inner.jpg").symlink_to("a.jpg")
    selection = files.select([tmp_path / "batch"])
    assert [p.name for p, _ in selection.items] == ["a.jpg", "inner.jpg"]
    assert [(p.name, why) for p, _, why in selection.refused] == [("link.jpg", files.FILE_LINK_OUTSIDE)]
    assert selection.total == 3 and selection.skipped == []

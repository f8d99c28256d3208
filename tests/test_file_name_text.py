"""A pupil's name in the file's own name is read as text (RT26-8): publishing platforms make the file
name the image's title and address, and a download keeps it."""

from __future__ import annotations

import pytest

from screening.formats.captions import name_caption


@pytest.mark.parametrize("name,words", [
    ("Amelia Hart - Year 4 sports day.jpg", "Amelia Hart Year 4 sports day"),
    ("amelia-hart-year-4.jpeg", "amelia hart year 4"),
    ("amelia_hart.final.v2.png", "amelia hart final v2"),
    ("AmeliaHart2026.heic", "Amelia Hart2026"),
    ("sports+day+Amelia+Hart.mp4", "sports day Amelia Hart"),
    (".hidden amelia hart", "hidden amelia hart"),
])
def test_the_file_name_is_read_as_words(name, words):
    assert name_caption(f"/some/folder/{name}") == [("file name", words)]


def test_a_name_of_only_separators_gives_nothing():
    assert name_caption("/x/---.jpg") == []


def test_the_folder_is_not_read():
    assert name_caption("/photos/Amelia Hart/IMG_0042.jpg") == [("file name", "IMG 0042")]


def test_a_web_upload_is_stored_under_its_names_words_within_a_names_byte_limit(tmp_path):
    import io

    from screening.web import uploads

    for n, name in enumerate(["Amelia Hart - Year 4.jpg", "../../evil.jpg", "學生" * 200 + ".jpg", "", "!!!.jpg"], 1):
        path, why = uploads.store(tmp_path, n, io.BytesIO(b"x"), name)
        if n == 3:  # too long to keep whole: refused, never cut (a pupil's name may be in the part cut, RT28-2)
            assert path is None and "longer" in why and not (tmp_path / "0003").exists()
            continue
        assert why == "" and path.parent == tmp_path and len(path.name.encode()) <= 255, path
    assert sorted(p.name.split(" ", 1)[-1] for p in tmp_path.iterdir() if " " in p.name)[:2] == [
        "Amelia Hart Year 4 jpg", "evil jpg"]
    assert {"0004", "0005 jpg"} <= {p.name for p in tmp_path.iterdir()}  # no name: the number alone

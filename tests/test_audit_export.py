"""The audit trail as people read it: one path per file however it was named, readable reasons."""

from __future__ import annotations

import csv
import json

from .test_audit import audit_rows, photo, run, scan, trust  # noqa: F401 - trust is a fixture


def test_audit_paths_are_resolved_so_one_file_has_one_path(trust):  # noqa: F811
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    (trust / "out").mkdir()
    (trust / "link").symlink_to(trust / "batch")
    assert scan("out/../batch/gps.png") == 1
    assert scan("link/gps.png") == 1
    paths = {r["path"] for r in audit_rows(trust)}
    assert paths == {str((trust / "batch" / "gps.png").resolve())}


def test_audit_csv_reasons_are_readable_text_with_json_kept_for_scripts(trust, capsys):  # noqa: F811
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    scan("batch")
    assert run("audit", "--csv", "audit.csv") == 0
    (row,) = csv.DictReader((trust / "audit.csv").read_text(encoding="utf-8-sig").splitlines())
    assert row["reasons"].startswith("location: GPS in EXIF")
    assert not row["reasons"].startswith("[")
    assert json.loads(row["reasons_json"])[0]["kind"] == "location"

"""Report writers: JSONL (the contract), CSV (for spreadsheets). Each writes one line per verdict.

Reports name people (reasons carry person ids), so they are created readable by their owner
only; CSV cells are escaped so that no file name or detail is run as a spreadsheet formula."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from screening.model import Verdict
from screening.store.db import private_file
from screening.textsafe import csv_row, for_json

CSV_COLUMNS = ("path", "status", "channel", "reasons", "faces", "sha256")


class JsonlWriter:
    def __init__(self, path: Path):
        self.file: IO[str] = private_file(path, "w", encoding="utf-8")

    def write(self, verdict: Verdict) -> None:
        self.file.write(for_json(json.dumps(verdict.to_json(), ensure_ascii=False)) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class CsvWriter:
    def __init__(self, path: Path):
        self.file: IO[str] = private_file(path, "w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(CSV_COLUMNS)

    def write(self, verdict: Verdict) -> None:
        self.writer.writerow(csv_row([
            verdict.path,
            verdict.status.value,
            verdict.channel,
            "; ".join(f"{r.kind.value}: {r.detail}" for r in verdict.reasons),
            len(verdict.faces),
            verdict.sha256 or "",
        ]))
        self.file.flush()

    def close(self) -> None:
        self.file.close()

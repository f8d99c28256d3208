"""Report writers: JSONL (the contract), CSV (for spreadsheets). Each writes one line per verdict.

Reports name people (reasons carry person ids), so they are created readable by their owner
only; CSV cells are escaped so that no file name or detail is run as a spreadsheet formula.

A report of a scan that was interrupted says so, so a report emailed on never looks complete
when it is not. JSONL keeps the contract (exactly one record per screened file, nothing else):
every record of the interrupted batch gets `"batch_incomplete": "<why>"`. CSV ends with a row
whose status is `INCOMPLETE`.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO

from screening.model import Verdict
from screening.store.db import private_file
from screening.textsafe import csv_row, for_json

INCOMPLETE = "INCOMPLETE"

CSV_COLUMNS = ("path", "status", "channel", "reasons", "faces", "sha256")


class JsonlWriter:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.file: IO[str] = private_file(path, "w", encoding="utf-8")

    def write(self, verdict: Verdict) -> None:
        self.file.write(for_json(json.dumps(verdict.to_json(), ensure_ascii=False)) + "\n")
        self.file.flush()

    def close(self, incomplete: str | None = None) -> None:
        if self.file.closed:
            return
        self.file.close()
        if incomplete:
            self._mark(incomplete)

    def _mark(self, incomplete: str) -> None:
        """Add `batch_incomplete` to every record, rewriting the file whole (then renamed over it)."""
        tmp = self.path.with_name(f".{self.path.name}.incomplete")
        with open(self.path, encoding="utf-8") as src, private_file(tmp, "w", encoding="utf-8") as out:
            for line in src:
                if line.strip():
                    record = {**json.loads(line), "batch_incomplete": incomplete}
                    out.write(for_json(json.dumps(record, ensure_ascii=False)) + "\n")
        os.replace(tmp, self.path)


class CsvWriter:
    """One row per verdict; then one row per file not screened (status `not screened`)."""

    def __init__(self, path: Path, skipped=()):
        self.path = Path(path)
        self.skipped = list(skipped)
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

    def close(self, incomplete: str | None = None) -> None:
        if self.file.closed:
            return
        try:
            for s in self.skipped:
                self.writer.writerow(csv_row([s.display, "not screened", "",
                                              s.why + (f": {s.detail}" if s.detail else ""), "", ""]))
            if incomplete:
                self.writer.writerow(csv_row([incomplete, INCOMPLETE, "", incomplete, "", ""]))
        finally:
            self.file.close()

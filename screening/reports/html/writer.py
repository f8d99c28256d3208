"""The HTML contact sheet: one self-contained file the marketing team opens and acts on.

Each verdict becomes a card as it arrives (a JPEG preview, base64-embedded, with a box per
face, logo and uniform), spooled to a temporary file so memory never holds more than one
image; close() writes the summary and filters on top, then the cards grouped by status
(needs permission, then errors, then cleared; by path within a group), and moves the file
in place. A click on a photo shows it large with its boxes and a link to the original.
The card itself is cards.py, its picture previews.py, the top of the page summary.py and
the fixed style and script page.py.
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from screening import __version__
from screening.model import Status, Verdict
from screening.reports.html import cards, page, previews, summary
from screening.store.db import private_file
from screening.textsafe import for_html

# Cards are grouped in this order: what needs acting on first.
GROUPS = (Status.NEEDS_PERMISSION, Status.ERROR, Status.CLEARED)
_GROUP_TITLES = {
    Status.NEEDS_PERMISSION: "Needs permission before publishing",
    Status.ERROR: "Could not be screened completely: not cleared",
    Status.CLEARED: "Cleared",
}


class HtmlWriter:
    def __init__(self, path: Path, title: str = "Screening report",
                 names: Mapping[str, str] | None = None, skipped=()):
        self.path = Path(path)
        self.title = title
        self.names = dict(names or {})  # person_id -> display name, shown only when consented
        self.skipped = list(skipped)  # files.Skipped: listed at the top, never silently left out
        self.index: list[tuple[int, str, int, int]] = []  # (group, path, offset, length) per card
        self.statuses: Counter[Status] = Counter()
        self.kinds: Counter[str] = Counter()
        self.channels: set[str] = set()
        self.count = 0
        # The cards are spooled beside the target so close() can rename, never half-write it.
        self.spool_path = _sibling(self.path, "cards")
        self.spool = _create(self.spool_path, self.path)

    def write(self, verdict: Verdict) -> None:
        self.count += 1
        self.statuses[verdict.status] += 1
        self.kinds.update(cards.reason_kinds(verdict))
        self.channels.add(verdict.channel)
        strip = previews.video_strip(verdict, self.names)  # None for a photo, "" for a clip that cannot be shown
        thumb = previews.thumbnail(verdict) if strip is None else None
        card = cards.card(verdict, self.count, thumb, self.names, _original_href(verdict.path, self.path),
                          strip).encode("utf-8")
        offset = self.spool.tell()
        self.spool.write(card)
        self.spool.flush()
        # indexed only once written whole: a Ctrl-C mid-write leaves no half card in the report
        self.index.append((GROUPS.index(verdict.status), verdict.path, offset, len(card)))

    def close(self, incomplete: str | None = None) -> None:
        """Write the report in place; `incomplete` (the scan was interrupted) is shown at the top."""
        if self.spool.closed:
            return
        self.spool.close()
        tmp = _sibling(self.path, "tmp")
        try:
            with _create(tmp, self.path) as out, open(self.spool_path, "rb") as spooled:
                out.write(self._head(incomplete).encode("utf-8"))
                group = None
                for g, _, offset, length in sorted(self.index):
                    if g != group:
                        out.write(self._group_heading(g, group is not None).encode("utf-8"))
                        group = g
                    spooled.seek(offset)
                    out.write(spooled.read(length))
                if group is not None:
                    out.write(b"</div></section>\n")
                out.write(page.FOOT.encode("utf-8"))
            try:
                os.replace(tmp, self.path)
            except OSError as exc:
                raise _named(exc, self.path) from None
        finally:
            for leftover in (tmp, self.spool_path):
                try:
                    os.unlink(leftover)
                except FileNotFoundError:
                    pass

    def _group_heading(self, g: int, close_previous: bool) -> str:
        status = GROUPS[g]
        return (("</div></section>\n" if close_previous else "")
                + f'<section class="group {status.value}"><h2>{for_html(_GROUP_TITLES[status])} '
                  f'<span class="muted">({self.statuses[status]})</span></h2><div class="cards">\n')

    def _head(self, incomplete: str | None = None) -> str:
        e = for_html
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        channels = ", ".join(sorted(self.channels)) or "-"
        banner = (f'<p class="incomplete" id="incomplete"><b>Incomplete report.</b> '
                  f'{e(incomplete.removeprefix("INCOMPLETE: "))}.</p>' if incomplete else "")
        return page.HEAD.format(
            title=e(("INCOMPLETE: " if incomplete else "") + self.title), css=page.CSS,
        ) + (
            f'<header>{banner}<h1>{e(self.title)}</h1>'
            f'<p class="muted">{self.count} image(s) screened for {e(channels)} on {stamp} '
            f'by screening {e(__version__)}. Only <b>cleared</b> images may be published as they are.</p>'
            + summary.summary_tiles(self.statuses)
            + summary.filters(self.statuses, self.kinds)
            + summary.LEGEND
            + summary.skipped_list(self.skipped)
            + '<p class="muted">Click a photo to see it larger.</p>'
            '</header><main id="cards">'
        )


def _sibling(path: Path, what: str) -> Path:
    """A new hidden file name beside path."""
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{what}"


def _create(path: Path, report: Path):
    """A new binary file for writing, 0600 (the report shows children's faces and names); an error
    names the report, never the temporary file."""
    try:
        return private_file(path, "xb")
    except OSError as exc:
        raise _named(exc, report) from None


def _named(exc: OSError, report: Path) -> OSError:
    return type(exc)(exc.errno, exc.strerror or str(exc), str(report))


def _original_href(shown: str, report: Path) -> str | None:
    """A link from the report to the original file, relative when it can be (a shared folder)."""
    try:
        target = Path(shown).absolute()
        rel = os.path.relpath(target, report.absolute().parent)
    except ValueError:  # another drive on Windows
        return target.as_uri()
    return urllib.parse.quote(Path(rel).as_posix())

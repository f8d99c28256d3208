"""The top of the HTML report: a tile per status, the filter chips (by status and by reason
kind), the legend of box colours and the files not screened. Pure functions of the counts,
shared by the report file and anything else that shows a batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from screening.model import Status
from screening.reports.html.cards import STATUS_WORDS, kind_word
from screening.textsafe import for_html


def summary_tiles(statuses: Mapping[Status, int]) -> str:
    """One coloured tile per status with its count."""
    e = for_html
    return ('<div class="summary">'
            + "".join(f'<div class="tile {s.value}"><b>{statuses[s]}</b>{e(STATUS_WORDS[s])}</div>'
                      for s in Status)
            + '</div>')


def filters(statuses: Mapping[Status, int], kinds: Mapping[str, int]) -> str:
    """Checkboxes by status (all shown) and by reason kind (none: every card); the page's script
    applies them and fills in #shown."""
    e = for_html
    status_buttons = "".join(
        f'<label class="chip {s.value}"><input type="checkbox" data-filter="status" '
        f'value="{s.value}" checked> {e(STATUS_WORDS[s])} <b>{statuses[s]}</b></label>'
        for s in Status
    )
    kind_buttons = "".join(
        f'<label class="chip kind"><input type="checkbox" data-filter="kind" value="{e(k)}"> '
        f'{e(kind_word(k))} <b>{n}</b></label>'
        for k, n in sorted(kinds.items())
    ) or '<span class="muted">none</span>'
    return (f'<div class="filters"><div><span class="label">Show</span>{status_buttons}</div>'
            f'<div><span class="label">Only with reason</span>{kind_buttons}</div>'
            f'<p class="muted" id="shown"></p></div>')


LEGEND = ('<p class="legend"><span class="swatch face ok"></span>consented person '
          '<span class="swatch face unknown"></span>unknown face '
          '<span class="swatch face no-consent"></span>no consent '
          '<span class="swatch logo"></span>logo <span class="swatch uniform"></span>uniform '
          '<span class="swatch words"></span>name in text</p>')


def skipped_list(skipped: Iterable) -> str:
    """The files not screened (files.Skipped), folded; "" when there are none."""
    skipped = list(skipped)
    if not skipped:
        return ""
    e = for_html
    items = "".join(f"<li><code>{e(s.display)}</code>: {e(s.why)}" + (f": {e(s.detail)}" if s.detail else "")
                    + "</li>" for s in skipped)
    return (f'<details class="skipped"><summary>{len(skipped)} file(s) not screened '
            f'(not photos: operating-system files, sidecars read with their photo)</summary>'
            f'<ul>{items}</ul></details>')

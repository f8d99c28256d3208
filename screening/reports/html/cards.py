"""One card of the HTML report: its status, reasons in plain words (the numbers behind them one
click away), the location line, and the boxes drawn over its picture. Pure functions of a
verdict, shared by the report file and anything else that shows verdicts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from screening.model import Kind, Status, Verdict
from screening.textsafe import for_html

STATUS_WORDS = {
    Status.CLEARED: "cleared",
    Status.NEEDS_PERMISSION: "needs permission",
    Status.ERROR: "error: not screened completely",
}

KIND_WORDS = {
    Kind.UNKNOWN_FACE: "unknown face",
    Kind.NO_CONSENT: "no consent",
    Kind.LOGO: "logo",
    Kind.UNIFORM: "uniform",
    Kind.LOCATION: "location",
    Kind.TEXT: "name in text",
    Kind.PERSON: "person",
    Kind.ERROR: "error",
}


def reason_kinds(v: Verdict) -> set[str]:
    """Reason kinds of the image, permitted ones included, so the filters still find it."""
    return {r.kind.value for r in (*v.reasons, *v.permitted_reasons)}


def kind_word(kind: str) -> str:
    try:
        return KIND_WORDS[Kind(kind)]
    except (ValueError, KeyError):  # a kind added later still gets a word
        return kind.replace("_", " ")


def card(v: Verdict, n: int, thumb: str | None, names: Mapping[str, str], original: str | None,
         strip: str | None = None) -> str:
    """The card of one verdict; `thumb` (base64 JPEG) or `strip` (a clip's frames) is its picture."""
    e = for_html
    kinds = sorted(reason_kinds(v))
    boxes = "".join(box_divs(v, names)) if (thumb and v.size) else ""
    if strip:
        picture = strip
    elif thumb:
        # .pic shrinks to the image, so boxes placed in percent land on the photo itself
        picture = (f'<div class="stage"><div class="pic" title="click to enlarge" tabindex="0">'
                   f'<img alt="{e(Path(v.path).name)}" src="data:image/jpeg;base64,{thumb}">{boxes}</div></div>')
    else:
        picture = '<div class="pic none">no preview</div>'
    reasons = "".join(reason_item(r.kind.value, r.detail) for r in v.reasons)
    permission = v.permission
    if permission is not None:
        reasons += (f'<li class="permission"><b>cleared with permission</b> by {e(permission.by)} '
                    f'on {e(permission.at[:10])}: {e(permission.note)}</li>')
        reasons += "".join(reason_item(r.kind.value, r.detail, permitted=True) for r in v.permitted_reasons)
    location = location_line(v)
    status = "cleared with permission" if permission is not None else STATUS_WORDS[v.status]
    link = f'<a class="original" href="{e(original)}">open the original</a>' if original else ""
    return (
        f'<article class="card {v.status.value}" id="img{n}" data-status="{v.status.value}" '
        f'data-kinds="{e(" ".join(kinds))}">{picture}'
        f'<div class="text"><p class="status {v.status.value}">{e(status)}</p>'
        f'<p class="path" title="{e(v.path)}">{e(v.path)} {link}</p>'
        f'<p class="location">{e(location)}</p>'
        + (f'<ul>{reasons}</ul>' if reasons else "")
        + "</div></article>\n"
    )


def reason_item(kind: str, detail: str, permitted: bool = False) -> str:
    """One reason: plain words first, the measurements behind them in a details element."""
    e = for_html
    words, numbers = plain_words(kind, detail)
    label = f"<b>{e(kind_word(kind))}</b>" + (" (permitted)" if permitted else "")
    more = (f'<details><summary>details</summary><span class="numbers">{e(numbers)}</span></details>'
            if numbers else "")
    return f'<li class="{e(kind)}{" permitted" if permitted else ""}">{label}: {e(words)}{more}</li>'


_FACE = re.compile(r"face (\d+) is not identified with confidence: (.*)", re.S)


def plain_words(kind: str, detail: str) -> tuple[str, str]:
    """(what a reader needs to know, the technical detail behind it or '') for one reason."""
    if kind == Kind.UNKNOWN_FACE.value and (m := _FACE.fullmatch(detail)):
        n, why = m.groups()
        if why.startswith(("nearest enrolled person", "no enrolled person")):
            return f"face {n} is not recognised as anyone on the consent register", why
        if why.startswith("ambiguous"):
            return f"face {n} looks like more than one person on the register, so it is not named", why
        if "no longer enrolled" in why:
            return f"face {n} is not recognised: that person is no longer enrolled for face matching", why
        return f"face {n} cannot be recognised (too small, blurred or turned away)", why
    if kind == Kind.LOCATION.value:
        near = re.search(r"(\d[\d,.]* k?m from .+)$", detail)
        words = "the file records where the photo was taken"
        return (f"{words}: {near.group(1)}" if near else words), detail
    if kind in (Kind.LOGO.value, Kind.UNIFORM.value):
        head, sep, rest = detail.partition(": ")
        return head, rest if sep else ""
    return detail, ""


def location_line(v: Verdict) -> str:
    """Where the file says it was taken, that it says nowhere, or that this was not checked."""
    found = [r.detail for r in (*v.reasons, *v.permitted_reasons) if r.kind is Kind.LOCATION]
    if found:
        return "Location: " + "; ".join(found)
    state = v.checks.get("location")
    if state == "ok":
        return "Location: none in the file"
    return "Location: not checked"


def box_divs(v: Verdict, names: Mapping[str, str]):
    """Absolutely placed boxes, in percent of the upright image so any thumbnail size fits."""
    w, h = v.size
    for face in v.faces:
        if face.person_id is None:
            css, label = "face unknown", "unknown"
        elif face.consented:  # the only case where a name is shown
            css, label = "face ok", names.get(face.person_id, face.person_id)
        else:
            css, label = "face no-consent", f"no consent: {face.person_id}"
        yield _box(face.box, w, h, css, label)
    others = [(r.kind.value, r.box_on_picture, r.extra.get("academy") or " or ".join(r.extra.get("academies", ()))
               or r.extra.get("person_id", ""))
              for r in (*v.permitted_reasons, *v.reasons)]
    for kind, box, whose in others:
        if kind in ("logo", "uniform") and box:
            yield _box(box, w, h, kind, f"{kind} {whose}".strip())
        elif kind == "text" and box:  # "text" is taken by the card's text column
            yield _box(box, w, h, "words", f"text {whose}".strip())


def _box(box, w: int, h: int, css: str, label: str) -> str:
    left, top, bw, bh = box
    style = (f"left:{100 * left / w:.2f}%;top:{100 * top / h:.2f}%;"
             f"width:{100 * bw / w:.2f}%;height:{100 * bh / h:.2f}%")
    if top < 0.08 * h:  # no room for the label above the box: put it underneath
        css += " below"
    return (f'<div class="box {css}" style="{style}" data-box="{json.dumps(list(box))}">'
            f'<span>{for_html(label)}</span></div>')

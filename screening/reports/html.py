"""The HTML contact sheet: one self-contained file the marketing team opens and acts on.

Each verdict becomes a card as it arrives (a JPEG preview, base64-embedded, with a box per
face, logo and uniform), spooled to a temporary file so memory never holds more than one
image; close() writes the summary and filters on top, then the cards grouped by status
(needs permission, then errors, then cleared; by path within a group), and moves the file
in place. A click on a photo shows it large with its boxes and a link to the original.
Reasons lead with plain words; the measurements behind them are one click away.
Nothing is loaded from the network: the report travels by email.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
import re
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from screening import __version__, imaging
from screening.digest import sha256_bytes, sha256_file
from screening.model import Kind, Status, Verdict
from screening.store.db import private_file

# px, longest side: sharp in a card and still useful enlarged; ~40-70 KB per real photo,
# about 5 MB per 100 images (the original is one click further, where it can be reached)
THUMB_SIDE = 640
THUMB_QUALITY = 70
# Cards are grouped in this order: what needs acting on first.
GROUPS = (Status.NEEDS_PERMISSION, Status.ERROR, Status.CLEARED)
_GROUP_TITLES = {
    Status.NEEDS_PERMISSION: "Needs permission before publishing",
    Status.ERROR: "Could not be screened completely: not cleared",
    Status.CLEARED: "Cleared",
}

_STATUS_WORDS = {
    Status.CLEARED: "cleared",
    Status.NEEDS_PERMISSION: "needs permission",
    Status.ERROR: "error: not screened completely",
}
_KIND_WORDS = {
    Kind.UNKNOWN_FACE: "unknown face",
    Kind.NO_CONSENT: "no consent",
    Kind.LOGO: "logo",
    Kind.UNIFORM: "uniform",
    Kind.LOCATION: "location",
    Kind.TEXT: "name in text",
    Kind.PERSON: "person",
    Kind.ERROR: "error",
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
        self.kinds.update(_kinds(verdict))
        self.channels.add(verdict.channel)
        strip = _video_strip(verdict, self.names)  # None for a photo, "" for a clip that cannot be shown
        thumb = _thumbnail(verdict) if strip is None else None
        card = _card(verdict, self.count, thumb, self.names, _original_href(verdict.path, self.path),
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
            with _create(tmp, self.path) as out, open(self.spool_path, "rb") as cards:
                out.write(self._head(incomplete).encode("utf-8"))
                group = None
                for g, _, offset, length in sorted(self.index):
                    if g != group:
                        out.write(self._group_heading(g, group is not None).encode("utf-8"))
                        group = g
                    cards.seek(offset)
                    out.write(cards.read(length))
                if group is not None:
                    out.write(b"</div></section>\n")
                out.write(_FOOT.encode("utf-8"))
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
                + f'<section class="group {status.value}"><h2>{html.escape(_GROUP_TITLES[status])} '
                  f'<span class="muted">({self.statuses[status]})</span></h2><div class="cards">\n')

    def _head(self, incomplete: str | None = None) -> str:
        e = html.escape
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        status_buttons = "".join(
            f'<label class="chip {s.value}"><input type="checkbox" data-filter="status" '
            f'value="{s.value}" checked> {e(_STATUS_WORDS[s])} <b>{self.statuses[s]}</b></label>'
            for s in Status
        )
        kind_buttons = "".join(
            f'<label class="chip kind"><input type="checkbox" data-filter="kind" value="{e(k)}"> '
            f'{e(_kind_word(k))} <b>{n}</b></label>'
            for k, n in sorted(self.kinds.items())
        ) or '<span class="muted">none</span>'
        channels = ", ".join(sorted(self.channels)) or "-"
        banner = (f'<p class="incomplete" id="incomplete"><b>Incomplete report.</b> '
                  f'{e(incomplete.removeprefix("INCOMPLETE: "))}.</p>' if incomplete else "")
        return _HEAD.format(
            title=e(("INCOMPLETE: " if incomplete else "") + self.title), css=_CSS,
        ) + (
            f'<header>{banner}<h1>{e(self.title)}</h1>'
            f'<p class="muted">{self.count} image(s) screened for {e(channels)} on {stamp} '
            f'by screening {e(__version__)}. Only <b>cleared</b> images may be published as they are.</p>'
            f'<div class="summary">'
            + "".join(f'<div class="tile {s.value}"><b>{self.statuses[s]}</b>{e(_STATUS_WORDS[s])}</div>'
                      for s in Status)
            + '</div>'
            f'<div class="filters"><div><span class="label">Show</span>{status_buttons}</div>'
            f'<div><span class="label">Only with reason</span>{kind_buttons}</div>'
            f'<p class="muted" id="shown"></p></div>'
            f'<p class="legend"><span class="swatch face ok"></span>consented person '
            f'<span class="swatch face unknown"></span>unknown face '
            f'<span class="swatch face no-consent"></span>no consent '
            f'<span class="swatch logo"></span>logo <span class="swatch uniform"></span>uniform '
            f'<span class="swatch words"></span>name in text</p>'
            + self._skipped_list()
            + '<p class="muted">Click a photo to see it larger.</p>'
            '</header><main id="cards">'
        )

    def _skipped_list(self) -> str:
        if not self.skipped:
            return ""
        e = html.escape
        items = "".join(f"<li><code>{e(s.display)}</code>: {e(s.why)}" + (f": {e(s.detail)}" if s.detail else "")
                        + "</li>" for s in self.skipped)
        return (f'<details class="skipped"><summary>{len(self.skipped)} file(s) not screened '
                f'(not photos: operating-system files, sidecars read with their photo)</summary>'
                f'<ul>{items}</ul></details>')


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


def _kinds(v: Verdict) -> set[str]:
    """Reason kinds of the image, permitted ones included, so the filters still find it."""
    return {r.kind.value for r in (*v.reasons, *v.permitted_reasons)}


def _kind_word(kind: str) -> str:
    try:
        return _KIND_WORDS[Kind(kind)]
    except (ValueError, KeyError):  # a kind added later still gets a word
        return kind.replace("_", " ")


def _thumbnail(verdict: Verdict) -> str | None:
    """A base64 JPEG of the upright first frame, or None when it cannot be shown (never raises)."""
    try:
        data = imaging.read_file(Path(verdict.path))
        if verdict.sha256 and sha256_bytes(data) != verdict.sha256:
            return None  # the file changed since it was screened: its boxes would lie
        picture = imaging.load(Path(verdict.path), data)
        pixels, _ = picture.scaled(0, THUMB_SIDE)
        del picture, data
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
        return base64.b64encode(buf.getvalue()).decode("ascii")
    except Exception:  # a preview is a convenience: the verdict is still reported in full
        return None


STRIP_FRAMES = 6  # frames shown for a video: the first times something was found
STRIP_SIDE = 200


def _video_strip(v: Verdict, names: Mapping[str, str]) -> str | None:
    """For a video, a strip of the frames that hold findings, each with its boxes; "" when the
    clip cannot be shown, None for a photo (never raises: a preview is a convenience)."""
    from screening.formats import video
    from screening.pipeline import video_format

    path = Path(v.path)
    fmt = video_format(path)
    if fmt is None:
        return None
    if v.checks.get("decode") != "ok":
        return ""  # only clips a worker decoded to their end are opened here, in the parent
    try:
        if v.sha256 and sha256_file(path) != v.sha256:
            return ""
        times = sorted({x.time for x in (*v.faces, *v.reasons, *v.permitted_reasons)
                        if x.time is not None})[:STRIP_FRAMES] or [0.0]
        from PIL import Image

        figures = []
        with video.Clip(path, fmt) as clip:
            wanted = list(times)
            for frame in clip.frames():
                if not wanted:
                    break
                if frame.time + 0.0005 < wanted[0]:
                    continue
                t = wanted.pop(0)
                rgb = frame.rgb()
                at = replace(v, size=(rgb.shape[1], rgb.shape[0]),
                             faces=tuple(f for f in v.faces if f.time == t),
                             reasons=tuple(r for r in v.reasons if r.time == t),
                             permitted_reasons=tuple(r for r in v.permitted_reasons if r.time == t))
                img = Image.fromarray(rgb)
                img.thumbnail((STRIP_SIDE, STRIP_SIDE))
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=THUMB_QUALITY)
                thumb = base64.b64encode(buf.getvalue()).decode("ascii")
                figures.append(f'<figure><div class="pic"><img alt="{html.escape(path.name)} at '
                               f'{t:.2f} s" src="data:image/jpeg;base64,{thumb}">{"".join(_boxes(at, names))}'
                               f'</div><figcaption>{t:.2f} s</figcaption></figure>')
        return f'<div class="stage strip">{"".join(figures)}</div>' if figures else ""
    except Exception:
        return ""


def _card(v: Verdict, n: int, thumb: str | None, names: Mapping[str, str], original: str | None,
          strip: str | None = None) -> str:
    e = html.escape
    kinds = sorted(_kinds(v))
    boxes = "".join(_boxes(v, names)) if (thumb and v.size) else ""
    if strip:
        picture = strip
    elif thumb:
        # .pic shrinks to the image, so boxes placed in percent land on the photo itself
        picture = (f'<div class="stage"><div class="pic" title="click to enlarge" tabindex="0">'
                   f'<img alt="{e(Path(v.path).name)}" src="data:image/jpeg;base64,{thumb}">{boxes}</div></div>')
    else:
        picture = '<div class="pic none">no preview</div>'
    reasons = "".join(_reason(r.kind.value, r.detail) for r in v.reasons)
    permission = v.permission
    if permission is not None:
        reasons += (f'<li class="permission"><b>cleared with permission</b> by {e(permission.by)} '
                    f'on {e(permission.at[:10])}: {e(permission.note)}</li>')
        reasons += "".join(_reason(r.kind.value, r.detail, permitted=True) for r in v.permitted_reasons)
    location = _location_line(v)
    status = "cleared with permission" if permission is not None else _STATUS_WORDS[v.status]
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


def _reason(kind: str, detail: str, permitted: bool = False) -> str:
    """One reason: plain words first, the measurements behind them in a details element."""
    e = html.escape
    words, numbers = plain_words(kind, detail)
    label = f"<b>{e(_kind_word(kind))}</b>" + (" (permitted)" if permitted else "")
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


def _location_line(v: Verdict) -> str:
    found = [r.detail for r in (*v.reasons, *v.permitted_reasons) if r.kind is Kind.LOCATION]
    if found:
        return "Location: " + "; ".join(found)
    state = v.checks.get("location")
    if state == "ok":
        return "Location: none in the file"
    return "Location: not checked"


def _boxes(v: Verdict, names: Mapping[str, str]):
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
    others = [(r.kind.value, r.box, r.extra.get("academy") or " or ".join(r.extra.get("academies", ()))
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
            f'<span>{html.escape(label)}</span></div>')


_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title><style>{css}</style></head><body>
"""

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232b;background:#f4f5f7}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #dde1e6}
h1{font-size:20px;margin:0 0 4px}.muted{color:#5f6b7a;margin:4px 0}
.summary{display:flex;gap:12px;margin:10px 0}
.tile{padding:8px 14px;border-radius:8px;min-width:120px;color:#fff}.tile b{display:block;font-size:24px}
.tile.cleared,.chip.cleared{background:#1e7b34}.tile.needs_permission,.chip.needs_permission{background:#b25e00}
.tile.error,.chip.error{background:#b3261e}
.filters div{margin:6px 0}.label{display:inline-block;width:130px;color:#5f6b7a}
.chip{display:inline-block;padding:3px 10px;margin:2px 4px 2px 0;border-radius:14px;color:#fff;cursor:pointer;user-select:none}
.chip.kind{background:#44505e}.chip input{vertical-align:middle}
.legend{margin:6px 0 0}.swatch{display:inline-block;width:12px;height:12px;border:3px solid;margin:0 4px 0 12px;vertical-align:middle}
main{padding:0 24px 16px}
.group h2{font-size:17px;margin:18px 0 8px}
.group .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.group.hidden{display:none}
.incomplete{background:#b3261e;color:#fff;padding:8px 12px;border-radius:6px;font-size:16px}
details.skipped{margin:6px 0}details.skipped code{font-size:12px}
li details{display:inline;margin-left:6px;color:#5f6b7a}li details summary{cursor:pointer;display:inline;font-size:12px}
li details[open] .numbers{display:block;font-size:12px}
.pic[tabindex]{cursor:zoom-in}a.original{font-family:system-ui,sans-serif;font-size:12px;margin-left:6px}
#viewer{position:fixed;inset:0;background:rgba(10,12,16,.92);display:flex;flex-direction:column;align-items:center;justify-content:center;z-index:10}
#viewer[hidden]{display:none}
#viewer .pic{cursor:zoom-out}#viewer .pic img{max-width:94vw;max-height:86vh;width:auto;height:auto;min-height:60vh;object-fit:contain}
#viewer .caption{color:#eee;margin:10px;font-size:14px}#viewer .caption a{color:#9cf}
#viewer button{margin-left:12px}
.card{background:#fff;border-radius:8px;overflow:hidden;border-top:6px solid}
.card.cleared{border-color:#1e7b34}.card.needs_permission{border-color:#b25e00}.card.error{border-color:#b3261e}
.card.hidden{display:none}
.stage{background:#222;text-align:center;line-height:0}
.pic{position:relative;display:inline-block;line-height:0}
.pic img{display:block;max-width:100%;max-height:320px}
.pic.none{display:block;line-height:160px;height:160px;color:#ddd;background:#333;text-align:center;font-size:16px}
.box{position:absolute;border:3px solid;box-sizing:border-box;line-height:1.2}
.box span{position:absolute;left:-3px;top:-20px;font-size:12px;padding:1px 4px;color:#fff;white-space:nowrap;line-height:16px}
.box.below span{top:auto;bottom:-20px}
.face.ok,.swatch.face.ok{border-color:#2fbf4f}.face.ok span{background:#1e7b34}
.face.unknown,.swatch.face.unknown{border-color:#ff3b30}.face.unknown span{background:#b3261e}
.face.no-consent,.swatch.face.no-consent{border-color:#ff9500}.face.no-consent span{background:#b25e00}
.logo,.swatch.logo{border-color:#c03cff}.box.logo span{background:#7a1fa8}
.uniform,.swatch.uniform{border-color:#2d8cff}.box.uniform span{background:#1558b0}
.words,.swatch.words{border-color:#e6c200}.box.words span{background:#7a6500}
.text{padding:8px 12px}.status{font-weight:600;margin:0}.status.cleared{color:#1e7b34}
.status.needs_permission{color:#b25e00}.status.error{color:#b3261e}
.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all;margin:2px 0}
.location{margin:2px 0;color:#44505e}ul{margin:4px 0 0;padding-left:18px}li{margin:2px 0}
li.permitted{color:#5f6b7a}li.permission{color:#1e7b34}
.strip{display:flex;gap:4px;overflow-x:auto;padding:4px;text-align:left}
.strip figure{margin:0;flex:none}.strip .pic img{max-height:160px}
.strip figcaption{color:#ddd;font-size:11px;line-height:16px;text-align:center}
"""

_FOOT = """</main>
<div id="viewer" hidden><div class="frame"></div>
<p class="caption"><span class="name"></span> <a class="original" href="#">open the original</a>
<button type="button">close (Esc)</button></p></div>
<script>
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('.group'));
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[data-filter]'));
  function apply() {
    var statuses = {}, kinds = [];
    boxes.forEach(function (b) {
      if (!b.checked) return;
      if (b.dataset.filter === 'status') statuses[b.value] = true; else kinds.push(b.value);
    });
    var shown = 0;
    cards.forEach(function (c) {
      var have = (c.dataset.kinds || '').split(' ');
      var ok = statuses[c.dataset.status] &&
               (kinds.length === 0 || kinds.some(function (k) { return have.indexOf(k) >= 0; }));
      c.classList.toggle('hidden', !ok);
      if (ok) shown++;
    });
    groups.forEach(function (g) {
      g.classList.toggle('hidden', !g.querySelector('.card:not(.hidden)'));
    });
    document.getElementById('shown').textContent = 'Showing ' + shown + ' of ' + cards.length + ' image(s).';
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
  // A click on a photo shows it large, with its boxes, and a link to the original file.
  var viewer = document.getElementById('viewer'), frame = viewer.querySelector('.frame');
  function show(pic) {
    var card = pic.closest('.card'), link = card.querySelector('a.original');
    frame.innerHTML = '';
    frame.appendChild(pic.cloneNode(true));
    viewer.querySelector('.name').textContent = card.querySelector('.path').title;
    var original = viewer.querySelector('a.original');
    original.hidden = !link;
    if (link) original.href = link.getAttribute('href');
    viewer.hidden = false;
  }
  function hide() { viewer.hidden = true; frame.innerHTML = ''; }
  document.querySelectorAll('.card .pic[tabindex]').forEach(function (pic) {
    pic.addEventListener('click', function () { show(pic); });
    pic.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') show(pic); });
  });
  viewer.addEventListener('click', function (ev) { if (ev.target.tagName !== 'A') hide(); });
  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') hide(); });
  // Lets a reader (or a test) see at a glance that every preview decoded.
  window.addEventListener('load', function () {
    var imgs = document.querySelectorAll('.pic img'), ok = 0;
    for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
    document.body.setAttribute('data-previews-shown', ok);
  });
})();
</script>
</body></html>
"""

"""The HTML contact sheet: one self-contained file the marketing team opens and acts on.

Each verdict becomes a card as it arrives (a small JPEG thumbnail, base64-embedded, with a
box per face, logo and uniform), spooled to a temporary file so memory never holds more
than one image; close() writes the summary and filters on top and moves the file in place.
Nothing is loaded from the network: the report travels by email.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from screening import __version__, imaging
from screening.digest import sha256_bytes
from screening.model import Kind, Status, Verdict

THUMB_SIDE = 320  # px, longest side: ~15-25 KB per photo, a few MB per 100 images
THUMB_QUALITY = 70

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
    Kind.ERROR: "error",
}


class HtmlWriter:
    def __init__(self, path: Path, title: str = "Screening report",
                 names: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.title = title
        self.names = dict(names or {})  # person_id -> display name, shown only when consented
        self.statuses: Counter[Status] = Counter()
        self.kinds: Counter[str] = Counter()
        self.channels: set[str] = set()
        self.count = 0
        # The cards are spooled beside the target so close() can rename, never half-write it.
        self.spool_path = _sibling(self.path, "cards")
        self.spool = open(self.spool_path, "x", encoding="utf-8")

    def write(self, verdict: Verdict) -> None:
        self.count += 1
        self.statuses[verdict.status] += 1
        self.kinds.update(_kinds(verdict))
        self.channels.add(verdict.channel)
        self.spool.write(_card(verdict, self.count, _thumbnail(verdict), self.names))
        self.spool.flush()

    def close(self) -> None:
        if self.spool.closed:
            return
        self.spool.close()
        tmp = _sibling(self.path, "tmp")
        try:
            with open(tmp, "x", encoding="utf-8") as out, \
                    open(self.spool_path, encoding="utf-8") as cards:
                out.write(self._head())
                for chunk in iter(lambda: cards.read(1 << 20), ""):
                    out.write(chunk)
                out.write(_FOOT)
            os.replace(tmp, self.path)
        finally:
            for leftover in (tmp, self.spool_path):
                try:
                    os.unlink(leftover)
                except FileNotFoundError:
                    pass

    def _head(self) -> str:
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
        return _HEAD.format(
            title=e(self.title), css=_CSS,
        ) + (
            f'<header><h1>{e(self.title)}</h1>'
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
            f'</header><main id="cards">'
        )


def _sibling(path: Path, what: str) -> Path:
    """A new hidden file name beside path (created with the user's usual permissions, not 0600)."""
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{what}"


def _kinds(v: Verdict) -> set[str]:
    """Reason kinds of the image, permitted ones included, so the filters still find it."""
    permitted = {r.get("kind", "") for r in v.extra.get("permitted_reasons", [])}
    return ({r.kind.value for r in v.reasons} | permitted) - {""}


def _kind_word(kind: str) -> str:
    try:
        return _KIND_WORDS[Kind(kind)]
    except ValueError:
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


def _card(v: Verdict, n: int, thumb: str | None, names: Mapping[str, str]) -> str:
    e = html.escape
    kinds = sorted(_kinds(v))
    boxes = "".join(_boxes(v, names)) if (thumb and v.size) else ""
    if thumb:
        # .pic shrinks to the image, so boxes placed in percent land on the photo itself
        picture = (f'<div class="stage"><div class="pic"><img alt="{e(Path(v.path).name)}" '
                   f'src="data:image/jpeg;base64,{thumb}">{boxes}</div></div>')
    else:
        picture = '<div class="pic none">no preview</div>'
    reasons = "".join(f'<li class="{e(r.kind.value)}"><b>{e(_kind_word(r.kind.value))}</b>: '
                      f'{e(r.detail)}</li>' for r in v.reasons)
    permission = v.extra.get("permission")
    if permission:
        reasons += (f'<li class="permission"><b>cleared with permission</b> by {e(str(permission.get("by")))} '
                    f'on {e(str(permission.get("at", ""))[:10])}: {e(str(permission.get("note", "")))}</li>')
        reasons += "".join(f'<li class="permitted"><b>{e(_kind_word(r.get("kind", "")))}</b> '
                           f'(permitted): {e(r.get("detail", ""))}</li>'
                           for r in v.extra.get("permitted_reasons", []))
    location = _location_line(v)
    status = "cleared with permission" if permission else _STATUS_WORDS[v.status]
    return (
        f'<article class="card {v.status.value}" id="img{n}" data-status="{v.status.value}" '
        f'data-kinds="{e(" ".join(kinds))}">{picture}'
        f'<div class="text"><p class="status {v.status.value}">{e(status)}</p>'
        f'<p class="path" title="{e(v.path)}">{e(v.path)}</p>'
        f'<p class="location">{e(location)}</p>'
        + (f'<ul>{reasons}</ul>' if reasons else "")
        + "</div></article>\n"
    )


def _location_line(v: Verdict) -> str:
    found = [r.detail for r in v.reasons if r.kind is Kind.LOCATION]
    found += [r.get("detail", "") for r in v.extra.get("permitted_reasons", []) if r.get("kind") == "location"]
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
    permitted = v.extra.get("permitted_reasons", [])
    others = [(r.get("kind"), r.get("box"), r.get("academy") or r.get("person_id", "")) for r in permitted]
    others += [(r.kind.value, r.box, r.extra.get("academy") or r.extra.get("person_id", "")) for r in v.reasons]
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
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;padding:16px 24px}
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
"""

_FOOT = """</main>
<script>
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
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
    document.getElementById('shown').textContent = 'Showing ' + shown + ' of ' + cards.length + ' image(s).';
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
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

"""The fixed parts of the HTML page: its head (no network: a strict Content-Security-Policy),
the style sheet, and the foot with the script behind the filters and the large view."""

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title><style>{css}</style></head><body>
"""

CSS = """
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

FOOT = """</main>
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

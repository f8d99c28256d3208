// Live progress of a batch being screened: polls /batches/ID/progress every second and
// reloads the page once the batch is done. Without JavaScript a <noscript> refresh does it.
(function () {
  var box = document.getElementById('progress');
  if (!box) return;
  var url = '/batches/' + encodeURIComponent(box.dataset.batch) + '/progress';
  function tick() {
    fetch(url, {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (p) {
      var done = box.querySelector('.done'), total = box.querySelector('.total'), bar = box.querySelector('progress');
      var state = box.querySelector('.state');
      if (done) done.textContent = p.done;
      if (total) total.textContent = p.total;
      if (bar) { bar.max = p.total; bar.value = p.done; }
      if (state) state.textContent = p.state === 'queued' ? 'Waiting for the batch before it' : 'Screening';
      box.dataset.done = p.done;
      if (p.state === 'done' || p.state === 'failed') { window.location.reload(); return; }
      setTimeout(tick, 1000);
    }).catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
})();

// Says how many files were chosen or dropped on each drop zone (the inputs themselves are
// invisible, stretched over the zone). Without JavaScript the upload works the same.
(function () {
  document.querySelectorAll('span.chosen').forEach(function (label) {
    var input = document.getElementById(label.dataset.for);
    if (!input) return;
    input.addEventListener('change', function () {
      var n = input.files ? input.files.length : 0;
      label.textContent = n ? n + ' file(s) chosen' : '';
    });
  });
})();

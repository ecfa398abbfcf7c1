// Copy, download and print for the backup codes. The page works without it: the codes are shown
// as text, and these buttons stay hidden until this script runs.
(function () {
  'use strict';
  var actions = document.querySelector('[data-code-actions]');
  if (!actions) return;
  var codes = Array.prototype.map.call(document.querySelectorAll('[data-backup-code]'), function (el) {
    return el.getAttribute('data-backup-code');
  });
  var list = document.querySelector('[data-file-heading]');
  var heading = list ? list.getAttribute('data-file-heading') : '';
  var status = document.querySelector('[data-copy-status]');
  var text = heading + '\n\n' + codes.join('\n') + '\n';
  actions.hidden = false;

  var copy = document.querySelector('[data-copy-codes]');
  if (copy && navigator.clipboard) {
    copy.addEventListener('click', function () {
      navigator.clipboard.writeText(codes.join('\n')).then(function () {
        if (status) status.textContent = status.getAttribute('data-copied-text') || '';
      });
    });
  } else if (copy) {
    copy.hidden = true;
  }

  var download = document.querySelector('[data-download-codes]');
  if (download) {
    download.addEventListener('click', function () {
      var url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
      var link = document.createElement('a');
      link.href = url;
      link.download = 'backup-codes.txt';
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  }

  var print = document.querySelector('[data-print]');
  if (print) print.addEventListener('click', function () { window.print(); });
})();

// The console works without this script: times read in UTC, the instant picker takes UTC, and a
// running check refreshes its page. With it, times show in the viewer's zone (UTC stays on
// hover) and the picker takes the viewer's local time.
(function () {
  'use strict';
  var format = window.Intl && Intl.DateTimeFormat
    ? new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
    : null;
  var pad = function (n) { return (n < 10 ? '0' : '') + n; };

  if (format) {
    Array.prototype.forEach.call(document.querySelectorAll('time[data-local-time]'), function (el) {
      var at = new Date(el.getAttribute('datetime'));
      if (isNaN(at.getTime())) return;
      el.textContent = format.format(at);
      el.setAttribute('title', 'UTC: ' + el.getAttribute('datetime'));
    });
  }

  // The picker: its value arrives in UTC; show it in local time, and tell the server the offset.
  Array.prototype.forEach.call(document.querySelectorAll('form[data-instant-form]'), function (form) {
    var input = form.querySelector('input[type="datetime-local"]');
    var tz = form.querySelector('[data-tz-offset]');
    var hint = form.querySelector('[data-tz-hint]');
    if (!input || !tz) return;
    if (input.value) {
      var utc = new Date(input.value + 'Z');
      if (!isNaN(utc.getTime())) {
        input.value = utc.getFullYear() + '-' + pad(utc.getMonth() + 1) + '-' + pad(utc.getDate()) + 'T' + pad(utc.getHours()) + ':' + pad(utc.getMinutes()) + ':' + pad(utc.getSeconds());
      }
    }
    if (hint) {
      var zone = (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || '';
      hint.textContent = hint.getAttribute('data-local-text') + (zone ? ' (' + zone + ')' : '') + '.';
    }
    var setOffset = function () {
      var local = new Date(input.value);
      tz.value = String(isNaN(local.getTime()) ? new Date().getTimezoneOffset() : local.getTimezoneOffset());
    };
    setOffset();
    form.addEventListener('submit', setOffset);
  });
})();

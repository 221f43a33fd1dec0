// Keeps the check-in code on the room display current (the CSP forbids inline scripts).
(function () {
  "use strict";
  var box = document.querySelector("[data-code-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-code-url");
  var code = document.getElementById("checkin-code");
  var seconds = document.getElementById("checkin-seconds");
  var closed = document.getElementById("checkin-closed");
  var left = parseInt(seconds ? seconds.textContent : "0", 10) || 0;

  function show(state) {
    if (!state.open) {
      code.textContent = "------";
      if (closed) { closed.hidden = false; }
      window.clearInterval(timer);
      return;
    }
    code.textContent = state.code;
    left = state.seconds_left;
    if (seconds) { seconds.textContent = String(left); }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { /* keep showing the last code; the next tick retries */ });
  }

  var ticks = 0;
  var timer = window.setInterval(function () {
    ticks += 1;
    left = Math.max(0, left - 1);
    if (seconds) { seconds.textContent = String(left); }
    if (left === 0 || ticks % 15 === 0) { refresh(); }
  }, 1000);
})();

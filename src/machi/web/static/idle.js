// Convenience only: the server locks idle sessions on its own. This sends the browser to
// the lock screen when the idle time has passed, so personal data does not stay on screen.
(function () {
  var body = document.body;
  if (!body.dataset.signedIn) return;
  var minutes = parseInt(body.dataset.idleMinutes || "10", 10);
  var timer;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.assign("/lock"); }, minutes * 60 * 1000);
  }
  ["click", "keydown", "mousemove", "scroll", "touchstart"].forEach(function (e) {
    window.addEventListener(e, reset, { passive: true });
  });
  reset();
})();

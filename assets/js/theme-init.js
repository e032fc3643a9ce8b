// Theme bootstrap, inlined into <head> (theme-init.html) so that it runs before the first
// paint: sets <html data-theme> from the saved choice or the system setting, and follows
// system changes while the reader has made no choice of their own. Its hash is in the
// page's Content-Security-Policy (csp.html): any change here updates both.
(function () {
  var d = document.documentElement;
  var m = matchMedia("(prefers-color-scheme: dark)");
  function s() {
    var t = null;
    try {
      t = localStorage.getItem("theme");
    } catch (e) {}
    d.dataset.theme = t === "dark" || t === "light" ? t : m.matches ? "dark" : "light";
  }
  s();
  m.addEventListener("change", s);
})();

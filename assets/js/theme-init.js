// Theme bootstrap, inlined into <head> (theme-init.html) so that it runs before the first
// paint. The reader's choice ("light", "dark", or none saved: follow the system) goes into
// <html data-theme-choice>, the theme it resolves to into <html data-theme>, again whenever
// the system setting changes. site.js's toggle changes the choice and calls
// document.documentElement.twTheme() to apply it. Its hash is in the page's
// Content-Security-Policy (csp.html): any change here updates both.
(function () {
  var d = document.documentElement;
  var m = matchMedia("(prefers-color-scheme: dark)");
  // One local variable only: the HTML minifier minifies this inline script once more, and
  // with two locals it swaps their names, which breaks the hash in the policy.
  function s() {
    var t = null;
    try {
      t = localStorage.getItem("theme");
    } catch (e) {}
    d.dataset.themeChoice = t === "dark" || t === "light" ? t : "system";
    d.dataset.theme = t === "dark" || t === "light" ? t : m.matches ? "dark" : "light";
  }
  s();
  d.twTheme = s;
  m.addEventListener("change", s);
})();

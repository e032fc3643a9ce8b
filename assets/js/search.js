// Search page: loads Pagefind's UI from the index folder (only here, never on other pages),
// mounts it on #tw-search, and runs the ?q= query from the header form.
// Without an index (a plain `hugo server`), it shows how to build one instead.
const mount = document.getElementById("tw-search");

function showMissing() {
  const note = document.querySelector(".tw-search-missing");
  if (note) note.hidden = false;
}

if (mount) {
  const bundle = mount.dataset.bundle;
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = bundle + "pagefind-ui.css";
  document.head.append(css);
  const script = document.createElement("script");
  script.src = bundle + "pagefind-ui.js";
  script.onerror = showMissing;
  script.onload = () => {
    const ui = new window.PagefindUI({
      element: "#tw-search",
      bundlePath: bundle,
      // Result links are relative to the indexed folder: prefix the site's own base path,
      // so a site published under a sub-path links to its own pages.
      baseUrl: mount.dataset.base,
      showSubResults: true,
      showImages: false,
      resetStyles: false,
    });
    // Pagefind names its input only with `title`, which axe (label-title-only) and some
    // screen readers do not take as a label; give it an accessible name of its own.
    const input = mount.querySelector("input.pagefind-ui__search-input");
    if (input && !input.hasAttribute("aria-label")) {
      input.setAttribute("aria-label", input.title || input.placeholder || "搜索");
    }
    const query = new URLSearchParams(location.search).get("q");
    if (query) ui.triggerSearch(query);
  };
  document.body.append(script);
}

// Search in place, on every page (kept small: the search UI and Pagefind load only when the
// dialog first opens). Opens a <dialog> with `/`, Ctrl+K / Cmd+K and the header search box
// (a click, typing or submitting it; focus alone, e.g. Tab, never opens it: WCAG 3.2.1); Esc,
// the close button or a click outside closes it and gives the focus back. A landing from a
// result (?highlight=) loads highlight.js, which marks the query's terms.
import * as params from "@params";

let dialog = null;
let ui = null;
let opener = null;

function build() {
  dialog = document.createElement("dialog");
  dialog.className = "tw-sd";
  dialog.setAttribute("aria-label", params.strings.label);
  const box = document.createElement("div");
  box.className = "tw-sd-box";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "tw-sd-close";
  close.textContent = params.strings.close;
  close.addEventListener("click", () => dialog.close());
  const keys = document.createElement("p");
  keys.className = "tw-sd-keys";
  keys.textContent = params.strings.keys;
  const mount = document.createElement("div");
  mount.className = "tw-sd-mount";
  box.append(close, mount, keys);
  dialog.append(box);
  // A click on the backdrop lands on the dialog itself, outside its box.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      dialog.close();
    }
  });
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
  document.body.append(dialog);
  ui = import(params.ui).then((mod) => mod.mountSearch(mount, params));
}

// `box`: the header box whose text becomes the query. The dialog opens once its UI has loaded,
// so that what is typed meanwhile still lands in the box; the text then moves into the
// dialog (the box is empty when the focus comes back; an empty box keeps the last query).
async function open(box) {
  if (!dialog) build();
  const search = await ui;
  if (!dialog.open) {
    opener = document.activeElement;
    dialog.showModal();
  }
  const query = box ? box.value : "";
  if (box) box.value = "";
  search.input.focus();
  if (query && query !== search.input.value) search.search(query);
}

function editable(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey) return;
  const k = event.key.toLowerCase();
  if (k === "k" && (event.ctrlKey || event.metaKey) && !event.shiftKey) {
    event.preventDefault();
    open();
  } else if (event.key === "/" && !event.ctrlKey && !event.metaKey && !editable(event.target)) {
    event.preventDefault();
    open();
  }
});

// The header form still works without JS (a GET to /search/); with JS it opens the dialog.
const form = document.querySelector("form[data-search-dialog]");
if (form) {
  const box = form.querySelector("input[name=q]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    open(box);
  });
  box.addEventListener("click", () => {
    if (!dialog || !dialog.open) open(box);
  });
  // Typing opens it; text an input method is still composing (pinyin for Chinese) stays in
  // the box until it is committed, so a composition is never cut off by the move of focus.
  box.addEventListener("input", (event) => {
    if (!event.isComposing) open(box);
  });
  box.addEventListener("compositionend", () => open(box));
}

// Landing from a result: the query's terms are marked in the page's text.
const marked = new URLSearchParams(location.search).get("highlight");
if (marked) import(params.highlight).then((mod) => mod.highlight(marked));

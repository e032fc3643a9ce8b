// Search in place, on every page (kept small: the search UI and Pagefind load only when the
// dialog first opens). Opens a <dialog> with `/`, Ctrl+K / Cmd+K and the header search box
// (typing in it, clicking it or submitting it); Esc, the close button or a click outside
// closes it and gives the focus back. Also highlights ?highlight= terms on a landing page.
import * as params from "@params";

let dialog = null;
let ui = null;
let opener = null;
let returning = false;

// Closing gives the focus back (the browser does, and so does the close handler below); the
// flag stops that focus from reopening the dialog through the header box.
function shut() {
  returning = true;
  try {
    dialog.close();
  } finally {
    returning = false;
  }
}

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
  close.addEventListener("click", shut);
  const keys = document.createElement("p");
  keys.className = "tw-sd-keys";
  keys.textContent = params.strings.keys;
  const mount = document.createElement("div");
  mount.className = "tw-sd-mount";
  box.append(close, mount, keys);
  dialog.append(box);
  // A click on the backdrop lands on the dialog itself, outside its box.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) shut();
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      shut();
    }
  });
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    shut();
  });
  dialog.addEventListener("close", () => {
    returning = true;
    if (opener && opener.isConnected) opener.focus();
    returning = false;
    opener = null;
  });
  document.body.append(dialog);
  ui = import(params.ui).then((mod) => mod.mountSearch(mount, params));
}

async function open(query) {
  if (!dialog) build();
  if (!dialog.open) {
    opener = document.activeElement;
    dialog.showModal();
  }
  const search = await ui;
  search.input.focus();
  // A query from the header box replaces the last one; an empty box keeps it.
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
    open(box.value);
  });
  // Focus (a click or Tab) opens the dialog before any typing starts, so an input method
  // composing Chinese is never interrupted; the focus given back on close does not reopen it.
  box.addEventListener("focus", () => {
    if (!returning) open(box.value);
  });
  box.addEventListener("click", () => {
    if (!dialog || !dialog.open) open(box.value);
  });
}

// Landing from a result: mark the query's terms in the page's text.
function highlight() {
  const query = new URLSearchParams(location.search).get("highlight");
  const root = document.querySelector(".tw-article");
  if (!query || !root) return;
  const terms = [...new Set(query.toLowerCase().split(/\s+/).filter(Boolean))];
  if (!terms.length) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  let first = null;
  for (const node of nodes) {
    const text = node.nodeValue;
    const lower = text.toLowerCase();
    const cuts = [];
    for (const term of terms) {
      for (let i = lower.indexOf(term); i >= 0; i = lower.indexOf(term, i + term.length)) {
        cuts.push([i, i + term.length]);
      }
    }
    if (!cuts.length || node.parentElement.closest("script, style, mark")) continue;
    cuts.sort((a, b) => a[0] - b[0]);
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of cuts) {
      if (start < at) continue; // overlapping terms: the first one wins
      frag.append(text.slice(at, start));
      const mark = document.createElement("mark");
      mark.className = "tw-hl";
      mark.textContent = text.slice(start, end);
      frag.append(mark);
      first = first || mark;
      at = end;
    }
    frag.append(text.slice(at));
    node.replaceWith(frag);
  }
  if (first && !location.hash) first.scrollIntoView({ block: "center" });
}
highlight();

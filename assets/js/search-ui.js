// Search UI: an input and a result list that update as the reader types, used by the search
// dialog (search-open.js imports this module the first time the dialog opens) and by the
// search page (search.js). Pagefind's pagefind.js is imported as soon as the UI is mounted.
// Keys: ArrowDown / ArrowUp move between the input and the result links, Enter on the input
// opens the first result. Result text comes from the index and is inserted as text only
// (Pagefind's <mark> around matches is rebuilt as elements, nothing else is parsed into the page).
import { findPages, refine, withHighlight } from "./search-core.js";

const PAGE = 10;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

// Pagefind's excerpt is HTML with <mark> around the matches: keep the text and the marks only.
function excerpt(html) {
  const p = el("p", "tw-sr-excerpt");
  const doc = new DOMParser().parseFromString(html || "", "text/html");
  for (const node of doc.body.childNodes) {
    if (node.nodeName === "MARK") p.append(el("mark", "", node.textContent));
    else p.append(document.createTextNode(node.textContent));
  }
  return p;
}

// What kind of page a result is (首页, 笔记, 示例 …), from the first segment of its path.
function kindOf(url, opts) {
  const base = new URL(opts.base, location.href).pathname;
  const path = new URL(url, location.href).pathname;
  const rest = path.startsWith(base) ? path.slice(base.length) : path;
  if (!rest) return opts.strings.home;
  return opts.sections[rest.split("/")[0]] || "";
}

function renderItem(item, query, opts) {
  const { data } = item;
  const li = el("li", "tw-sr-item");
  const link = el("a", "tw-sr-link");
  link.href = withHighlight(data.url, query);
  const kind = kindOf(data.url, opts);
  if (kind) link.append(el("span", "tw-sr-kind", kind));
  link.append(el("span", "tw-sr-title", data.meta.title || data.url));
  li.append(link, excerpt(data.excerpt));
  // Sub-results: the sections of the page where the query is, each named by its heading.
  const subs = (data.sub_results || [])
    .filter((s) => s.url.includes("#") && s.title && s.title !== data.meta.title)
    .sort((a, b) => (b.locations || []).length - (a.locations || []).length)
    .slice(0, 3);
  if (subs.length) {
    const ul = el("ul", "tw-sr-subs");
    for (const sub of subs) {
      const sli = el("li");
      const a = el("a", "tw-sr-sub", sub.title);
      a.href = withHighlight(sub.url, query);
      sli.append(a, excerpt(sub.excerpt));
      ul.append(sli);
    }
    li.append(ul);
  }
  return li;
}

// Mounts the search UI into `container`. opts: {bundle, base, strings, sections}.
// Returns {input, search(query)}.
export function mountSearch(container, opts) {
  const s = opts.strings;
  const input = el("input", "tw-sr-input");
  input.type = "search";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = s.placeholder;
  input.setAttribute("aria-label", s.label);
  const status = el("p", "tw-sr-status");
  status.setAttribute("role", "status");
  const list = el("ol", "tw-sr-results");
  list.setAttribute("aria-label", s.results);
  const more = el("button", "tw-sr-more", s.more);
  more.type = "button";
  more.hidden = true;
  container.append(input, status, list, more);

  let pagefind = null;
  let serial = 0;
  let shown = PAGE;
  let timer = 0;
  let done = null; // the query whose results are on screen

  function load() {
    if (!pagefind) {
      pagefind = import(opts.bundle + "pagefind.js").then(async (pf) => {
        await pf.options({ baseUrl: opts.base, excerptLength: 24 });
        await pf.init();
        return pf;
      });
      pagefind.catch(() => (pagefind = null)); // a later query tries again
    }
    return pagefind;
  }

  async function search(query, keep) {
    const mine = ++serial;
    if (!keep) shown = PAGE;
    input.value = query;
    if (!query.trim()) {
      list.replaceChildren();
      status.textContent = "";
      more.hidden = true;
      return;
    }
    let pf;
    try {
      status.textContent = s.loading;
      pf = await load();
    } catch (e) {
      if (mine === serial) status.textContent = s.missing;
      return;
    }
    const { items, more: hasMore } = await refine(await findPages(pf, query), query, shown);
    if (mine !== serial) return; // a newer query is running
    list.replaceChildren(...items.map((item) => renderItem(item, query, opts)));
    status.textContent = items.length
      ? s.found.replace("%d", String(items.length))
      : s.none.replace("%s", query.trim());
    more.hidden = !hasMore;
    done = query;
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => search(input.value), 80);
  });
  more.addEventListener("click", () => {
    shown += PAGE;
    search(input.value, true);
  });
  container.addEventListener("keydown", (event) => {
    const links = [...list.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && (at > 0 || at === 0)) {
      event.preventDefault();
      (at > 0 ? links[at - 1] : input).focus();
    } else if (event.key === "Enter" && event.target === input) {
      event.preventDefault();
      clearTimeout(timer);
      // Enter right after typing: wait for this query's results, then open the first.
      const ready = done === input.value ? Promise.resolve() : search(input.value);
      ready.then(() => {
        const first = list.querySelector("a");
        if (first) location.href = first.href;
      });
    }
  });
  // Start loading Pagefind now (the dialog has just opened, or this is the search page), so
  // the first keystroke does not wait for it; a failure shows on the first query.
  load().catch(() => {});
  return { input, search };
}

// Site script: theme toggle, copy buttons on code blocks, the table of contents following
// the scroll, and the sidebar column on wide screens. Loaded deferred on every page; it must
// stay a few KB.
import * as params from "@params";

const root = document.documentElement;

// Theme: theme-init.html already chose it before the first paint. The toggle cycles
// follow the system -> the other theme -> the system's theme, chosen -> follow the system,
// so the first click always changes the colours; the choice is saved (none: follow the
// system) and the bootstrap's own function applies it.
function setupThemeToggle() {
  const button = document.querySelector(".tw-theme-toggle");
  if (!button || typeof root.twTheme !== "function") return;
  const sync = () => {
    const label = button.dataset["label" + root.dataset.themeChoice[0].toUpperCase() +
      root.dataset.themeChoice.slice(1)];
    button.setAttribute("aria-label", label);
    button.title = label;
  };
  sync();
  button.addEventListener("click", () => {
    const system = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    const other = system === "dark" ? "light" : "dark";
    const next = { system: other, [other]: system, [system]: "system" }[root.dataset.themeChoice];
    try {
      if (next === "system") localStorage.removeItem("theme");
      else localStorage.setItem("theme", next);
    } catch (e) {
      // Storage may be disabled (private mode): the choice then lasts for this page only.
    }
    root.twTheme();
    if (root.dataset.themeChoice !== next) {
      root.dataset.themeChoice = next;
      root.dataset.theme = next === "system" ? system : next;
    }
    sync();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => setTimeout(sync));
}

// Copy buttons copy the code only: never the result badge or the program output that the
// code-block render hook puts next to it, nor line numbers. The button goes into the
// block's toolbar row (layouts/_partials/code-block.html), never over the code.
function setupCopyButtons() {
  const blocks = [...document.querySelectorAll(".tw-code")];
  for (const hl of document.querySelectorAll("div.highlight")) {
    if (!hl.closest(".tw-code")) blocks.push(hl);
  }
  for (const block of blocks) {
    const code = block.querySelector(".highlight pre code") || block.querySelector("pre code");
    if (!code) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tw-copy";
    button.textContent = params.copy;
    button.setAttribute("aria-label", params.copyLabel);
    button.addEventListener("click", async () => {
      const copy = code.cloneNode(true);
      copy.querySelectorAll(".ln").forEach((n) => n.remove());
      try {
        await navigator.clipboard.writeText(copy.textContent);
        button.textContent = params.copied;
      } catch (e) {
        button.textContent = params.copyFailed;
      }
      setTimeout(() => (button.textContent = params.copy), 2000);
    });
    const bar = block.querySelector(":scope > .tw-code-bar");
    block.classList.add("tw-has-copy");
    if (bar) bar.append(button);
    else block.prepend(button);
  }
}

// Table of contents (scroll-spy): the current section is the last heading whose top has
// reached the top of the viewport (less its scroll-margin-top, where an anchor jump puts it);
// before the first heading, the first one. Recomputed on every scroll (anchor links, find in
// page and scrollbar drags all scroll), on hashchange, resize and load, once per frame; an
// IntersectionObserver alone misses jumps that skip over its thresholds. At the very bottom,
// where the last headings can never reach the top, a linked heading in view wins.
function setupTocTracking() {
  const links = new Map();
  for (const a of document.querySelectorAll(".tw-toc a[href^='#']")) {
    links.set(decodeURIComponent(a.hash.slice(1)), a);
  }
  const headings = [...document.querySelectorAll(".tw-content :is(h1,h2,h3,h4)[id]")].filter(
    (h) => links.has(h.id),
  );
  if (!headings.length) return;
  let current = null;
  let queued = false;
  const margin = (h) => parseFloat(getComputedStyle(h).scrollMarginTop) || 0;
  const update = () => {
    queued = false;
    let active = headings[0];
    for (const h of headings) {
      if (h.getBoundingClientRect().top - margin(h) <= 1) active = h;
      else break;
    }
    const root = document.scrollingElement || document.documentElement;
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && links.has(target.id) && root.scrollTop + innerHeight >= root.scrollHeight - 2) {
      const top = target.getBoundingClientRect().top;
      if (top >= 0 && top < innerHeight) active = target;
    }
    const link = links.get(active.id);
    if (link === current) return;
    if (current) current.removeAttribute("aria-current");
    link.setAttribute("aria-current", "true");
    current = link;
  };
  const schedule = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(update);
    }
  };
  addEventListener("scroll", schedule, { passive: true });
  addEventListener("resize", schedule);
  addEventListener("hashchange", schedule);
  addEventListener("load", schedule);
  update();
}

// Sidebar: on wide screens a sticky column that scrolls by itself (nav.css). Its <details>
// is opened there (a closed one hides its links from the accessibility tree, so the column
// would be a scrolling region with nothing to focus) and closed again as a phone's drawer;
// the current page's link is scrolled into the column's view, never the window.
function setupSidebar() {
  const sidebar = document.querySelector("details.tw-sidebar");
  if (!sidebar) return;
  const wide = matchMedia("(min-width: 64rem)");
  const fit = () => {
    sidebar.open = wide.matches;
    const here = sidebar.querySelector('[aria-current="page"]');
    if (!wide.matches || !here) return;
    const bottom = here.offsetTop + here.offsetHeight;
    if (bottom > sidebar.scrollTop + sidebar.clientHeight) {
      sidebar.scrollTop = bottom - sidebar.clientHeight / 2;
    }
  };
  wide.addEventListener("change", fit);
  fit();
}

setupThemeToggle();
setupCopyButtons();
setupTocTracking();
setupSidebar();

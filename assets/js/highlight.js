// Landing from a search result (?highlight=...): marks the query's terms in the page's text.
// Its own module, which search-open.js imports only on such a landing.

export function highlight(query) {
  const root = document.querySelector(".tw-article");
  if (!root) return;
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

// Search core shared by the search dialog, the search page and the relevance test
// (tests/search_query.mjs imports this file as is): it turns Pagefind's ranked results into
// the list a reader sees. Plain ES module, no Hugo parameters, no DOM.
//
// Pagefind matches Chinese by segments and prefixes: 回调 also finds a page that only has
// 回到 and 调用 (two words starting 回 and 调). A result is kept only when its indexed text
// really holds every term of the query (case-insensitive); if that leaves nothing, Pagefind's
// own list is shown, so a query that only matches by stemming still finds something.

// The query's terms: whitespace-separated, case-folded, duplicates dropped.
export function queryTerms(query) {
  const seen = new Set();
  for (const word of query.toLowerCase().split(/\s+/)) {
    if (word) seen.add(word);
  }
  return [...seen];
}

// True when the text holds every term.
export function holdsAll(text, terms) {
  const folded = text.toLowerCase();
  return terms.every((term) => folded.includes(term));
}

// The page's indexed text and title: what "holds the query" is judged on.
function judged(data) {
  return `${(data.meta && data.meta.title) || ""}\n${data.content || ""}`;
}

// The query with every run of Chinese characters cut into words (Intl.Segmenter), or null
// when that changes nothing. Pagefind's index cuts the note's "Twisted学习笔记" into
// 学习/笔记, but looks the query word 学习笔记 up whole and misses it; the cut query finds it.
export function segmentedQuery(query) {
  if (typeof Intl === "undefined" || !Intl.Segmenter) return null;
  const segmenter = new Intl.Segmenter("zh", { granularity: "word" });
  const cut = query.replace(/[\u3400-\u9fff]{3,}/g, (run) =>
    [...segmenter.segment(run)].map((s) => s.segment).join(" "),
  );
  return cut === query ? null : cut;
}

// Pagefind's results for the query, then those that only the segmented query finds
// (each page once). `pagefind` is the imported pagefind.js module.
export async function findPages(pagefind, query) {
  const first = (await pagefind.search(query)).results;
  const cut = segmentedQuery(query);
  if (!cut) return first;
  const seen = new Set(first.map((r) => r.id));
  const extra = (await pagefind.search(cut)).results.filter((r) => !seen.has(r.id));
  return first.concat(extra);
}

// Results in Pagefind's order, each with its loaded data, filtered as above.
// `results` is Pagefind's search(...).results; `limit` is how many to return; data is
// loaded in batches and only as far as needed. Returns {items: [{result, data}], more}
// where `more` says whether further results exist beyond `limit`.
export async function refine(results, query, limit = 10, batch = 10) {
  const terms = queryTerms(query);
  const kept = [];
  const loaded = [];
  let next = 0;
  while (kept.length <= limit && next < results.length) {
    const slice = results.slice(next, next + batch);
    next += slice.length;
    const datas = await Promise.all(slice.map((r) => r.data()));
    slice.forEach((result, i) => {
      const item = { result, data: datas[i] };
      loaded.push(item);
      if (holdsAll(judged(item.data), terms)) kept.push(item);
    });
  }
  if (!kept.length) {
    // Nothing holds every term: fall back to Pagefind's ranking.
    return { items: loaded.slice(0, limit), more: results.length > limit, filtered: false };
  }
  return { items: kept.slice(0, limit), more: kept.length > limit, filtered: true };
}

// Every kept result (for recall): the whole list, not only the first screen.
export async function refineAll(results, query) {
  const { items } = await refine(results, query, results.length || 1, 20);
  return items;
}

// A result URL that carries the query to the landing page for highlighting; the fragment
// (a sub-result's heading) stays last.
export function withHighlight(url, query) {
  const hash = url.indexOf("#");
  const path = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}highlight=${encodeURIComponent(query.trim())}${fragment}`;
}

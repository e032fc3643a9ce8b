// Query a built Pagefind index from Node, the way the browser's pagefind.js does, but
// without a browser: pagefind.js is imported from disk and its fetch() of index chunks is
// answered from the same folder. The results then go through the site's own search core
// (assets/js/search-core.js, the code the dialog and the search page run).
// Usage: node search_query.mjs BUNDLE_DIR < queries.json (a JSON list of strings); prints
// {"query": {"raw": [url, ...], "rawTop": [[url, holds], ...], "shown": [[url, holds], ...],
// "kept": [url, ...]}, ...} as JSON: Pagefind's whole list, its first ten with whether each
// page holds every term, the first ten the reader is shown, and every result the site keeps.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

import { findPages, holdsAll, queryTerms, refine, refineAll } from "../assets/js/search-core.js";

const bundle = process.argv[2];
const queries = JSON.parse(readFileSync(0, "utf8"));

globalThis.fetch = async (url) => {
  try {
    return new Response(await readFile(fileURLToPath(new URL(url))), { status: 200 });
  } catch {
    return new Response("", { status: 404 });
  }
};

const judged = (data) => `${data.meta.title || ""}\n${data.content}`;
const pagefind = await import(pathToFileURL(`${bundle}/pagefind.js`).href);
await pagefind.options({ basePath: pathToFileURL(`${bundle}/`).href, baseUrl: "/" });
await pagefind.init();
const found = {};
for (const query of queries) {
  const terms = queryTerms(query);
  const search = await pagefind.search(query);
  const datas = await Promise.all(search.results.map((r) => r.data()));
  const pages = await findPages(pagefind, query);
  const shown = (await refine(pages, query, 10)).items;
  found[query] = {
    raw: datas.map((d) => d.url),
    rawTop: datas.slice(0, 10).map((d) => [d.url, holdsAll(judged(d), terms)]),
    shown: shown.map(({ data }) => [data.url, holdsAll(judged(data), terms)]),
    kept: (await refineAll(pages, query)).map(({ data }) => data.url),
  };
}
process.stdout.write(JSON.stringify(found));

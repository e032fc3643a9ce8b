// Query a built Pagefind index from Node, the way the browser's pagefind.js does, but
// without a browser: pagefind.js is imported from disk and its fetch() of index chunks is
// answered from the same folder. Usage: node search_query.mjs BUNDLE_DIR < queries.json
// (a JSON list of strings); prints {"query": [url, ...], ...} as JSON.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const bundle = process.argv[2];
const queries = JSON.parse(readFileSync(0, "utf8"));

globalThis.fetch = async (url) => {
  try {
    return new Response(await readFile(fileURLToPath(new URL(url))), { status: 200 });
  } catch {
    return new Response("", { status: 404 });
  }
};

const pagefind = await import(pathToFileURL(`${bundle}/pagefind.js`).href);
await pagefind.options({ basePath: pathToFileURL(`${bundle}/`).href, baseUrl: "/" });
await pagefind.init();
const found = {};
for (const query of queries) {
  const search = await pagefind.search(query);
  found[query] = await Promise.all(search.results.map(async (r) => (await r.data()).url));
}
process.stdout.write(JSON.stringify(found));

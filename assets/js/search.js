// Search page: the search UI of the dialog, in the page, running the ?q= query that the
// header form sends without JS (or that a link carries). Pagefind loads on the first query.
import * as params from "@params";
import { mountSearch } from "./search-ui.js";

const mount = document.getElementById("tw-search");
if (mount) {
  const ui = mountSearch(mount, params);
  const query = new URLSearchParams(location.search).get("q");
  if (query) ui.search(query);
}

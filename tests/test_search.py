"""Search recall: the built site, indexed by Pagefind, finds the pages each query must find.

The index is queried with Pagefind's own pagefind.js (the file the search page loads), run in
Node by tests/search_query.mjs, so what is measured is what a reader's browser would return.
`make build` uses the PyPI Pagefind (pinned in requirements.txt); when npm's Pagefind is
installed as well (node_modules/.bin/pagefind, or $TWNOTES_NPM_PAGEFIND), its recall is
measured too, and the chosen one must be at least as good.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, BuiltSite

QUERIES_FILE = ROOT / "tests" / "data" / "search-queries.toml"
QUERY_SCRIPT = ROOT / "tests" / "search_query.mjs"
# TWNOTES_NPM_PAGEFIND points at an npm Pagefind installed elsewhere (e.g. a temp folder).
NPM_PAGEFIND = Path(
    os.environ.get("TWNOTES_NPM_PAGEFIND", ROOT / "node_modules" / ".bin" / "pagefind"))


@dataclasses.dataclass(frozen=True)
class Query:
    text: str
    pages: tuple[str, ...]
    known_miss: str | None


def load_queries() -> list[Query]:
    raw = tomllib.loads(QUERIES_FILE.read_text(encoding="utf-8"))["query"]
    return [Query(q["q"], tuple(q["pages"]), q.get("known_miss")) for q in raw]


QUERIES = load_queries()


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the index is queried with pagefind.js in Node")
    return node


def index_site(site: BuiltSite, dest: Path, command: list[str]) -> Path:
    """Copy the built site, index the copy with one Pagefind, return its bundle folder."""
    shutil.copytree(site.public, dest)
    proc = subprocess.run([*command, "--site", str(dest)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest / "pagefind"


def run_queries(bundle: Path, texts: list[str]) -> dict[str, list[str]]:
    proc = subprocess.run([node_binary(), str(QUERY_SCRIPT), str(bundle)],
                          input=json.dumps(texts), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    found: dict[str, list[str]] = json.loads(proc.stdout)
    return found


def recall(found: dict[str, list[str]], queries: list[Query]) -> float:
    """The share of (query, expected page) pairs whose page is among the query's results."""
    pairs = [(q, page) for q in queries for page in q.pages]
    return sum(page in found[q.text] for q, page in pairs) / len(pairs)


@pytest.fixture(scope="module")
def pypi_results(
    built_site: BuiltSite, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    bundle = index_site(built_site, tmp_path_factory.mktemp("pypi") / "public",
                        [sys.executable, "-m", "pagefind"])
    return run_queries(bundle, [q.text for q in QUERIES])


def test_query_set_is_large_and_mixed() -> None:
    texts = [q.text for q in QUERIES]
    assert len(texts) >= 15 and len(set(texts)) == len(texts)
    assert sum(all("\u4e00" <= c <= "\u9fff" for c in t) for t in texts) >= 5  # Chinese words
    assert sum(t.isascii() for t in texts) >= 5  # identifiers
    assert sum(" " in t and not t.isascii() for t in texts) >= 3  # mixed


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.text)
def test_query_finds_its_pages(pypi_results: dict[str, list[str]], query: Query) -> None:
    missing = [page for page in query.pages if page not in pypi_results[query.text]]
    if query.known_miss:
        if not missing:
            pytest.fail(f"known miss now found: drop known_miss from {query.text!r}")
        pytest.xfail(query.known_miss)
    assert missing == [], f"{query.text!r} found {pypi_results[query.text]}"


def test_only_content_is_indexed(pypi_results: dict[str, list[str]]) -> None:
    # Tag pages, the search page and the 404 page carry no data-pagefind-body.
    urls = {url for found in pypi_results.values() for url in found}
    assert urls and not any(u.startswith(("/tags/", "/search/", "/404")) for u in urls), urls


def test_pypi_pagefind_is_at_least_as_good_as_npm(
    built_site: BuiltSite,
    pypi_results: dict[str, list[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    if not NPM_PAGEFIND.exists():
        pytest.skip(f"npm's pagefind is not installed ({NPM_PAGEFIND}): only the PyPI one measured")
    bundle = index_site(built_site, tmp_path_factory.mktemp("npm") / "public", [str(NPM_PAGEFIND)])
    npm_results = run_queries(bundle, [q.text for q in QUERIES])
    pypi, npm = recall(pypi_results, QUERIES), recall(npm_results, QUERIES)
    print(f"recall: PyPI pagefind {pypi:.1%}, npm pagefind {npm:.1%}")
    assert pypi >= npm

"""Every internal link, asset and #anchor of the built site resolves, at the root and under a
sub-path.

A static host serves `public/` either at the root of a domain or under a sub-path (a GitHub
Pages project site lives at `/<repo>/`). A link written with a leading `/` instead of through
`relURL`/`RelPermalink` works at the root and breaks under a sub-path, so the site is built with
`--baseURL http://127.0.0.1:PORT/sub/`, served under `/sub/` only by a small loopback server, and
crawled from the home page: pages, stylesheets, scripts, images, srcset candidates, CSS `url()`s,
the feed, the sitemap, and every `#fragment` against the ids of its target page. The same crawl
runs over the root build `make build` made (TWNOTES_BUILT_SITE), and once more without a
server against the deployment address used in the docs (`https://example.org/twisted-notes/`),
mapped onto the files the way a static host maps them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.client
import mimetypes
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import pytest

from conftest import ROOT, BuiltSite, build_site, index_with_pagefind

# Where a crawl starts: the home page, plus what no page links to but a host or robot reads.
SEEDS = ("", "404.html", "robots.txt", "sitemap.xml")
MAX_URLS = 5000  # bounds the crawl: far above the site's size, low enough to stop a loop
PAGES_ADDRESS = "https://example.org/twisted-notes/"

# Attributes that hold one URL, and the ones that hold a srcset candidate list.
URL_ATTRIBUTES = ("href", "src", "action", "poster", "data", "cite", "formaction")
SRCSET_ATTRIBUTES = ("srcset", "imagesrcset")
# Metadata whose content is a URL (absolute by convention; internal ones must resolve too).
URL_METAS = ("og:url", "og:image", "twitter:image")
PAGEFIND_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind.js")
SKIPPED_SCHEMES = ("mailto", "tel", "javascript", "data", "blob")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
XML_URL = re.compile(r"<(?:loc|link|guid)>\s*(https?://[^<\s]+)\s*</")
ROBOTS_SITEMAP = re.compile(r"(?im)^sitemap:\s*(\S+)")


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    location: str = ""


Fetch = Callable[[str], Response]


@dataclasses.dataclass(frozen=True)
class Link:
    """One reference found on a page: where it was found, what it said, what it resolves to."""

    source: str
    raw: str
    url: str  # absolute, fragment removed
    fragment: str  # percent-decoded; empty when there is none


@dataclasses.dataclass
class CrawlReport:
    base: str
    fetched: dict[str, Response] = dataclasses.field(default_factory=dict)
    links: list[Link] = dataclasses.field(default_factory=list)
    external: set[str] = dataclasses.field(default_factory=set)

    def html_pages(self) -> list[str]:
        return [url for url, r in self.fetched.items() if is_html(r) and r.status == 200]

    def broken(self) -> list[str]:
        """Every internal reference that does not resolve, as `page: url: reason`."""
        problems: list[str] = []
        ids = {url: element_ids(r.body) for url, r in self.fetched.items()
               if r.status == 200 and is_html(r)}
        for link in self.links:
            response = self.fetched[link.url]
            where = f"{link.source}: {link.raw}"
            if response.status != 200:
                reason = f"HTTP {response.status}"
                if response.location:
                    reason += f" to {response.location}"
                problems.append(f"{where}: {reason}")
            elif link.fragment and link.fragment != "top":  # "#top" needs no id (HTML spec)
                if link.url not in ids:
                    problems.append(f"{where}: #fragment on a non-HTML target")
                elif link.fragment not in ids[link.url]:
                    problems.append(f"{where}: no element with id {link.fragment!r}")
        return sorted(set(problems))

    def outside_base(self) -> list[str]:
        """Same-host references that leave the site's own path (the classic sub-path bug)."""
        base_path = urlsplit(self.base).path
        return sorted({f"{link.source}: {link.raw}" for link in self.links
                       if not urlsplit(link.url).path.startswith(base_path)})


def is_html(response: Response) -> bool:
    return response.content_type.split(";")[0].strip() == "text/html"


def element_ids(body: bytes) -> set[str]:
    """Fragment targets of a page: every id, plus the legacy `<a name>`."""
    return set(page_facts(body)[1])


def html_references(body: bytes) -> Iterator[str]:
    yield from page_facts(body)[0]


@functools.lru_cache(maxsize=256)
def page_facts(body: bytes) -> tuple[tuple[str, ...], frozenset[str]]:
    """A page's references (html_references) and fragment targets (element_ids), from one
    pass: the crawl reads the references and broken() the ids of the same pages."""
    facts = _PageFacts()
    # The site is UTF-8 throughout; decoding here keeps a parser from sniffing another charset.
    facts.feed(body.decode("utf-8", errors="replace"))
    facts.close()
    return tuple(facts.references), frozenset(facts.ids)


class _PageFacts(HTMLParser):
    """Every start tag's URL attributes and ids, in document order. A tokenizer is enough:
    the checks read attributes, never the tree (html5lib's tree builder took seven times as
    long for the same references). Script and style contents are not markup here either."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for name, value in attrs:  # a repeated attribute: the first one counts
            values.setdefault(name, value or "")
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:  # the legacy fragment target
            self.ids.add(values["name"])
        self.references += tag_references(tag, values)


def tag_references(tag: str, values: dict[str, str]) -> Iterator[str]:
    for attr in URL_ATTRIBUTES:
        # <meta content> and <object data> are handled by name; `data` elsewhere is not a URL.
        if attr in values and (attr != "data" or tag == "object"):
            yield values[attr]
    for attr in SRCSET_ATTRIBUTES:
        if attr in values:
            for candidate in values[attr].split(","):
                if candidate.strip():
                    yield candidate.split()[0]
    if "data-bundle" in values:  # the search page's Pagefind folder: search.js loads these
        yield from (values["data-bundle"] + name for name in PAGEFIND_FILES)
    if tag == "meta" and "content" in values and (values.get("property") in URL_METAS
                                                  or values.get("name") in URL_METAS):
        yield values["content"]


def text_references(response: Response) -> Iterator[str]:
    text = response.body.decode("utf-8", errors="replace")
    kind = response.content_type.split(";")[0].strip()
    if kind == "text/css":
        for match in CSS_URL.finditer(text):
            yield match.group(2) or match.group(4)
    elif kind in ("application/xml", "text/xml", "application/rss+xml"):
        yield from XML_URL.findall(text)
    elif kind == "text/plain":
        yield from ROBOTS_SITEMAP.findall(text)


def crawl(base: str, fetch: Fetch, seeds: tuple[str, ...] = SEEDS
          ) -> CrawlReport:
    """Fetch everything reachable from the seeds without leaving `base`'s host.

    HTML pages, stylesheets, the feed, the sitemap and robots.txt are read for further
    references; other assets are only checked to exist. External URLs are collected, never
    requested.
    """
    report = CrawlReport(base)
    origin = urlsplit(base)[:2]
    queue = [(base, "", urljoin(base, seed)) for seed in seeds]
    while queue:
        assert len(report.fetched) < MAX_URLS, "crawl did not converge"
        source, raw, absolute = queue.pop()
        parts = urlsplit(absolute)
        if parts.scheme in SKIPPED_SCHEMES:
            continue
        if parts[:2] != origin:
            report.external.add(absolute)
            continue
        url = urlunsplit((*parts[:4], ""))
        if raw:
            report.links.append(Link(source, raw, url, unquote(parts.fragment)))
        if url in report.fetched:
            continue
        response = report.fetched[url] = fetch(url)
        if response.status != 200:
            continue
        refs = html_references(response.body) if is_html(response) else text_references(response)
        queue.extend((url, ref, urljoin(url, ref.strip())) for ref in refs if ref.strip())
    return report


# --- serving a built site under a path prefix -------------------------------------------------


class PrefixHandler(SimpleHTTPRequestHandler):
    """Serves `directory` under `prefix` only; anything outside the prefix is a 404."""

    prefix = "/"

    def __init__(self, *args: Any, prefix: str, **kwargs: Any) -> None:
        self.prefix = prefix
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        if not urlsplit(self.path).path.startswith(self.prefix):
            self.send_error(404, "outside the served prefix")
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        return super().translate_path("/" + urlsplit(path).path[len(self.prefix):])

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; failures are reported by the crawl


@dataclasses.dataclass
class Server:
    root: Path
    prefix: str
    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{self.prefix}"

    def fetch(self, url: str) -> Response:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            resp = conn.getresponse()
            return Response(resp.status, resp.getheader("Content-Type", ""), resp.read(),
                            resp.getheader("Location", ""))
        finally:
            conn.close()


@contextlib.contextmanager
def serving(root: Path, prefix: str) -> Iterator[Server]:
    """A loopback static server on port 0 for the life of the block, then shut down."""
    root.mkdir(parents=True, exist_ok=True)
    handler = partial(PrefixHandler, prefix=prefix, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield Server(root, prefix, httpd, thread)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive(), "static server thread did not stop"


def file_fetcher(root: Path, base: str) -> Fetch:
    """Resolve URLs under `base` to files in `root` the way a static host does."""

    def fetch(url: str) -> Response:
        path = urlsplit(url).path
        base_path = urlsplit(base).path
        if not path.startswith(base_path):
            return Response(404, "", b"")
        target = root / unquote(path[len(base_path):])
        if target.is_dir():
            if not path.endswith("/"):
                return Response(301, "", b"", path + "/")
            target = target / "index.html"
        if not target.is_file():
            return Response(404, "", b"")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(200, kind, target.read_bytes())

    return fetch


def build_like_make(dest: Path, base_url: str) -> None:
    """Build as `make build BASEURL=…` does, including the search index when the site uses one."""
    site = build_site(dest, "--baseURL", base_url)
    noisy = [line for line in site.log.splitlines() if re.match(r"(WARN|ERROR)", line)]
    assert noisy == [], f"hugo printed warnings for baseURL {base_url}"
    uses_pagefind = any("pagefind" in p.read_text(encoding="utf-8", errors="replace")
                        for p in dest.rglob("*.html"))
    if uses_pagefind:
        index_with_pagefind(dest)


def configured_base_url() -> str:
    """The baseURL in config.toml: the address a plain `make build` builds for."""
    config = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    return str(config["baseURL"])


def assert_clean(report: CrawlReport) -> None:
    pages = report.html_pages()
    # Guards the crawl itself: a crawl that found one page would pass vacuously.
    assert any(url.rstrip("/").endswith("notes/twisted") for url in pages), pages
    assert len(pages) >= 4, pages
    assert report.broken() == []


# --- the tests ----------------------------------------------------------------------------------


def served_crawl(tmp: Path, prefix: str) -> CrawlReport:
    """Build for the server's own address, serve under `prefix`, crawl it, stop the server."""
    with serving(tmp / "public", prefix) as server:
        build_like_make(server.root, server.base)
        return crawl(server.base, server.fetch)


@pytest.fixture(scope="module")
def sub_path_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlReport:
    return served_crawl(tmp_path_factory.mktemp("links-sub"), "/sub/")


def test_sub_path_build_has_no_broken_link_or_anchor(sub_path_crawl: CrawlReport) -> None:
    assert_clean(sub_path_crawl)


def test_sub_path_build_never_links_to_the_domain_root(sub_path_crawl: CrawlReport) -> None:
    assert sub_path_crawl.links, "crawl found no links"
    assert sub_path_crawl.outside_base() == []


def test_404_page_links_work_from_any_depth(sub_path_crawl: CrawlReport) -> None:
    # Hosts serve 404.html in place of any missing URL, so its links must not be relative
    # to where the file happens to sit.
    base = sub_path_crawl.base
    page = sub_path_crawl.fetched[urljoin(base, "404.html")]
    assert page.status == 200
    served_at = urljoin(base, "no/such/page/")
    refs = [r for r in html_references(page.body)
            if not r.startswith("#")  # the page itself, wherever it is served
            and urlsplit(urljoin(served_at, r)).scheme not in SKIPPED_SCHEMES]
    assert refs, "404 page has no links"
    resolved = {urlunsplit((*urlsplit(urljoin(served_at, r))[:4], "")) for r in refs}
    assert sorted(u for u in resolved if u not in sub_path_crawl.fetched
                  or sub_path_crawl.fetched[u].status != 200) == []


def test_root_build_has_no_broken_link_or_anchor(built_site: BuiltSite) -> None:
    # The site as `make build` made it (TWNOTES_BUILT_SITE; else the session's shared build,
    # indexed the same way): a root build for the configured address, crawled without a
    # server the way a static host maps URLs onto its files (the sub-path crawl above goes
    # through a real server).
    base = configured_base_url()
    assert urlsplit(base).path == "/", f"config.toml's baseURL {base} is not a root address"
    report = crawl(base, file_fetcher(built_site.public, base))
    assert_clean(report)
    assert report.outside_base() == []


def test_pages_address_build_resolves_offline(tmp_path: Path) -> None:
    # The address the README uses for a GitHub Pages project site, checked without a server:
    # URLs under it map onto the files the way a static host maps them.
    public = tmp_path / "public"
    build_like_make(public, PAGES_ADDRESS)
    report = crawl(PAGES_ADDRESS, file_fetcher(public, PAGES_ADDRESS))
    assert_clean(report)
    assert report.outside_base() == []


# --- the checker itself -------------------------------------------------------------------------


def fixture_site(root: Path, pages: dict[str, str]) -> None:
    for rel, html in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")


def test_checker_reports_missing_page_asset_and_anchor(tmp_path: Path) -> None:
    base = "https://example.org/sub/"
    fixture_site(tmp_path, {
        "index.html": '<link rel="stylesheet" href="/sub/a.css"><a href="a/">a</a>'
                      '<a href="gone/">x</a><a href="a/#nope">y</a>'
                      '<img srcset="i.png 1x, j.png 2x">',
        "a/index.html": '<h2 id="%E4%B8%AD">中</h2><a href="../#top">top</a>',
        "a.css": "body{background:url(missing.png)}",
        "i.png": "",
    })
    broken = crawl(base, file_fetcher(tmp_path, base)).broken()
    assert any("gone/: HTTP 404" in b for b in broken)
    assert any("a/#nope: no element with id 'nope'" in b for b in broken)
    assert any("j.png: HTTP 404" in b for b in broken)
    assert any("missing.png: HTTP 404" in b for b in broken)
    assert len(broken) == 4, broken


def test_checker_matches_percent_encoded_fragments(tmp_path: Path) -> None:
    base = "https://example.org/"
    fixture_site(tmp_path, {
        "index.html": '<a href="a/#%E5%8F%8D%E5%BA%94%E5%99%A8">x</a><a href="#top">t</a>',
        "a/index.html": '<h2 id="反应器">反应器</h2>',
    })
    assert crawl(base, file_fetcher(tmp_path, base)).broken() == []


def test_checker_flags_root_relative_links_under_a_sub_path(tmp_path: Path) -> None:
    base = "https://example.org/sub/"
    fixture_site(tmp_path, {"index.html": '<a href="/">home</a><a href="/sub/">ok</a>'})
    report = crawl(base, file_fetcher(tmp_path, base))
    assert report.outside_base() == [f"{base}: /"]


def test_checker_never_requests_external_urls(tmp_path: Path) -> None:
    base = "https://example.org/"
    fixture_site(tmp_path, {"index.html": '<a href="https://twisted.org/">t</a>'
                                          '<a href="mailto:a@b.c">m</a>'})
    requested: list[str] = []
    fetch = file_fetcher(tmp_path, base)

    def recording(url: str) -> Response:
        requested.append(url)
        return fetch(url)

    report = crawl(base, recording, seeds=("",))
    assert requested == [base]
    assert report.external == {"https://twisted.org/"}


def test_static_server_serves_only_under_its_prefix(tmp_path: Path) -> None:
    fixture_site(tmp_path, {"index.html": "<p>hi</p>", "a/index.html": "<p>a</p>"})
    with serving(tmp_path, "/sub/") as server:
        assert server.fetch(server.base).status == 200
        assert server.fetch(server.base + "a/").status == 200
        assert server.fetch(server.base.replace("/sub/", "/")).status == 404
        assert server.fetch(server.base + "missing/").status == 404
        redirect = server.fetch(server.base + "a")
    assert (redirect.status, redirect.location) == (301, "/sub/a/")

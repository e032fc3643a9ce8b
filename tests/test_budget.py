"""Page weight budget: the note page, before search is opened, stays small and self-contained.

A size budget is a behaviour of the build (no browser needed): the bytes of the page's HTML
plus every stylesheet, script and icon it loads, as files on disk (uncompressed, the worst case;
the gzip figure is printed for the report).
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import BuiltSite

NOTE_URL = "notes/twisted/"
PAGE_BUDGET = 50 * 1024
JS_BUDGET = 10 * 1024

# Elements and attributes through which a browser fetches something on page load.
LOADING = {
    "script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src",
    "audio": "src", "embed": "src", "track": "src", "object": "data",
}
LOADING_LINK_RELS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest",
                     "apple-touch-icon", "preconnect", "dns-prefetch"}


@dataclasses.dataclass(frozen=True)
class Resource:
    url: str
    kind: str  # "js" for scripts, else "other" (stylesheets, icons)
    body: bytes


@functools.lru_cache(maxsize=256)
def loaded_urls(html: str) -> tuple[tuple[str, str], ...]:
    """(tag, url) of every resource the page makes the browser fetch when it loads.

    Cached: several tests walk every page of the same build, and parsing each page with
    html5lib is what they spend their time on.
    """
    soup = BeautifulSoup(html, "html5lib")
    urls = []
    for tag, attr in LOADING.items():
        urls += [(tag, str(el[attr])) for el in soup.find_all(tag) if el.has_attr(attr)]
    for link in soup.find_all("link", href=True):
        if LOADING_LINK_RELS & set(link.get("rel") or []):
            urls.append(("link", str(link["href"])))
    return tuple(urls)


def is_on_site(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def resources(site: BuiltSite, html: str) -> list[Resource]:
    out = []
    for tag, url in loaded_urls(html):
        assert is_on_site(url), url
        path = site.public / urlsplit(url).path.lstrip("/")
        out.append(Resource(url, "js" if tag == "script" else "other", path.read_bytes()))
    return out


def inline_scripts(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html5lib")
    return [s.string or "" for s in soup.find_all("script") if not s.has_attr("src")]


def all_pages(site: BuiltSite) -> list[Path]:
    pages = sorted(site.public.rglob("*.html"))
    assert pages, "the build produced no HTML"
    return pages


def test_note_page_fits_the_budget(built_site: BuiltSite) -> None:
    html = built_site.page(NOTE_URL)
    loaded = resources(built_site, html)
    assert any(r.url.endswith(".css") for r in loaded) and any(r.kind == "js" for r in loaded)
    total = len(html.encode()) + sum(len(r.body) for r in loaded)
    gzipped = len(gzip.compress(html.encode())) + sum(len(gzip.compress(r.body)) for r in loaded)
    print(f"note page: {total} bytes ({gzipped} gzipped) in {1 + len(loaded)} files")
    assert total <= PAGE_BUDGET


def test_note_page_javascript_fits_the_budget(built_site: BuiltSite) -> None:
    html = built_site.page(NOTE_URL)
    js = sum(len(r.body) for r in resources(built_site, html) if r.kind == "js")
    js += sum(len(s.encode()) for s in inline_scripts(html))
    print(f"note page JavaScript: {js} bytes")
    assert 0 < js <= JS_BUDGET


# slow: parses every built page (20-30 s under load); `make test` runs it.
@pytest.mark.slow
@pytest.mark.xdist_group("budget-loaded-urls")  # one worker parses each page once
def test_search_assets_load_only_on_the_search_page(built_site: BuiltSite) -> None:
    for page in all_pages(built_site):
        urls = [url for _, url in loaded_urls(page.read_text(encoding="utf-8"))]
        assert not any("pagefind" in url for url in urls), page


@pytest.mark.parametrize("page", ["", NOTE_URL, "search/", "404.html", "tags/"])
def test_no_resource_is_fetched_from_another_site(built_site: BuiltSite, page: str) -> None:
    off_site = [u for _, u in loaded_urls(built_site.page(page)) if not is_on_site(u)]
    assert off_site == []


# slow: parses every built page (20-30 s under load); `make test` runs it.
@pytest.mark.slow
@pytest.mark.xdist_group("budget-loaded-urls")  # one worker parses each page once
def test_no_page_loads_anything_from_another_site(built_site: BuiltSite) -> None:
    for page in all_pages(built_site):
        off_site = [u for _, u in loaded_urls(page.read_text(encoding="utf-8"))
                    if not is_on_site(u)]
        assert off_site == [], page


def test_stylesheets_use_no_web_fonts_or_remote_urls(built_site: BuiltSite) -> None:
    sheets = list(built_site.public.rglob("*.css"))
    assert sheets
    for sheet in sheets:
        if "pagefind" in sheet.parts:
            continue  # Pagefind's own UI stylesheet, loaded on the search page only
        css = sheet.read_text(encoding="utf-8")
        assert "@font-face" not in css and "@import" not in css, sheet
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css), sheet



# The token classes trimmed from both code themes (assets/css/chroma-*.css): none of the
# site's lexers (Python, Python console, TOML, plain output) produces them.
TRIMMED_TOKENS = frozenset({
    "cp", "cpf", "cs", "dl", "gd", "gi", "gh", "gu", "gl", "gr", "gs", "ld", "l", "ni", "nl",
    "no", "nt", "nx", "sc", "sr", "ss", "sx", "vc", "vg", "vi", "kp", "kd", "or", "m", "cm",
    "kr", "kt", "py", "nv", "s", "sb", "sh",
})


def _token_rules(css: str) -> set[str]:
    """The Chroma token classes a stylesheet colours (`.chroma .k {…}`, nested or not)."""
    return set(re.findall(r"\.chroma \.([a-z0-9]+)\s*\{", css))


class _CodeTokens(HTMLParser):
    """The classes of the spans inside <pre class="chroma">, in page order: what
    `pre.chroma span[class]` selects in a tree html.parser builds, without the tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # open <pre class="chroma"> elements
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = next((value or "" for name, value in attrs if name == "class"), None)
        if tag == "pre" and classes is not None and "chroma" in classes.split():
            self.depth += 1
        elif tag == "span" and self.depth and classes is not None:
            self.classes += classes.split()

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.depth:
            self.depth -= 1


def code_token_classes(html: str) -> list[str]:
    parser = _CodeTokens()
    parser.feed(html)
    parser.close()
    return parser.classes


def test_the_token_scan_reads_what_a_selector_selects() -> None:
    html = ('<pre class="chroma"><code><span class="line"><span class="k">def</span> '
            '<span class="nf x">f</span></span></code></pre><p><span class="s">no</span></p>'
            '<pre><span class="m">no</span></pre><pre class="a chroma"><span class=c1>#</span>'
            '<span>plain</span></pre>')
    expected = [cls for span in BeautifulSoup(html, "html.parser").select(
        "pre.chroma span[class]") for cls in span["class"]]
    assert code_token_classes(html) == expected == ["line", "k", "nf", "x", "c1"]


# slow: parses every built page (20-30 s under load); `make test` runs it.
@pytest.mark.slow
def test_no_highlighted_token_on_the_site_lost_its_colour(built_site: BuiltSite) -> None:
    """The code themes are trimmed (2 KB less on every page): a page whose code has a token
    class whose rules were trimmed (a new language) fails here, naming the class and page."""
    used: dict[str, str] = {}
    for path in all_pages(built_site):
        for cls in code_token_classes(path.read_text(encoding="utf-8")):
            used.setdefault(cls, path.relative_to(built_site.public).as_posix())
    assert {"k", "nf", "s1"} <= used.keys(), "no highlighted Python found: wrong selector?"
    lost = {cls: page for cls, page in used.items() if cls in TRIMMED_TOKENS}
    assert lost == {}, f"token classes without a colour (restore their theme rules): {lost}"
    root = Path(__file__).resolve().parents[1] / "assets" / "css"
    for theme in ("chroma-light.css", "chroma-dark.css"):
        styled = _token_rules((root / theme).read_text(encoding="utf-8"))
        assert {"k", "nf", "s1", "c1"} <= styled, theme
        assert not styled & TRIMMED_TOKENS, f"{theme}: TRIMMED_TOKENS is out of date"

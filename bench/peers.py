"""In-process comparisons and page weight.

Cleaning throughput: the sanitiser's `clean_fragment` against `bleach.clean` and
`nh3.clean`, on the same fragments (the raw HTML markdown-it-py finds in generated pages),
each given the same allow-list from `twnotes.policy`. The sanitiser's cache is bypassed
(`clean_fragment_uncached`): real pages rarely repeat a fragment, and a cache hit would
time a dict lookup. The sanitiser does more than its peers (it re-parses its output to prove the
round trip, and prefixes ids), which is the cost the target weighs.

Page weight: what a first visit to a page transfers, counted the way tests/test_budget.py
counts it (the HTML and every stylesheet, script and icon it makes the browser load), raw
and gzip-compressed (level 6, a typical server setting), with the JS on its own.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from bench import generate
from bench.stages import hugo_binary

MIN_SECONDS: Final = 1.0  # each cleaner runs over the fragments until this much time passed


@dataclasses.dataclass(frozen=True)
class Fragment:
    html: str
    inline: bool


def fragments(count: int, seed: int = 0) -> list[Fragment]:
    """The raw HTML pieces of `count` generated pages, as the sanitiser finds them."""
    from twnotes import pages

    out: list[Fragment] = []
    for n in range(count):
        page = pages.parse_page_text(Path(f"note-{n}.md"), generate.page(n, seed=seed))
        for token in pages.tokens(page):
            if token.type == "html_block":
                out.append(Fragment(token.content.removesuffix("\n"), inline=False))
            elif token.type == "inline" and "<" in token.content:
                # The paragraph's span from its first tag to its last: the link whole.
                text = token.content
                out.append(Fragment(text[text.index("<"):text.rindex(">") + 1], True))
    return out


@dataclasses.dataclass(frozen=True)
class Throughput:
    name: str
    per_second: float  # fragments
    mb_per_second: float  # UTF-8 input


def _throughput(name: str, clean: Callable[[Fragment], str],
                items: Sequence[Fragment]) -> Throughput:
    size = sum(len(f.html.encode()) for f in items)
    rounds, start = 0, time.perf_counter()
    while True:
        for item in items:
            clean(item)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS:
            break
    return Throughput(name, rounds * len(items) / elapsed, rounds * size / elapsed / 1e6)


def cleaners() -> dict[str, Callable[[Fragment], str]]:
    import bleach
    import nh3

    from twnotes import policy, sanitize

    tags = set(policy.BLOCK_TAGS)
    attrs = {tag: sorted(policy.allowed_attrs(tag)) for tag in tags}
    # nh3 adds rel itself (link_rel) and refuses a policy that also allows it.
    nh3_attrs = {tag: set(a) - {"rel"} for tag, a in attrs.items()}
    raw_clean = sanitize.clean_fragment_uncached
    return {
        "twnotes clean_fragment": lambda f: str(raw_clean(f.html, inline=f.inline)),
        "bleach.clean": lambda f: bleach.clean(
            f.html, tags=tags, attributes=attrs, protocols=policy.SAFE_SCHEMES, strip=True),
        "nh3.clean": lambda f: nh3.clean(
            f.html, tags=tags, attributes=nh3_attrs, url_schemes=set(policy.SAFE_SCHEMES),
            link_rel=policy.EXTERNAL_REL),
    }


def cleaning(items: Sequence[Fragment]) -> list[Throughput]:
    """Throughput of each cleaner on the same fragments, twnotes first."""
    return [_throughput(name, clean, items) for name, clean in cleaners().items()]


# --------------------------------------------------------------------------- page weight

LOADING: Final = {"script": "src", "img": "src", "iframe": "src", "source": "src",
                  "video": "src", "audio": "src", "embed": "src", "track": "src",
                  "object": "data"}
LOADING_LINK_RELS: Final = {"stylesheet", "icon", "preload", "modulepreload", "prefetch",
                            "manifest", "apple-touch-icon"}


@dataclasses.dataclass(frozen=True)
class Weight:
    page: str
    requests: int
    raw: int
    gzip: int
    js_raw: int  # external scripts plus inline <script> text
    js_gzip: int


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def weigh(public: Path, rel: str) -> Weight:
    from bs4 import BeautifulSoup

    html_bytes = (public / rel / "index.html").read_bytes()
    soup = BeautifulSoup(html_bytes, "html5lib", multi_valued_attributes=None)
    files: list[tuple[str, bytes]] = [("html", html_bytes)]
    for tag, attr in LOADING.items():
        for element in soup.find_all(tag):
            if element.has_attr(attr):
                files.append((tag, _local(public, str(element[attr]))))
    for link in soup.find_all("link", href=True):
        rels = set(str(link.get("rel") or "").split())  # a string: multi_valued off
        if LOADING_LINK_RELS & rels:
            files.append(("link", _local(public, str(link["href"]))))
    inline_js = "".join(s.string or "" for s in soup.find_all("script")
                        if not s.has_attr("src")).encode()
    js = [body for kind, body in files if kind == "script"] + [inline_js]
    return Weight(rel or "/", len(files), sum(len(b) for _, b in files),
                  sum(_gz(b) for _, b in files), sum(len(b) for b in js),
                  sum(_gz(b) for b in js if b))


def _local(public: Path, url: str) -> bytes:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        raise ValueError(f"page loads {url} from off the site")
    return (public / parts.path.lstrip("/")).read_bytes()


def page_weights() -> list[Weight]:
    """Home and the note, from the real site built like `make build` (into a temp dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        public = Path(tmp) / "public"
        env = {**os.environ, "HUGO_RESOURCEDIR": str(Path(tmp) / "resources"),
               "HUGO_CACHEDIR": str(Path(tmp) / "hugo-cache")}
        subprocess.run([hugo_binary(), "--source", str(generate.ROOT), "--destination",
                        str(public), "--minify", "--gc", "--logLevel", "warn", "--quiet"],
                       check=True, env=env, timeout=300, capture_output=True)
        return [weigh(public, ""), weigh(public, "notes/twisted/")]

"""Browser fixtures: one built, indexed and served site and one Chromium per session.

The site is built with its baseURL pointing at the local server, so every absolute URL the
layouts emit stays on the site; any request that leaves 127.0.0.1 is recorded and aborted,
which makes "no request leaves the site" a checkable fact rather than a hope.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import BROWSER_ANSWERED, ROOT, BuiltSite, build_site

from .visitcache import PassedTests, cache_folder, tools_digest, tree_digest

ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Every wait in these tests is bounded by this (milliseconds).
TIMEOUT_MS = 15_000
# A search result (a page) in the search UI, dialog or search page (ui-contract).
RESULT = ".tw-sr-link"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, no access log on stderr; Pagefind's wasm needs its real MIME type."""

    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".json": "application/json",
        ".xml": "application/xml",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """A browser that has seen the load event moves on while late responses are still
    being written: a connection it drops is no error of the site's (no traceback)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, Reset, ...
            super().handle_error(request, client_address)


@dataclasses.dataclass(frozen=True)
class ServedSite:
    """The built site on disk and the URL it is served from."""

    site: BuiltSite
    base: str  # "http://127.0.0.1:PORT"
    digest: str  # visitcache.tree_digest of the site as built, before any test ran

    @property
    def public(self) -> Path:
        return self.site.public

    def url(self, path: str) -> str:
        """Absolute URL of a site path such as ``/notes/twisted/``."""
        return self.base + "/" + path.lstrip("/")

    def pages(self) -> list[str]:
        """URL paths of every HTML page of the build (Pagefind's own assets excluded)."""
        paths: list[str] = []
        for html in sorted(self.public.rglob("*.html")):
            rel = html.relative_to(self.public)
            if rel.parts[0] == "pagefind":
                continue
            if rel.name == "index.html":
                paths.append("/" + "".join(part + "/" for part in rel.parts[:-1]))
            else:
                paths.append("/" + rel.as_posix())
        return paths

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return f"{parts.scheme}://{parts.netloc}" == self.base


def pagefind_command(site: Path) -> list[str]:
    """Index the build the way `make build` does: npm's Pagefind if the Makefile uses it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    npm_pagefind = ROOT / "node_modules" / ".bin" / "pagefind"
    if "node_modules/.bin/pagefind" in makefile or "npx pagefind" in makefile:
        return [str(npm_pagefind), "--site", str(site)]
    return [sys.executable, "-m", "pagefind", "--site", str(site)]


@pytest.fixture(scope="session")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """Serve first (to learn the port), then build with that baseURL and index with Pagefind."""
    public = tmp_path_factory.mktemp("browser-site") / "public"
    public.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(public))
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        base = f"http://127.0.0.1:{port}"
        site = build_site(public, "--baseURL", base + "/", enforce=True)
        proc = subprocess.run(
            pagefind_command(public), capture_output=True, text=True, timeout=300, check=False
        )
        if proc.returncode != 0:
            pytest.fail(f"pagefind failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        yield ServedSite(site, base, tree_digest(public, base))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclasses.dataclass
class Traffic:
    """What one browser context did: console errors, uncaught errors, requests made."""

    site: ServedSite
    console_errors: list[str] = dataclasses.field(default_factory=list)
    outside: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)
    bad_status: list[str] = dataclasses.field(default_factory=list)

    def watch(self, page: Any) -> None:
        """Record console errors, uncaught exceptions and failing responses of a page."""
        page.on(
            "console",
            lambda msg: self.console_errors.append(f"{page.url}: console.{msg.type}: {msg.text}")
            if msg.type == "error"
            else None,
        )
        page.on("pageerror", lambda exc: self.console_errors.append(f"{page.url}: {exc}"))
        page.on(
            "response",
            lambda resp: self.bad_status.append(f"{resp.status} {resp.url}")
            if resp.status >= 400
            else None,
        )

    def clear(self) -> None:
        self.console_errors.clear()
        self.outside.clear()
        self.requests.clear()
        self.bad_status.clear()


def routed_context(browser: Any, site: ServedSite, traffic: Traffic, **options: Any) -> Any:
    """A context (bounded waits) whose every request is routed: off-site ones are aborted;
    requests, console errors and failing responses land in `traffic`."""
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)

    def route(route: Any) -> None:
        url = route.request.url
        traffic.requests.append(url)
        if site.is_local(url):
            route.continue_()
        else:
            traffic.outside.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    context.on("page", traffic.watch)
    return context


@pytest.fixture
def make_context(browser: Any, served_site: ServedSite) -> Iterator[Any]:
    """Factory for routed browser contexts (routed_context), closed after the test."""
    contexts: list[Any] = []

    def factory(**options: Any) -> tuple[Any, Traffic]:
        traffic = Traffic(served_site)
        context = routed_context(browser, served_site, traffic, **options)
        contexts.append(context)
        return context, traffic

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from node_modules (pinned in package-lock.json, installed by `make node`)."""
    if not AXE_JS.is_file():
        pytest.skip(f"{AXE_JS.relative_to(ROOT)} is missing: run `make node` (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (gitignored): screenshots land here."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sweep(browser: Any, served_site: ServedSite, axe_source: str) -> Any:
    """Every page visited once per sweep context, all the sweep tests judge collected on that
    visit (tests/browser/sweep.py); a context's tests share its xdist_group (sweep.in_group)."""
    from .sweep import Sweep

    return Sweep(browser, served_site, axe_source)


# ---------------------------------------------------------------- tests answered by the cache
#
# A test that opens its own contexts (make_context) and writes no artifacts judges nothing
# but the served site, the browser tests' code and the browser: while all of them are
# unchanged, a pass of the same test is its answer (visitcache.PassedTests). Its report
# carries BROWSER_ANSWERED, which the root conftest counts. TWNOTES_BROWSER_CACHE=off runs
# every test, and a clean clone has no cache.
_CALL_PASSED = pytest.StashKey[bool]()
# What a test's outcome may depend on besides the site: the browser tests' sources, the root
# conftest (flags, the server), the pinned Python and npm packages (Playwright, bs4, axe) and
# the interpreter that drives them.
INTERACTION_SOURCES = (
    *sorted(Path(__file__).parent.glob("*.py")), ROOT / "tests" / "conftest.py",
    ROOT / "requirements.txt", ROOT / "package-lock.json")


@functools.cache
def passed_tests(site_digest: str, browser_version: str) -> PassedTests:
    tools = tools_digest(*INTERACTION_SOURCES,
                         extra=["interaction", browser_version, sys.version])
    return PassedTests(cache_folder(), tools, site_digest)


def _cache_of(item: pytest.Item) -> PassedTests | None:
    """The cache for a test that only judges (it opens contexts and writes no artifacts:
    the screenshots must exist after the run, and keep a cache of their own)."""
    funcargs = getattr(item, "funcargs", {})
    fixtures = getattr(item, "fixturenames", ())
    if "make_context" not in fixtures or "artifacts" in fixtures or "served_site" not in funcargs:
        return None
    return passed_tests(funcargs["served_site"].digest, funcargs["browser"].version)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A kept pass answers the test: its function is not called (True ends the hook)."""
    cache = _cache_of(pyfuncitem)
    if cache is not None and cache.passed_before(pyfuncitem.nodeid):
        pyfuncitem.user_properties.append((BROWSER_ANSWERED, True))
        return True
    return None


def after_phase(item: pytest.Item, report: pytest.TestReport) -> None:
    """Keep a test that ran (was not answered) and passed its setup, call and teardown."""
    if report.when == "call":
        answered = (BROWSER_ANSWERED, True) in item.user_properties
        item.stash[_CALL_PASSED] = report.passed and not answered
    elif report.when == "teardown" and report.passed and item.stash.get(_CALL_PASSED, False):
        cache = _cache_of(item)
        if cache is not None:
            cache.keep(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    after_phase(item, report)
    return report

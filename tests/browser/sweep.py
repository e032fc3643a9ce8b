"""One sweep over every page: each page is visited once per context the sweep tests need, and
everything they judge is collected on that one visit (see SweepReport).

Contexts: a desktop one per theme (1280x800, the site's CSP in force) and a 360 px phone one
(light). On each desktop visit: console errors, uncaught exceptions, failing responses,
requests (off-site ones aborted), CSP violation reports, the head's first element, the theme
applied, and axe-core's violations; on each phone visit the same traffic and the sideways
scroll. The tests (test_pages, test_csp, test_axe) each judge their own part with the
`*_problems` functions here, which the sweep's own test (test_sweep) shows can fail.

A visit that every check passes is kept (visitcache.py) and not made again while the page,
the files it loaded and the checking code are unchanged: after an edit, only the pages whose
bytes changed are visited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from conftest import HEADLESS_SHELL

from .conftest import RESULT, TIMEOUT_MS, ServedSite, Traffic, routed_context
from .visitcache import VisitCache, for_checks

SEARCH = "/search/"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SCHEMES = ("light", "dark")
# The search page also with results: axe judges Pagefind's UI, the phone its wrapping.
AXE_SEARCH = f"{SEARCH}?q={quote('反应器')}"
PHONE_SEARCH = f"{SEARCH}?q=buildProtocol"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

# Runs before any script of the page: every violation the browser reports.
WATCH = """
window.__planted = [];
window.__violations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""
RUN_AXE = """async tags => {
    const results = await axe.run(document, {
        runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations'],
    });
    return results.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: '
            + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300)),
        count: v.nodes.length,
    }));
}"""
HEAD_FIRST = """() => {
    const m = document.head.firstElementChild;
    return m && m.tagName === "META" ? m.httpEquiv + " " + m.content : String(m);
}"""
# After the fonts settle (bounded by the evaluate timeout): the widths the reader gets.
OVERFLOW = """async () => {
    await document.fonts.ready;
    const root = document.scrollingElement;
    const wide = [...document.body.querySelectorAll('*')]
        .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
        .slice(0, 5)
        .map(el => el.tagName.toLowerCase()
            + (el.className && typeof el.className === 'string'
               ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    return [root.scrollWidth, root.clientWidth, wide];
}"""


@dataclasses.dataclass
class SweepReport:
    """What one visit of one page in one context showed."""

    where: str  # "[light] /notes/twisted/", "[phone] /search/?q=..."
    path: str
    status: int | None = None
    error: str = ""  # the visit itself failed (timeout, crash): every test reports it
    console_errors: list[str] = dataclasses.field(default_factory=list)
    outside: list[str] = dataclasses.field(default_factory=list)
    bad_status: list[str] = dataclasses.field(default_factory=list)
    requests: list[str] = dataclasses.field(default_factory=list)
    violations: list[str] = dataclasses.field(default_factory=list)
    theme: str | None = None
    head_first: str = ""
    axe: list[dict[str, Any]] | None = None
    overflow: tuple[int, int, list[str]] | None = None


def in_group(*names: str) -> list[Any]:
    """Parameters naming sweep contexts, each in its own xdist_group: with `--dist loadgroup`
    every test of one context runs on the worker that made that context's sweep, and the
    contexts' sweeps run on different workers at once."""
    return [pytest.param(name, marks=pytest.mark.xdist_group(f"sweep-{name}")) for name in names]


class Sweep:
    """The sweep's reports per context ("light", "dark": desktop; "phone"), each context swept
    on first demand, once per worker; clean visits come from the cache when it has them."""

    def __init__(self, browser: Any, site: ServedSite, axe_source: str,
                 folder: Path | None = None) -> None:
        self.browser, self.site, self.axe_source = browser, site, axe_source
        # Keyed by this browser, axe, and the code that visits and judges.
        self.cache = for_checks(Path(__file__), site.public, site.base,
                                [str(HEADLESS_SHELL), browser.version, axe_source], folder)
        self._reports: dict[str, list[SweepReport]] = {}
        self.visited: dict[str, list[str]] = {}  # per context, the paths really visited

    def paths(self, name: str) -> list[str]:
        """Every page, the search page last (then once more with a query): it starts
        Pagefind's worker, whose request can reach the context after about:blank, where it
        would be taken for the next page's (a page other than search must not load Pagefind)."""
        pages = self.site.pages()
        last = [path for path in pages if urlsplit(path).path == SEARCH]
        return [*(path for path in pages if path not in last), *last,
                PHONE_SEARCH if name == "phone" else AXE_SEARCH]

    def reports(self, name: str) -> list[SweepReport]:
        if name not in self._reports:
            self._reports[name] = self.sweep(name, self.paths(name))
        return self._reports[name]

    def sweep(self, name: str, paths: list[str]) -> list[SweepReport]:
        """Reports for these paths in this context: kept ones from the cache, the others
        visited (in the given order) and kept if clean."""
        kept = {path: report for path in paths
                if (report := from_cache(self.cache, name, path)) is not None}
        missing = [path for path in paths if path not in kept]
        fresh = dict(zip(missing, sweep_context(self.browser, self.site, missing, name,
                                                self.axe_source) if missing else [],
                         strict=True))
        for path, report in fresh.items():
            if is_clean(report, name):
                self.cache.put(name, path, dataclasses.asdict(report), report.requests)
        self.visited[name] = missing
        print(f"sweep [{name}]: {len(paths)} pages, {len(missing)} visited, "
              f"{len(kept)} from {self.cache.folder if self.cache.enabled else 'no cache'}")
        return [kept[path] if path in kept else fresh[path] for path in paths]


def from_cache(cache: VisitCache, name: str, path: str) -> SweepReport | None:
    fields = cache.get(name, path)
    if fields is None:
        return None
    if fields.get("overflow") is not None:
        fields["overflow"] = tuple(fields["overflow"])
    return SweepReport(**fields)


def new_context(browser: Any, site: ServedSite, traffic: Traffic, **options: Any) -> Any:
    """A routed context (routed_context) whose pages report their CSP violations (WATCH)."""
    context = routed_context(browser, site, traffic, **options)
    context.add_init_script(WATCH)
    return context


def load(page: Any, site: ServedSite, path: str, report: SweepReport) -> None:
    """Open a page until its load event; a search with a query also waits for its results."""
    response = page.goto(site.url(path), wait_until="load")
    report.status = response.status if response is not None else None
    if "?q=" in path:
        page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)


def inject_axe(page: Any, axe_source: str) -> None:
    """axe-core into the page through the DevTools protocol, which the page's CSP does not
    govern (an inline <script> would be refused): the policy stays in force for the sweep."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (AXE_TAGS)."""
    inject_axe(page, axe_source)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, AXE_TAGS)
    return violations


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}, {v['count']} nodes): {v['help']}")
        lines += [f"    {node}" for node in v["nodes"]]
    return lines


def take_traffic(report: SweepReport, traffic: Traffic, page: Any) -> None:
    """Move what the context recorded since the visit began into the report. The page is left
    for about:blank first: whatever it still asked for or logged until it was unloaded
    (after the judging) is its own, not the next page's."""
    report.violations = list(page.evaluate("() => window.__violations"))
    page.goto("about:blank")
    report.console_errors = list(traffic.console_errors)
    report.outside = list(traffic.outside)
    report.bad_status = list(traffic.bad_status)
    report.requests = list(traffic.requests)
    traffic.clear()


def visit(page: Any, site: ServedSite, path: str, where: str, traffic: Traffic,
          collect: Callable[[Any, SweepReport], None]) -> SweepReport:
    """Load one page, let `collect` note what its context judges, then take the traffic."""
    report = SweepReport(f"[{where}] {path}", path)
    traffic.clear()
    try:
        load(page, site, path, report)
        collect(page, report)
        take_traffic(report, traffic, page)
    except PlaywrightError as exc:
        report.error = f"{report.where}: visit failed: {exc}"
    return report


def desktop_collector(axe_source: str) -> Callable[[Any, SweepReport], None]:
    """On a desktop visit: the theme applied, the head's first element, axe's violations."""
    def collect(page: Any, report: SweepReport) -> None:
        report.theme = page.evaluate("() => document.documentElement.dataset.theme")
        report.head_first = page.evaluate(HEAD_FIRST)
        report.axe = axe_violations(page, axe_source)
    return collect


def collect_phone(page: Any, report: SweepReport) -> None:
    """On a phone visit: the sideways scroll."""
    scroll_width, client_width, culprits = page.evaluate(OVERFLOW)
    report.overflow = (scroll_width, client_width, culprits)


def sweep_context(browser: Any, site: ServedSite, paths: list[str], name: str,
                  axe_source: str) -> list[SweepReport]:
    """Visit every path in one context: "phone" (light, PHONE), else the desktop in that
    colour scheme."""
    phone = name == "phone"
    traffic = Traffic(site)
    context = new_context(browser, site, traffic, color_scheme="light" if phone else name,
                          viewport=PHONE if phone else DESKTOP)
    collect = collect_phone if phone else desktop_collector(axe_source)
    try:
        page = context.new_page()
        return [visit(page, site, path, name, traffic, collect) for path in paths]
    finally:
        context.close()


def axe_facts(browser: Any, axe_source: str) -> tuple[str, int]:
    """axe's version and how many rules the tags select (a blank page is enough to ask)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.evaluate(axe_source)
        version: str = page.evaluate("() => axe.version")
        rules: int = page.evaluate("tags => axe.getRules(tags).length", AXE_TAGS)
        return version, rules
    finally:
        context.close()


# What each sweep test judges: lines naming the page, empty when all is well.

def load_problems(report: SweepReport) -> list[str]:
    """Console errors, uncaught exceptions, 4xx/5xx, off-site requests, and Pagefind fetched
    by a page other than the search page (ui-contract)."""
    if report.error:
        return [report.error]
    where = report.where
    problems = [] if report.status == 200 else [f"{where}: HTTP {report.status}"]
    problems += [f"{where}: {e}" for e in report.console_errors]
    problems += [f"{where}: off-site request {u}" for u in report.outside]
    problems += [f"{where}: HTTP {s}" for s in report.bad_status]
    if urlsplit(report.path).path != SEARCH:
        problems += [f"{where}: loads Pagefind on first load: {u}"
                     for u in report.requests if "/pagefind/" in u]
    return problems


def overflow_problems(report: SweepReport) -> list[str]:
    if report.error or report.overflow is None:
        return [report.error or f"{report.where}: not measured"]
    scroll_width, client_width, culprits = report.overflow
    if scroll_width > client_width:
        return [f"{report.path}: scrollWidth {scroll_width} > clientWidth {client_width}; "
                f"widest elements: {culprits}"]
    return []


def violation_problems(report: SweepReport) -> list[str]:
    """CSP violations the browser reported, and console errors that name the policy."""
    if report.error:
        return [report.error]
    problems = [f"{report.where}: {v}" for v in report.violations]
    return problems + [f"{report.where}: {e}" for e in report.console_errors
                       if "Content Security Policy" in e]


def head_problems(report: SweepReport) -> list[str]:
    """The policy is the head's first element and as strict as the site means it."""
    if report.error:
        return [report.error]
    first = report.head_first
    policy = first.split(" ", 1)[-1]
    if (first.startswith("Content-Security-Policy ")
            and "'unsafe-inline'" not in policy and "object-src 'none'" in policy
            and "base-uri 'none'" in policy and "form-action 'self'" in policy
            and "'wasm-unsafe-eval'" in policy):
        return []
    return [f"{report.path}: {first}"]


def is_clean(report: SweepReport, name: str) -> bool:
    """Whether every check of this context passes on the report (only such are kept)."""
    if name == "phone":
        checks = [load_problems(report), violation_problems(report), overflow_problems(report)]
    else:
        checks = [load_problems(report), violation_problems(report), head_problems(report),
                  axe_problems(report, name)]
    return not any(checks)


def axe_problems(report: SweepReport, scheme: str) -> list[str]:
    if report.error or report.axe is None:
        return [report.error or f"{report.where}: axe did not run"]
    lines = [] if report.theme == scheme else [f"{report.where}: data-theme is {report.theme}"]
    return lines + describe(report.where, report.axe)

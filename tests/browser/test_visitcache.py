"""The browser results cache (visitcache.py): a kept result comes back only while every file
its visit requested hashes the same, under the same tools; the sweep visits only what the
cache cannot answer and never keeps a visit with a problem."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conftest import BROWSER_ANSWERED

from .conftest import ServedSite, after_phase, passed_tests, pytest_pyfunc_call
from .sweep import Sweep
from .test_pages import NOTE
from .test_sweep import faulty  # noqa: F401 - the planted pages, a fixture
from .visitcache import BASE, CACHE_ENV, PassedTests, VisitCache, digest, tree_digest

OLD = "http://127.0.0.1:1111"
NEW = "http://127.0.0.1:2222"


def site(tmp_path: Path) -> Path:
    public = tmp_path / "public"
    (public / "notes" / "a").mkdir(parents=True)
    (public / "pagefind" / "fragment").mkdir(parents=True)
    (public / "notes" / "a" / "index.html").write_text(f'<a href="{OLD}/">a</a>',
                                                        encoding="utf-8")
    (public / "site.css").write_text("p{}", encoding="utf-8")
    (public / "pagefind" / "fragment" / "x.pf").write_bytes(b"\x00\x01")
    return public


def test_a_result_is_kept_until_a_file_its_visit_requested_changes(tmp_path: Path) -> None:
    public = site(tmp_path)
    first = VisitCache(tmp_path / "cache", public, OLD, "tools")
    first.put("light", "/notes/a/", {"where": f"{OLD}/notes/a/", "n": [f"{OLD}/site.css", 3]},
              [f"{OLD}/notes/a/", f"{OLD}/site.css", "data:image/png;base64,AA",
               "http://offsite.invalid/x.png"])
    # Another run serves the site on another port, built for it: the address is put back as
    # that one, and a page that differs only by it is the same page.
    page = public / "notes" / "a" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    later = VisitCache(tmp_path / "cache", public, NEW, "tools")
    assert later.get("light", "/notes/a/") == {"where": f"{NEW}/notes/a/",
                                               "n": [f"{NEW}/site.css", 3]}
    assert later.get("dark", "/notes/a/") is None
    assert later.get("light", "/notes/b/") is None
    assert VisitCache(tmp_path / "cache", public, NEW, "other tools").get(
        "light", "/notes/a/") is None
    (public / "site.css").write_text("p{color:red}", encoding="utf-8")
    assert later.get("light", "/notes/a/") is None
    (public / "site.css").write_text("p{}", encoding="utf-8")
    assert later.get("light", "/notes/a/") is not None
    page.write_text(f'<a href="{NEW}/b/">a</a>', encoding="utf-8")
    assert later.get("light", "/notes/a/") is None
    page.unlink()
    assert later.get("light", "/notes/a/") is None


def test_a_visit_that_touched_pagefind_depends_on_the_whole_index(tmp_path: Path) -> None:
    public = site(tmp_path)
    cache = VisitCache(tmp_path / "cache", public, OLD, "tools")
    cache.put("light", "/search/?q=x", {"ok": True}, [f"{OLD}/pagefind/pagefind.js"])
    assert cache.get("light", "/search/?q=x") == {"ok": True}
    (public / "pagefind" / "fragment" / "y.pf").write_bytes(b"new")
    assert cache.get("light", "/search/?q=x") is None


def test_no_folder_keeps_nothing_and_a_broken_entry_is_a_miss(tmp_path: Path) -> None:
    public = site(tmp_path)
    off = VisitCache(None, public, OLD, "tools")
    off.put("light", "/notes/a/", {"ok": True}, [f"{OLD}/notes/a/"])
    assert off.get("light", "/notes/a/") is None and not off.enabled
    cache = VisitCache(tmp_path / "cache", public, OLD, "tools")
    cache.put("light", "/notes/a/", {"url": f"{OLD}/notes/a/"}, [f"{OLD}/notes/a/"])
    [entry] = (tmp_path / "cache").rglob("*.json")
    assert BASE in entry.read_text(encoding="utf-8")
    entry.write_text("{not json", encoding="utf-8")
    assert cache.get("light", "/notes/a/") is None


def test_digest_parts_do_not_run_together() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a") == digest(b"a")


def test_the_sweep_visits_only_what_the_cache_cannot_answer(
    browser: Any, served_site: ServedSite, axe_source: str, faulty: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    probe = served_site.public / "sweep-probe.htm"
    probe.write_text(served_site.site.page(NOTE.lstrip("/")), encoding="utf-8")
    paths = ["/sweep-probe.htm", faulty["faults"]]
    try:
        first = Sweep(browser, served_site, axe_source, tmp_path)
        reports = first.sweep("light", paths)
        assert first.visited["light"] == paths
        again = Sweep(browser, served_site, axe_source, tmp_path)
        # The planted faults fail the checks: never kept, visited every time.
        assert again.sweep("light", paths) == reports
        assert again.visited["light"] == [faulty["faults"]]
        assert Sweep(browser, served_site, axe_source, tmp_path).sweep("dark", paths[:1])
        probe.write_text(probe.read_text(encoding="utf-8") + "<!-- changed -->",
                         encoding="utf-8")
        edited = Sweep(browser, served_site, axe_source, tmp_path)
        edited.sweep("light", paths[:1])
        assert edited.visited["light"] == paths[:1]
    finally:
        probe.unlink(missing_ok=True)


# ------------------------------------------------------------- whole tests (PassedTests)


def test_the_site_digest_follows_every_name_and_byte_but_not_the_port(tmp_path: Path) -> None:
    public = site(tmp_path)
    before = tree_digest(public, OLD)
    page = public / "notes" / "a" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    assert tree_digest(public, NEW) == before  # the same site served on another port
    assert tree_digest(public, OLD) != before
    css = public / "site.css"
    css.write_text("p{ }", encoding="utf-8")
    assert tree_digest(public, NEW) != before
    css.write_text("p{}", encoding="utf-8")
    assert tree_digest(public, NEW) == before
    css.rename(public / "main.css")
    assert tree_digest(public, NEW) != before
    (public / "main.css").rename(css)
    (public / "pagefind" / "fragment" / "y.pf").write_bytes(b"")
    assert tree_digest(public, NEW) != before  # even an empty new file


def test_a_pass_is_kept_by_test_tools_and_site(tmp_path: Path) -> None:
    kept = PassedTests(tmp_path, "tools", "site")
    assert not kept.passed_before("t.py::a")
    kept.keep("t.py::a")
    assert kept.passed_before("t.py::a")
    assert not kept.passed_before("t.py::b")
    assert not PassedTests(tmp_path, "other tools", "site").passed_before("t.py::a")
    assert not PassedTests(tmp_path, "tools", "other site").passed_before("t.py::a")
    for entry in tmp_path.rglob("*.json"):
        entry.write_text("{", encoding="utf-8")
    assert not kept.passed_before("t.py::a")  # a broken entry is a miss
    off = PassedTests(None, "tools", "site")
    off.keep("t.py::a")
    assert not off.passed_before("t.py::a")


class _Item:
    """What the hooks read of a pytest item."""

    def __init__(self, nodeid: str, served: ServedSite, fixtures: tuple[str, ...]) -> None:
        self.nodeid, self.fixturenames = nodeid, fixtures
        self.funcargs = {"served_site": served, "browser": _Browser()}
        self.user_properties: list[tuple[str, object]] = []
        self.stash = pytest.Stash()


class _Browser:
    version = "0.0-test"


def _report(when: str, outcome: str) -> pytest.TestReport:
    return pytest.TestReport("t", ("t.py", 0, "t"), {}, outcome, None, when)  # type: ignore[arg-type]


def test_only_a_test_that_passed_every_phase_answers_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served_site: ServedSite) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    passed_tests.cache_clear()
    served = dataclasses.replace(served_site, digest="a site of this test only")
    try:
        def run(nodeid: str, call: str, teardown: str = "passed",
                fixtures: tuple[str, ...] = ("make_context",)) -> _Item:
            item = _Item(nodeid, served, fixtures)
            assert pytest_pyfunc_call(item) is None  # type: ignore[arg-type]  # pytest calls it
            after_phase(item, _report("call", call))  # type: ignore[arg-type]
            after_phase(item, _report("teardown", teardown))  # type: ignore[arg-type]
            return item

        run("t.py::failed", "failed")
        run("t.py::teardown_failed", "passed", "failed")
        run("t.py::no_context", "passed", fixtures=("served_site",))
        run("t.py::artifacts", "passed", fixtures=("make_context", "artifacts"))
        run("t.py::passed", "passed")
        for nodeid in ("t.py::failed", "t.py::teardown_failed"):
            run(nodeid, "passed", "failed")  # still not a pass: still run
        again = _Item("t.py::passed", served, ("make_context",))
        assert pytest_pyfunc_call(again) is True  # type: ignore[arg-type]  # not called
        assert (BROWSER_ANSWERED, True) in again.user_properties
        assert pytest_pyfunc_call(_Item("t.py::artifacts", served,  # type: ignore[arg-type]
                                        ("make_context", "artifacts"))) is None
        assert pytest_pyfunc_call(_Item("t.py::no_context", served,  # type: ignore[arg-type]
                                        ("served_site",))) is None
        other = dataclasses.replace(served_site, digest="another site")
        assert pytest_pyfunc_call(_Item("t.py::passed", other,  # type: ignore[arg-type]
                                        ("make_context",))) is None
        assert len(list(tmp_path.rglob("*.json"))) == 1
    finally:
        passed_tests.cache_clear()

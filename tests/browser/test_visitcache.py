"""The browser results cache (visitcache.py): a kept result comes back only while every file
its visit requested hashes the same, under the same tools; the sweep visits only what the
cache cannot answer and never keeps a visit with a problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import ServedSite
from .sweep import Sweep
from .test_pages import NOTE
from .test_sweep import faulty  # noqa: F401 - the planted pages, a fixture
from .visitcache import BASE, VisitCache, digest

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

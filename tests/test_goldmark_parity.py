"""The sanitiser's scan against Hugo's goldmark: what reaches the built page.

One site is built with the real layouts from every document of tests/goldmark_cases.py,
sanitised as `make test` would (the differential test), plus the extension cases as
written (to prove the check sees an attack when there is one). The five kinds of note
that once put script on the page past `twnotes sanitize --check` are loaded in Chromium.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

import goldmark_cases
from conftest import ROOT, build_site, copy_site_sources
from twnotes import audit, pages
from twnotes.sanitize import sanitize_text

# Why a document may be refused instead of cleaned (each names file:line for the author).
REFUSALS = ("is never closed", "cannot be rewritten without changing the Markdown",
            "tab-indented container", "Markdown attribute")
ARTIFACTS = ROOT / "test-artifacts"


@dataclasses.dataclass(frozen=True)
class Parity:
    public: Path
    clean: list[str]
    raw: list[str]
    refused: dict[str, str]
    # `twnotes enforce` on the sanitised pages: exit code and report (page: what it removed).
    enforced: tuple[int, str]

    def html(self, kind: str, name: str) -> str:
        return (self.public / kind / name.lower() / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> Parity:
    root = tmp_path_factory.mktemp("parity")
    source = copy_site_sources(root / "source", content=False)
    clean_dir, raw_dir = source / "content" / "clean", source / "content" / "raw"
    clean_dir.mkdir(parents=True)
    raw_dir.mkdir()
    clean, raw, refused = [], [], {}
    for name, body in goldmark_cases.documents():
        text = goldmark_cases.FRONT + body
        page = clean_dir / f"{name}.md"
        try:
            page.write_text(sanitize_text(text, page).cleaned, encoding="utf-8")
            clean.append(name)
        except pages.PageError as exc:
            refused[name] = exc.reason
        if name.startswith("ext-"):
            (raw_dir / f"{name}.md").write_text(text, encoding="utf-8")
            raw.append(name)
    # Not minified: a raw page's broken inline script would stop the minifier. Delimited,
    # and enforced on the sanitised pages only: the raw ones stay as Hugo wrote them.
    site = build_site(root / "public", source=source, minify=False, delimit=True)
    proc = subprocess.run([sys.executable, "-m", "twnotes", "enforce", "--token", site.token,
                           str(site.public / "clean")],
                          capture_output=True, text=True, timeout=600, check=False)
    return Parity(site.public, clean, raw, refused, (proc.returncode, proc.stdout + proc.stderr))


def content_findings(html: str, name: str) -> list[str]:
    return [f.reason for f in audit.audit_html(html, name)]


def test_the_differential_test_is_wide(parity: Parity) -> None:
    spec = [n for n in parity.clean if n.startswith("spec-")]
    attacks = [n for n in parity.clean
               if n.rsplit("-", 1)[-1] in ("handlers", "img", "url", "script")]
    assert len(spec) > 1200 and len(attacks) > 600


def test_no_sanitised_document_puts_anything_outside_the_policy_on_the_page(
        parity: Parity) -> None:
    # The output step cleans every note region of the built pages again with the same
    # policy: after the source sanitiser, it must find nothing to remove.
    assert parity.enforced == (0, "")


def test_no_sanitised_document_puts_script_on_the_built_page(parity: Parity) -> None:
    bad = {name: found for name in parity.clean
           if (found := content_findings(parity.html("clean", name), name))}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "goldmark-parity.json").write_text(json.dumps({
        "documents": len(parity.clean) + len(parity.refused),
        "refused": len(parity.refused), "clean-with-findings": len(bad),
        "raw-extension-cases-with-findings": sum(
            bool(content_findings(parity.html("raw", n), n)) for n in parity.raw),
    }, indent=1), encoding="utf-8")
    assert bad == {}


def test_the_check_sees_the_attacks_in_the_documents_as_written(parity: Parity) -> None:
    flagged = [n for n in parity.raw if content_findings(parity.html("raw", n), n)]
    assert len(flagged) > len(parity.raw) // 3
    for kind in ("footnote-continuation", "deflist", "closing-space", "shortcode-indented"):
        assert f"ext-{kind}-img" in flagged


def test_refusals_are_few_and_say_why(parity: Parity) -> None:
    reasons = collections.Counter(next((r for r in REFUSALS if r in why), why)
                                  for why in parity.refused.values())
    assert set(reasons) <= set(REFUSALS)
    assert sum(reasons.values()) < 30


# ------------------------------------------------------------ what maintainers wrote survives


def _content(parity: Parity, name: str) -> Any:
    soup = BeautifulSoup(parity.html("clean", name), "html5lib")
    found = soup.select_one(".tw-content")
    assert found is not None
    return found


def test_details_keep_their_markdown_inside(parity: Parity) -> None:
    details = _content(parity, "ext-details").find("details")
    assert details.find("summary").get_text() == "foo"
    assert details.find("em").get_text() == "foo"


def test_a_table_split_by_a_blank_line_is_one_table(parity: Parity) -> None:
    tables = _content(parity, "ext-table-split").find_all("table")
    assert len(tables) == 1 and len(tables[0].find_all("tr")) == 2


def test_a_comment_between_lists_keeps_them_apart(parity: Parity) -> None:
    assert len(_content(parity, "ext-comment-lists").find_all("ul")) == 2


def test_an_unterminated_tag_keeps_its_text(parity: Parity) -> None:
    text = _content(parity, "ext-unterminated").get_text()
    assert "<div id=" in text and "foo" in text  # (the typographer curls the quotes)


def test_the_summary_divider_still_divides(parity: Parity) -> None:
    listing = (parity.public / "clean" / "index.html").read_text(encoding="utf-8")
    assert "intro foo" in listing and "rest" not in listing.split("intro foo", 1)[1][:200]


def test_markdown_ids_and_classes_reach_the_page(parity: Parity) -> None:
    heading = _content(parity, "ext-heading-attrs").find("h2")
    assert (heading["id"], heading.get("class")) == ("foo", ["foo"])
    assert _content(parity, "ext-block-attrs").find("p", class_="foo") is not None


# ------------------------------------------------------------ the five kinds, in Chromium

COUNTER = "window.__runs = 0; window.xss = function () { window.__runs++; };"
FIVE_KINDS = ["footnote", "footnote-continuation", "deflist", "closing-space",
              "shortcode-indented"]


@pytest.fixture(scope="module")
def attack_page(browser: Any) -> Iterator[Any]:
    """One page for every runs() of the module (a new one would cost a new context each):
    files only (nothing else is fetched), and xss() counted afresh on each document."""
    page = browser.new_page()
    try:
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("file:", "data:", "about:")) else route.abort())
        page.add_init_script(COUNTER)
        yield page
    finally:
        page.close()


def runs(page: Any, path: Path, *, csp: bool = True) -> int:
    """How many times an attack on the page called xss() once loaded (attack_page).

    `csp` False: the page's Content-Security-Policy meta taken out first, to see what the
    HTML alone would do (the browser's own line of defence is tested apart).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    if not csp:
        html, count = re.subn(r'<meta http-equiv="?Content-Security-Policy"?[^>]*>', "",
                              path.read_text(encoding="utf-8"), count=1)
        assert count == 1, f"{path} has no CSP meta to take out"
        path = path.with_name("no-csp.html")
        path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri(), wait_until="load", timeout=30_000)
    # Up to 300 ms for an attack that runs late; one that ran already ends the wait.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function("() => window.__runs > 0", timeout=300)
    return int(page.evaluate("window.__runs"))


@pytest.mark.parametrize("kind", FIVE_KINDS)
def test_the_five_kinds_run_as_written_and_not_once_sanitised(
        parity: Parity, attack_page: Any, kind: str) -> None:
    name = f"ext-{kind}-img"
    raw, clean = (parity.public / k / name / "index.html" for k in ("raw", "clean"))
    assert runs(attack_page, raw, csp=False) > 0  # the attack is real
    assert runs(attack_page, raw) == 0  # the CSP alone stops it
    assert runs(attack_page, clean, csp=False) == 0  # and the sanitiser alone


def test_text_after_the_closing_front_matter_fence_is_refused_and_would_run(
        attack_page: Any, tmp_path: Path) -> None:
    text = '+++\ntitle = "t"\n+++ <img src=x onerror=xss()>\nbody\n'
    with pytest.raises(pages.PageError) as caught:
        sanitize_text(text)
    assert caught.value.line == 3
    source = copy_site_sources(tmp_path / "source", content=False)
    (source / "content" / "notes").mkdir(parents=True)
    (source / "content" / "notes" / "fm.md").write_text(text, encoding="utf-8")
    public = build_site(tmp_path / "public", source=source).public
    assert runs(attack_page, public / "notes" / "fm" / "index.html", csp=False) > 0

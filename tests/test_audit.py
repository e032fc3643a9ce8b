"""`twnotes audit`: a fixture site with planted findings, and the real built site."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, BuiltSite
from twnotes import audit

FIXTURE = ROOT / "tests" / "data" / "audit-site"

PLANTED = [
    ("index.html", "<body> has an event handler attribute onload"),
    ("notes/bad/index.html", "<meta http-equiv=refresh> redirects the page"),
    ("notes/bad/index.html", "<base> rewrites every relative URL on the page"),
    ("notes/bad/index.html", "inline <script> not allowed by the page's Content-Security-Policy"),
    ("notes/bad/index.html", "inline <script> not allowed by the page's Content-Security-Policy"),
    ("notes/bad/index.html", "<script> inside the page content"),
    ("notes/bad/index.html", "<img> has an event handler attribute onerror"),
    ("notes/bad/index.html", "<a href> has a script URL"),
    ("notes/bad/index.html", "<a href> has a script URL"),
    ("notes/bad/index.html", "<iframe srcdoc> holds a document of its own"),
    ("notes/bad/index.html", "<object> embeds a plugin or document"),
    ("notes/bad/index.html", "<embed> embeds a plugin or document"),
    ("notes/bad/index.html", "<form action> has a script URL"),
    ("notes/bad/index.html", "<button formaction> has a script URL"),
    ("notes/bad/index.html", "<img srcset> has a script URL"),
    ("notes/bad/index.html", "<a xlink:href> has a script URL"),
    # The payload that closes .tw-content and marks its script as a layout's (issue 11).
    ("notes/bad/index.html", "inline <script> not allowed by the page's Content-Security-Policy"),
    ("notes/bad/index.html",
     "<script src> '/js/site.js' has no integrity matching the site's file"),
    ("notes/bad/index.html", "<script src> 'https://evil.example/x.js' is not a file of this site"),
    ("notes/bad/index.html", "<script src> '/js/missing.js' is not a file of this site"),
    ("notes/late/index.html", "no Content-Security-Policy <meta> as the first element of <head>"),
    ("notes/weak/index.html", "the Content-Security-Policy's script-src allows 'unsafe-inline'"),
    ("notes/weak/index.html", "the Content-Security-Policy's script-src allows https:"),
    ("notes/weak/index.html", "the Content-Security-Policy does not set object-src 'none'"),
    ("notes/weak/index.html", "the Content-Security-Policy does not set base-uri 'none'"),
    ("notes/weak/index.html", "the Content-Security-Policy has no form-action"),
]
# In a copy of the fixture inside a folder of a larger site, the good page's two
# root-relative script URLs no longer name its files: two findings more.
IN_A_COPY = len(PLANTED) + 2
# What the fixture's pages say first in <head>: its policy, allowing the good page's theme
# script by hash (tests below put it before a page of their own).
HEAD = (FIXTURE / "notes" / "good" / "index.html").read_text(encoding="utf-8").split(
    "<title>")[0]


def audit_body(body: str) -> list[str]:
    """The findings for a page with the fixture's head and policy, then `body`."""
    return [f.reason for f in audit.audit_html(HEAD + "</head><body>" + body, "p", FIXTURE)]


def test_every_planted_finding_is_reported_once() -> None:
    found = [(f.page, f.reason) for f in audit.audit_site(FIXTURE)]
    assert len(found) == len(PLANTED)
    for (page, reason), (want_page, want_reason) in zip(found, PLANTED, strict=True):
        assert page == want_page
        assert reason.startswith(want_reason)


def test_clean_page_of_the_fixture_has_no_finding() -> None:
    # Its inline script is allowed by hash, its external ones (absolute, relative, under a
    # sub-path) are the site's file with a matching integrity.
    good = FIXTURE / "notes" / "good" / "index.html"
    assert audit.audit_html(good.read_text(encoding="utf-8"), "notes/good/index.html",
                            FIXTURE) == []


def test_a_layout_script_is_known_by_its_hash_not_by_a_mark() -> None:
    theme = 'document.documentElement.dataset.theme="light"'
    assert audit_body(f"<script>{theme}</script>") == []
    assert audit_body(f"<script>{theme};alert(1)</script>")[0].startswith(
        "inline <script> not allowed by the page's Content-Security-Policy (sha256-")
    assert len(audit_body('<script data-tw-layout>alert(1)</script>')) == 1


def test_a_page_of_the_site_must_carry_the_policy() -> None:
    bare = "<!DOCTYPE html><title>t</title><p>x</p>"
    assert audit.audit_html(bare, "p") == []
    assert [f.reason for f in audit.audit_html(bare, "p", require_policy=True)] == [
        audit.NO_POLICY]
    # Without a policy no inline script is the layouts' own.
    assert [f.reason[:40] for f in audit.audit_html(bare + "<script>x</script>", "p")] == [
        "inline <script> not allowed by the page'"]


def test_the_fooling_payload_is_a_finding() -> None:
    # Issue 11: close .tw-content, then a script marked the way layout scripts once were.
    reasons = audit_body('<div class="tw-content"><p>x</p></div>'
                         '<script data-tw-layout>alert(1)</script>')
    assert reasons == [reasons[0]] and "not allowed by the page's Content-Security-Policy" in \
        reasons[0]


def test_an_external_script_needs_the_sites_file_and_its_integrity(tmp_path: Path) -> None:
    site_js = (FIXTURE / "js" / "site.js").read_bytes()
    good = hashlib.sha384(site_js).digest()
    ok = "sha384-" + base64.b64encode(good).decode()
    assert audit_body(f'<script src="/js/site.js" integrity="{ok}"></script>') == []
    assert audit_body('<script src="/js/site.js"></script>') == [
        "<script src> '/js/site.js' has no integrity matching the site's file"]
    # Without the site's folder no file can be read: a same-site script with an integrity
    # attribute is let through (the browser checks the integrity), a script of another
    # site or one without integrity is not.
    def alone(tag: str) -> list[str]:
        return [f.reason for f in audit.audit_html(HEAD + "</head><body>" + tag, "p")]

    assert alone(f'<script src="/js/site.js" integrity="{ok}"></script>') == []
    assert alone('<script src="/js/site.js"></script>') == [
        "<script src> '/js/site.js' has no integrity matching the site's file"]
    assert alone(f'<script src="//evil.example/x.js" integrity="{ok}"></script>') == [
        "<script src> '//evil.example/x.js' is not a file of this site"]


@pytest.mark.parametrize("url", ["javascript:x", "&#106;avascript:x", "java&#x0A;script:x",
                                 "  JAVASCRIPT:x", "vbscript:x", "data:text/html,x",
                                 "data:image/svg+xml,<svg onload=x>", "java&Tab;script:x"])
def test_obfuscated_script_urls_are_found(url: str) -> None:
    assert [reason.split(" has ")[0] for reason in audit_body(f'<a href="{url}">x</a>')] == [
        "<a href>"]


def test_cli_prints_page_and_reason_and_exits_1(tmp_path: Path) -> None:
    site = tmp_path / "public"
    shutil.copytree(FIXTURE, site)
    proc = subprocess.run([sys.executable, "-m", "twnotes", "audit", str(site)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == "index.html: <body> has an event handler attribute onload"
    assert len(proc.stdout.splitlines()) == len(PLANTED)


def test_worker_processes_report_exactly_what_one_process_does(tmp_path: Path) -> None:
    # Eight copies of the fixture site, so every worker gets pages with findings.
    site = tmp_path / "public"
    for n in range(8):
        shutil.copytree(FIXTURE, site / f"copy{n}")
    serial = list(audit.audit_site(site, jobs=1))
    assert len(serial) == 8 * IN_A_COPY
    assert list(audit.audit_site(site, jobs=2)) == serial
    assert [f.page for f in serial] == sorted(f.page for f in serial)


def test_cli_jobs_option_gives_the_same_output(tmp_path: Path) -> None:
    site = tmp_path / "public"
    for n in range(3):
        shutil.copytree(FIXTURE, site / f"copy{n}")
    outputs = [subprocess.run([sys.executable, "-m", "twnotes", "audit", "-j", jobs, str(site)],
                              capture_output=True, text=True, timeout=60, check=False)
               for jobs in ("1", "2")]
    assert [p.returncode for p in outputs] == [1, 1]
    assert outputs[0].stdout == outputs[1].stdout
    assert len(outputs[0].stdout.splitlines()) == 3 * IN_A_COPY


@pytest.mark.parametrize(("page", "want"), [
    # The HTML standard reopens the <a> (attributes and all) in the second paragraph.
    ('<p><a href="javascript:x">one<p>two', ["<a href>", "<a href>"]),
    # Ancestry is the parsed tree's: the table is closed, the div is not.
    ('<div class="tw-content"><table><tr><td></table><script></script></div>',
     ["inline <script> not allowed", "<script> inside the page content"]),
    ('<div class="x tw-content"><svg><script></script></svg></div>',
     ["inline <script> not allowed", "<script> inside the page content"]),
    ('<div class="tw-content"></div><script></script>', ["inline <script> not allowed"]),
    # Foreign attributes keep their prefix; plain attributes are reported first.
    ('<svg><a xlink:href="javascript:x" onclick="y"></a></svg>',
     ["<a> has an event handler attribute onclick", "<a xlink:href>"]),
    # A second <body> tag adds its attributes to the one body.
    ("<body><p>x<body onload=y>", ["<body> has an event handler attribute onload"]),
    # A policy in the body does not count (a browser ignores it), nor does it add findings.
    ("""<meta http-equiv="Content-Security-Policy" content="script-src *">""", []),
])
def test_findings_follow_the_tree_a_browser_builds(page: str, want: list[str]) -> None:
    reasons = audit_body(page)
    assert len(reasons) == len(want)
    for reason, prefix in zip(reasons, want, strict=True):
        assert reason.startswith(prefix)


NO_SCRIPT_POLICY = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                    'object-src \'none\'; base-uri \'none\'; form-action \'none\'">')
REFRESH = "<meta http-equiv=refresh content=\"0; url={}\">"
CANONICAL = "<link rel=canonical href=\"{}\">"
MOVED = "https://notes.example/notes/twisted/"


def alias_page(head: str, body: str = "") -> list[str]:
    return [f.reason for f in audit.audit_html(
        f"<!DOCTYPE html><html><head>{NO_SCRIPT_POLICY}{head}</head><body>{body}</body></html>",
        "old/index.html", require_policy=True)]


def test_the_alias_page_of_the_layouts_audits_clean() -> None:
    # What layouts/alias.html writes at a front-matter alias: a refresh to its canonical.
    assert alias_page(CANONICAL.format(MOVED) + REFRESH.format(MOVED)) == []
    assert alias_page(CANONICAL.format(MOVED)
                      + f"<meta http-equiv=Refresh content=\"0;URL='{MOVED}'\">") == []


@pytest.mark.parametrize(("head", "body"), [
    # Anywhere but the page's own canonical address.
    (CANONICAL.format(MOVED) + REFRESH.format("https://evil.example/"), ""),
    (REFRESH.format(MOVED), ""),
    # In the body, where a note's HTML lands, even to the canonical address.
    (CANONICAL.format(MOVED), REFRESH.format(MOVED)),
    # A script URL, even when the canonical link says the same.
    (CANONICAL.format("javascript:alert(1)") + REFRESH.format("javascript:alert(1)"), ""),
])
def test_any_other_refresh_is_a_finding(head: str, body: str) -> None:
    assert "<meta http-equiv=refresh> redirects the page" in alias_page(head, body)


def test_cli_without_a_site_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "twnotes", "audit", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "no built site" in proc.stderr


@pytest.mark.parametrize("kind", ["empty", "no html"])
def test_cli_on_a_folder_without_pages_exits_2(tmp_path: Path, kind: str) -> None:
    site = tmp_path / "public"
    site.mkdir()
    if kind == "no html":
        (site / "style.css").write_text("p{}", encoding="utf-8")
        (site / "sub").mkdir()
    proc = subprocess.run([sys.executable, "-m", "twnotes", "audit", str(site)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"{site}: no HTML pages here, nothing to audit (run hugo first)"]


def test_the_built_site_audits_clean(built_site: BuiltSite) -> None:
    assert [str(f) for f in audit.audit_site(built_site.public)] == []
    assert list(built_site.public.rglob("*.html")), "the audit must have pages to look at"


def test_the_built_site_has_layout_scripts_to_tell_apart(built_site: BuiltSite) -> None:
    # Guards the convention: the note page has an inline and an external layout script,
    # and the audit finds a changed copy of either.
    note = (built_site.public / "notes" / "twisted" / "index.html").read_text(encoding="utf-8")
    page = "notes/twisted/index.html"
    assert audit.audit_html(note, page, built_site.public) == []
    inline = note.replace("<script>(function(){", "<script>(function(){alert(1);", 1)
    external = re.sub(r'(<script src="[^"]+" integrity=")(sha(?:256|384|512))-[^"]+', r"\1\2-AAAA",
                      note, count=1)
    for changed in (inline, external):
        assert changed != note
        assert len(audit.audit_html(changed, page, built_site.public)) == 1

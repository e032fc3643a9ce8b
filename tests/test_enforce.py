"""`twnotes enforce`: every note region of the built site is cleaned again, delimiters go.

Pages written by hand (the delimiter grammar, the comparison with the clean form), a copy
of the site with a hostile note built unsanitised, and the real site built as `make build`
builds it.
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, BuiltSite, build_site, copy_site_sources, hugo_binary
from twnotes import audit, enforce

TOKEN = "0123456789abcdef" * 2


def mark(kind: str, token: str = TOKEN) -> str:
    return f"<!--#tw:{token}:{kind}-->"


def region(html: str, kind: str = "block") -> str:
    return mark(kind) + html + mark("/" + kind)


def page(body: str) -> str:
    head = "<!DOCTYPE html><html><head><title>t</title></head>"
    return f"{head}<body>{mark('page')}{body}</body></html>"


def enforce_body(body: str, *, xml: bool = False) -> tuple[str, list[str]]:
    out, changes = enforce.enforce_text(page(body), TOKEN, "p.html", xml=xml)
    return out, [change.what for change in changes]


def expected(body: str) -> str:
    return page(body).replace(mark("page"), "")


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize("html", [
    "<p>干净的段落，<a href=\"https://example.com/\" rel=\"noopener noreferrer\">链接</a></p>",
    # The minifier's spellings of clean HTML: unquoted values, a bare &, end tags and
    # <tbody> left out (the tree is the same, and nothing is left open at the end).
    "<p>a & b <a href=/notes/x/>x</a></p><p title=x>二</p>",
    "<ul><li>一<li>二</ul><table><tr><td>&</table>",
    "",
])
def test_a_clean_region_stays_byte_for_byte(html: str) -> None:
    out, changes = enforce_body(f'<div class="tw-content">{region(html)}</div>')
    assert changes == []
    assert out == expected(f'<div class="tw-content">{html}</div>')


@pytest.mark.parametrize(("html", "removed"), [
    ("<p>x</p><script>alert(1)</script>", "<script>"),
    ('<p><img src="x" onerror="alert(1)"></p>', '<img onerror="alert(1)">'),
    ('<a href="javascript:alert(1)">x</a>', '<a href="javascript:alert(1)">'),
    # A comment left open would swallow the layout's markup after the region.
    ("<p>x</p><!--", "a comment"),
])
def test_what_the_policy_removes_is_cleaned_and_reported(html: str, removed: str) -> None:
    out, changes = enforce_body(f"<div>{region(html)}</div><footer>layout</footer>")
    assert len(changes) == 1 and removed in changes[0], changes
    assert changes[0].startswith("removed ")
    assert "alert" not in out and "<!--" not in out.replace("<!DOCTYPE", "")
    assert out.endswith("</div><footer>layout</footer></body></html>")


def test_a_tag_cut_off_at_the_end_of_a_region_is_a_change() -> None:
    # html5lib drops a tag that the fragment ends inside of, so the fragment and its clean
    # form build the same tree; on the page the next bytes would complete the tag.
    out, changes = enforce_body(f"<div>{region('<p>x</p><img src=x onerror=alert(1) ')}</div>")
    assert changes, "the cut-off tag must not pass as clean"
    assert "onerror" not in out


def test_an_element_left_open_is_a_change() -> None:
    out, changes = enforce_body(f"<div>{region('<p>x<b>bold')}</div><p>layout</p>")
    assert changes
    assert "<b>bold</b>" in out


def test_layout_islands_stay_and_their_note_regions_are_cleaned() -> None:
    heading = (mark("layout") + '<h2 id="x" class="kept">' +
               region("标题<img src=x onerror=alert(1)>", "inline") +
               '<a class="tw-anchor" href="#x">#</a></h2>' + mark("/layout"))
    out, changes = enforce_body(f"<div>{region('<p>一</p>' + heading + '<p>二</p>')}</div>")
    assert changes == ['removed <img onerror="alert(1)">']
    assert ('<p>一</p><h2 id="x" class="kept">标题<img src="x"><a class="tw-anchor" '
            'href="#x">#</a></h2><p>二</p>') in out


def test_an_island_a_note_swallows_is_reported() -> None:
    island = mark("layout") + '<div class="tw-code">code</div>' + mark("/layout")
    out, changes = enforce_body(f"<div>{region('<textarea>' + island + '</textarea>')}</div>")
    assert len(changes) == 1 and "<textarea>" in changes[0] and "swallowed" in changes[0]
    assert "tw-code" not in out


def test_a_feed_region_is_html_escaped_as_xml_text() -> None:
    clean = region("a &amp;lt;b&amp;gt; &amp;amp; c")
    out, changes = enforce_body(f"<description>{clean}</description>", xml=True)
    assert changes == [] and "<description>a &amp;lt;b&amp;gt; &amp;amp; c</description>" in out
    hostile = region("x &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;y&lt;/b&gt;")
    out, changes = enforce_body(f"<description>{hostile}</description>", xml=True)
    assert changes == ["removed <script>"]
    assert "<description>x  &lt;b&gt;y&lt;/b&gt;</description>" in out


def test_an_inline_region_is_cleaned_as_inline_html() -> None:
    out, changes = enforce_body(f"<p>{region('一<div>二</div>', 'inline')}</p>")
    assert changes == ["removed <div>"]
    assert "<p>一二</p>" in out


def test_a_delimiter_of_another_token_is_no_delimiter() -> None:
    forged = mark("/block", "f" * 32) + "<script>alert(1)</script>" + mark("block", "f" * 32)
    out, changes = enforce_body(f"<div>{region('<p>x</p>' + forged)}</div>")
    assert changes and "<script>" in changes[0]
    assert "alert" not in out and "ffff" not in out


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize(("text", "reason"), [
    ("<p>no delimiter at all</p>", "no page delimiter"),
    (mark("page") + mark("page"), "page delimiter repeated"),
    (mark("page") + mark("block") + "<p>x</p>", "block region never closed"),
    (mark("page") + "<p>x</p>" + mark("/block"), "block region closed but never opened"),
    (mark("page") + mark("block") + mark("/inline"), "inline delimiter closes the block region"),
    (mark("page") + mark("block") + mark("inline") + mark("/inline") + mark("/block"),
     "inline region opened inside a block region"),
    (mark("page") + mark("layout") + mark("layout"), "layout region opened inside a layout"),
])
def test_a_bad_delimiter_is_an_error_naming_the_page(text: str, reason: str) -> None:
    with pytest.raises(enforce.DelimiterError) as caught:
        enforce.enforce_text(text, TOKEN, "notes/x/index.html")
    assert str(caught.value).startswith(f"notes/x/index.html: {reason}")


# --------------------------------------------------------------------------- the command


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for name, text in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run_enforce(site: Path, *args: str, token: str | None = TOKEN,
                ) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != enforce.TOKEN_ENV}
    if token is not None:
        env[enforce.TOKEN_ENV] = token
    return subprocess.run([sys.executable, "-m", "twnotes", "enforce", *args, str(site)],
                          capture_output=True, text=True, timeout=120, check=False, env=env)


def test_cli_cleans_reports_page_and_what_and_exits_1(tmp_path: Path) -> None:
    site = write_site(tmp_path / "public", {
        "index.html": page(f"<div>{region('<p>ok</p>')}</div>"),
        "notes/x/index.html": page(f"<div>{region('<p>x</p><script>alert(1)</script>')}</div>"),
    })
    proc = run_enforce(site)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == ["notes/x/index.html: removed <script>"]
    cleaned = (site / "notes/x/index.html").read_text(encoding="utf-8")
    assert "<script>" not in cleaned and "<!--#tw:" not in cleaned
    assert (site / "index.html").read_text(encoding="utf-8") == expected(
        "<div><p>ok</p></div>")


@pytest.mark.parametrize(("body", "reason"), [
    ("<p>x</p>", "no page delimiter"),
    (f"{mark('page')}<div>{region('<p>x</p>')}</div>", "page delimiter repeated"),
    (f"<div>{mark('block')}<p>x</p></div>", "block region never closed"),
])
def test_cli_exits_2_naming_the_page_and_leaves_it_as_it_was(tmp_path: Path, body: str,
                                                            reason: str) -> None:
    site = write_site(tmp_path / "public", {"index.html": page("<p>ok</p>"),
                                            "notes/x/index.html": page(body)})
    if reason == "no page delimiter":
        (site / "notes/x/index.html").write_text(f"<p>{body}</p>", encoding="utf-8")
    before = (site / "notes/x/index.html").read_bytes()
    proc = run_enforce(site, "--token", TOKEN, token=None)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].startswith(f"notes/x/index.html: {reason}")
    assert (site / "notes/x/index.html").read_bytes() == before


def test_cli_without_a_token_or_a_site_exits_2(tmp_path: Path) -> None:
    site = write_site(tmp_path / "public", {"index.html": page("")})
    proc = run_enforce(site, token=None)
    assert proc.returncode == 2 and enforce.TOKEN_ENV in proc.stderr
    proc = run_enforce(site, token="not-hex")
    assert proc.returncode == 2 and enforce.TOKEN_ENV in proc.stderr
    proc = run_enforce(tmp_path / "none")
    assert proc.returncode == 2 and "no built site" in proc.stderr


def test_a_sitemap_without_delimiters_is_left_alone(tmp_path: Path) -> None:
    sitemap = '<?xml version="1.0"?><urlset><url><loc>/x/</loc></url></urlset>'
    site = write_site(tmp_path / "public", {"index.html": page(""), "sitemap.xml": sitemap})
    assert run_enforce(site).returncode == 0
    assert (site / "sitemap.xml").read_text(encoding="utf-8") == sitemap


def test_a_page_is_written_whole_or_not_at_all(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site(tmp_path / "public", {"index.html": page(region("<p>x</p>"))})
    path = site / "index.html"
    path.chmod(0o640)
    before = path.read_bytes()

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        enforce.enforce_file(site, TOKEN, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in site.iterdir()) == ["index.html"], "no temp file is left"
    monkeypatch.undo()
    assert enforce.enforce_file(site, TOKEN, path).changes == ()
    assert path.read_text(encoding="utf-8") == expected("<p>x</p>")
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]


def test_workers_give_what_one_process_gives(tmp_path: Path) -> None:
    pages = {f"n{n}/index.html": page(region(f"<p>{n}</p><script>{n}</script>"))
             for n in range(12)}
    serial = list(enforce.enforce_site(write_site(tmp_path / "a", pages), TOKEN, jobs=1))
    parallel = list(enforce.enforce_site(write_site(tmp_path / "b", pages), TOKEN, jobs=2))
    assert serial == parallel and len(serial) == 12
    assert all(outcome.changes for outcome in serial)


# --------------------------------------------------------------------------- built sites


HOSTILE = """+++
title = "敌意笔记"
date = 2026-01-01
aliases = ["/old/hostile/"]
+++

原始 HTML，本该由 twnotes sanitize 修好，这里故意不经清理就构建：

<img src="x" onerror="alert(1)">

<p>段落 <a href="javascript:alert(2)">链接</a></p>

<script>alert(3)</script>

## 标题 <b onclick="alert(4)">粗</b>

{{< supplement >}}补充里的 <img src=x onerror=alert(5)> 也算。{{< /supplement >}}

结束。
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    work = tmp_path_factory.mktemp("hostile")
    source = copy_site_sources(work / "src")
    (source / "content" / "notes" / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    return build_site(work / "public", source=source, enforce=True)


def test_enforce_cleans_a_hostile_note_built_unsanitised(hostile_site: BuiltSite) -> None:
    assert hostile_site.enforce_code == 1, hostile_site.enforce_log
    lines = [line for line in hostile_site.enforce_log.splitlines()
             if line.startswith("notes/hostile/index.html: removed ")]
    reported = " ".join(lines)
    for what in ("<script>", 'onerror="alert(1)"', 'href="javascript:alert(2)"',
                 'onclick="alert(4)"', 'onerror="alert(5)"'):
        assert what in reported, hostile_site.enforce_log
    html = hostile_site.page("notes/hostile/")
    assert "alert(" not in html
    assert "<!--#tw:" not in html
    for kept in ("原始 HTML", "段落", "链接", "粗", "补充里的", "结束。"):
        assert kept in html


def test_an_alias_page_is_built_delimited_and_sends_the_reader_on(
        hostile_site: BuiltSite) -> None:
    # Hugo writes a page at each front-matter alias; layouts/alias.html gives it what
    # every page carries (the policy first, the page delimiter), so enforce takes it.
    assert "old/hostile/index.html" not in hostile_site.enforce_log
    html = hostile_site.page("old/hostile/")
    target = re.search(r'<link rel="?canonical"? href="?([^" >]+)', html)
    assert target is not None, html
    assert target[1].endswith("/notes/hostile/")
    assert f'content="0; url={target[1]}"' in html
    assert re.match(r'<!doctype html><html lang="?zh-CN"?><head><meta http-equiv="?'
                    r'Content-Security-Policy"? ', html), html
    assert "本页已移至" in html and "<!--#tw:" not in html


def test_what_enforce_leaves_passes_the_audit(hostile_site: BuiltSite) -> None:
    assert [str(f) for f in audit.audit_site(hostile_site.public)] == []


def test_the_built_site_needs_no_cleaning(built_site: BuiltSite) -> None:
    # The source sanitiser's job is done when enforce finds nothing (make test fails else).
    assert (built_site.enforce_code, built_site.enforce_log) == (0, "")


def test_no_delimiter_or_token_is_left_on_the_built_site(built_site: BuiltSite) -> None:
    files = [p for p in built_site.public.rglob("*") if p.suffix in (".html", ".xml")]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "<!--#tw:" not in text and built_site.token not in text, path


@pytest.fixture(scope="module")
def unenforced_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("unenforced") / "public", delimit=True)


def test_the_layouts_delimit_every_kind_of_region(unenforced_site: BuiltSite) -> None:
    note = unenforced_site.page("notes/twisted/")
    counts = {kind: note.count(mark(kind, unenforced_site.token))
              for kind in ("page", "block", "/block", "inline", "/inline", "layout", "/layout")}
    assert counts["page"] == 1
    # The content, the TOC and each supplement are block regions; headings inline ones;
    # headings, code blocks and shortcodes layout islands.
    assert counts["block"] == counts["/block"] >= 3
    assert counts["inline"] == counts["/inline"] >= 3
    assert counts["layout"] == counts["/layout"] >= 3
    feed = (unenforced_site.public / "index.xml").read_text(encoding="utf-8")
    assert feed.count(mark("page", unenforced_site.token)) == 1
    assert feed.count(mark("block", unenforced_site.token)) == feed.count("<description>")
    listing = unenforced_site.page("notes/")
    assert mark("inline", unenforced_site.token) in listing  # each page's description


def test_an_enforced_site_is_byte_identical_to_one_built_without_a_token(
        tmp_path: Path, unenforced_site: BuiltSite) -> None:
    # Nothing but the delimiters goes, and without a token (hugo server, a plain hugo
    # build) the layouts emit none, with no WARN either.
    enforced = tmp_path / "enforced"
    subprocess.run(["cp", "-r", str(unenforced_site.public), str(enforced)], check=True)
    proc = run_enforce(enforced, token=unenforced_site.token)
    assert (proc.returncode, proc.stdout) == (0, "")
    env = {k: v for k, v in os.environ.items() if k != enforce.TOKEN_ENV}
    plain = tmp_path / "plain"
    hugo = subprocess.run(
        [str(hugo_binary()), "--source", str(ROOT),
         "--destination", str(plain), "--minify", "--logLevel", "warn",
         "--cacheDir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, check=False,
        env={**env, "HUGO_ENABLEGITINFO": "true"})
    assert hugo.returncode == 0, hugo.stderr
    assert not re.search(r"\b(WARN|ERROR)\b", hugo.stdout + hugo.stderr)
    assert _differences(filecmp.dircmp(enforced, plain)) == []


def _differences(cmp: filecmp.dircmp[str]) -> list[str]:
    found = [f"{cmp.left}/{name}" for name in cmp.diff_files + cmp.left_only + cmp.right_only]
    for sub in cmp.subdirs.values():
        found += _differences(sub)
    return found


# The layouts' constructs that print a note's HTML, and where each may stand.
NOTE_HTML = re.compile(r"\.Content\b|\.TableOfContents\b|\.Summary\b|RenderString|\.Text\b"
                       r"|markdownify|\.Inner\b")
# (file, line fragment): why that use needs no region.
NOT_PRINTED = {
    ("_partials/reading-time.html", "range split .Content"): "counts characters, prints a number",
    ("_partials/css.html", "(resources.Get .).Content"): "the site's own stylesheets (resources)",
    ("_partials/head.html", 'strings.Contains .Content "tw-alert"'): "a test, prints nothing",
    ("_partials/description.html", ".Summary | plainify"): "plain text, escaped by truncate",
    ("_shortcodes/supplement.html", ".Inner | strings.TrimSpace"): "rendered in a region below",
    ("_markup/render-codeblock.html", ".Inner"): "highlighted (escaped) code",
    ("search.html", 'T "searchMissing" | markdownify'): "the site's own i18n string",
    ("_partials/toc.html", "$list := .TableOfContents"): "printed in a region below",
    ("_partials/theme-init.html", "$js.Content"): "the layout's own script (a resource)",
    # A link or image is no island: its markup is inside the policy, so it stays part of
    # the note's region, cleaned with it.
    ("_markup/render-link.html", "{{ .Text }}"): "inside the region it is rendered in",
    ("_markup/render-link.html", "{{- .Text -}}"): "inside the region it is rendered in",
    # A plain blockquote is printed as goldmark prints it, part of the note's region.
    ("_markup/render-blockquote.html", "{{ .Text }}</blockquote>"): "inside its region",
    ("_markup/render-blockquote.html", "$text := .Text"): "an alert's: printed in a region below",
}


def test_every_layout_prints_note_html_inside_a_region() -> None:
    unmarked: list[str] = []
    for path in sorted((ROOT / "layouts").rglob("*.*")):
        rel = path.relative_to(ROOT / "layouts").as_posix()
        # Template comments go, their lines stay (the line numbers are the file's).
        text = re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", lambda c: "\n" * c.group().count("\n"),
                      path.read_text(encoding="utf-8"), flags=re.S)
        for number, line in enumerate(text.splitlines(), 1):
            if not NOTE_HTML.search(line) or "region.html" in line:
                continue
            if any(rel == file and part in line for file, part in NOT_PRINTED):
                continue
            unmarked.append(f"layouts/{rel}:{number}: {line.strip()}")
    assert unmarked == []

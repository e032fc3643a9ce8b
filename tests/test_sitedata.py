"""data/twnotes.json, what the templates read of the policy, is what twnotes.policy says now."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT
from twnotes import policy, sitedata


def test_the_committed_file_is_up_to_date() -> None:
    committed = (ROOT / sitedata.PATH).read_text(encoding="utf-8")
    assert committed == sitedata.render(), "run: python -m twnotes.sitedata"


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    assert sitedata.main(["--check"]) == 1  # missing
    (tmp_path / "data").mkdir()
    (tmp_path / sitedata.PATH).write_text('{"id_prefix": "x-"}\n', encoding="utf-8")
    assert sitedata.main(["--check"]) == 1
    assert sitedata.main([]) == 0
    assert sitedata.main(["--check"]) == 0
    assert json.loads((tmp_path / sitedata.PATH).read_text())["id_prefix"] == "user-content-"


def test_the_go_patterns_mean_what_the_python_ones_do() -> None:
    # RE2's \x{…} and Python's \U…: the same characters, checked over the first planes.
    url = sitedata.site_data()["url"]
    for key, ranges in (("invisible", policy.INVISIBLE_RANGES),
                        ("controls", policy.CONTROL_RANGES)):
        python_class = re.compile(re.sub(r"\\x\{([0-9a-f]+)\}",
                                         lambda m: f"\\U{int(m.group(1), 16):08x}", url[key]))
        inside = {chr(p) for lo, hi in ranges for p in range(lo, hi + 1)}
        for point in range(0x3000):
            assert bool(python_class.fullmatch(chr(point))) == (chr(point) in inside), (
                key, hex(point))


def test_every_template_reads_the_file_rather_than_a_copy() -> None:
    layouts = [p for p in (ROOT / "layouts").rglob("*.html")]
    text = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in layouts}
    for name, body in text.items():
        code = re.sub(r"\{\{-? */\*.*?\*/ *-?\}\}", "", body, flags=re.DOTALL)  # comments
        assert policy.EXTERNAL_REL not in code, name
        assert policy.ID_PREFIX not in code, name
        assert '"python" "py"' not in code, name
    assert "hugo.Data.twnotes.url" in text["layouts/_partials/url-is-safe.html"]


def test_the_fast_path_tables_follow_the_policy() -> None:
    from twnotes.sanitize import fast, html5

    # Derived, not copied: the formatting elements among the allowed inline tags, and every
    # allowed table tag is one the fast path's table rules know.
    assert {"a", "b", "code", "em", "i", "s", "small", "strong", "u"} == fast._FORMATTING
    assert fast._FORMATTING <= policy.INLINE_TAGS
    table_tags = {"table", "caption", "colgroup", "col", "tbody", "thead", "tfoot", "tr",
                  "td", "th"}
    assert policy.BLOCK_TAGS & table_tags <= set(fast._TABLE_CHILDREN) | fast._TABLE_PARTS
    assert {"br", "col", "hr", "img", "wbr"} == policy.BLOCK_TAGS & html5.VOID

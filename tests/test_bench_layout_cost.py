"""The layout-cost row of `make bench`: the bare variant of a generated site builds the same
pages with page templates that print `.Content` only, and the row compares the two builds."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT, build_site

sys.path.insert(0, str(ROOT))  # bench/ is a folder of the repository, not an installed package
from bench import generate, layout_cost, measure, stages


def test_bare_layouts_build_the_same_pages_with_the_content_only(tmp_path: Path) -> None:
    site = generate.write_site(tmp_path / "ours", 3)
    bare = generate.write_site(tmp_path / "bare", 3)
    layout_cost.bare_layouts(bare)
    ours_built = build_site(tmp_path / "public-ours", source=site)
    bare_built = build_site(tmp_path / "public-bare", source=bare)
    assert "WARN" not in bare_built.log and "ERROR" not in bare_built.log, bare_built.log
    url = "notes/note-00002/"
    ours_page, bare_page = ours_built.page(url), bare_built.page(url)
    for text in ("基准笔记 2", "<table>", 'class="highlight"'):  # title, raw HTML, a code block
        assert text in ours_page and text in bare_page, text
    assert "tw-sidebar" in ours_page and "tw-sidebar" not in bare_page
    assert "tw-pager" in ours_page and "tw-header" not in bare_page
    assert not (bare / "layouts" / "home.html").exists()
    assert (bare / "layouts" / "_markup" / "render-codeblock.html").exists()  # hooks stay


def test_the_bench_row_compares_wall_and_cpu_time() -> None:
    def timing(wall: float, cpu: float) -> measure.Timing:
        return measure.Timing(1, wall, 0, 0, (wall,), cpu)

    cost = layout_cost.Cost(1000, timing(3.0, 6.0), timing(2.0, 5.0))
    assert cost.ratio == 1.5 and cost.cpu_ratio == 1.2
    assert cost.per_page_ms(cost.ours) == 3.0
    row = layout_cost.table([cost]).splitlines()[-1]
    assert row.startswith("| 1,000 | 3.00 | 2.00 | 1.50 | 1.20 (6.0 s against 5.0 s) |")
    assert any(s.key == "hugo_bare" for s in stages.STAGES)

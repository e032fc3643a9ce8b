"""What the site's layouts cost Hugo: the same generated pages built twice, same run.

    .venv/bin/python -m bench.layout_cost [--sizes 1000,10000] [--repeats 1]

Once with the site's layouts, once with a bare skeleton: a baseof that prints the title
and the main block, single and list templates that print `.Content` only (the render
hooks, shortcodes and partials stay, so the content itself renders the same way in both;
only the page templates around it differ). The ratio ours / bare is the layouts' cost; the
time per page at each size says whether that cost stays flat as the site grows.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench import generate, measure, stages

# The page templates of layouts/ that the bare variant replaces (everything else stays).
PAGE_TEMPLATES: Final = ("baseof.html", "single.html", "list.html", "home.html",
                         "search.html", "404.html", "rss.xml", "taxonomy.html", "term.html")
BARE: Final = {
    "baseof.html": ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head><meta charset="utf-8">'
                    "<title>{{ .Title }}</title></head>\n"
                    '<body>{{ block "main" . }}{{ end }}</body>\n</html>\n'),
    "single.html": '{{ define "main" }}{{ .Content }}{{ end }}\n',
    "list.html": '{{ define "main" }}{{ .Content }}{{ end }}\n',
}
TARGET: Final = 1.5


@dataclasses.dataclass(frozen=True)
class Cost:
    size: int
    ours: measure.Timing
    bare: measure.Timing

    @property
    def ratio(self) -> float:
        return self.ours.wall / self.bare.wall

    @property
    def cpu_ratio(self) -> float:
        return self.ours.cpu / self.bare.cpu if self.bare.cpu else float("nan")

    def per_page_ms(self, timing: measure.Timing) -> float:
        return 1000 * timing.wall / self.size


def bare_layouts(site: Path) -> None:
    """Swap the page templates of `site` for the bare skeleton (in place)."""
    layouts = site / "layouts"
    for name in PAGE_TEMPLATES:
        (layouts / name).unlink(missing_ok=True)
    for name, text in BARE.items():
        (layouts / name).write_text(text, encoding="utf-8")


def measure_size(work: Path, count: int, repeats: int,
                 log: Callable[[str], None]) -> Cost:
    """Generate `count` pages once, build them with both layouts, `repeats` times each.

    The builds alternate (ours, bare, then bare, ours, ...), so that a change in the load of
    a shared machine falls on both sides rather than on whichever ran second.
    """
    ours_site = generate.write_site(work / "ours", count)
    bare_site = work / "bare"
    shutil.copytree(ours_site, bare_site)
    bare_layouts(bare_site)
    token = secrets.token_hex(16)
    sites = {"ours": ours_site, "bare": bare_site}
    samples: dict[str, list[measure.Sample]] = {"ours": [], "bare": []}
    for turn in range(repeats):
        for name in ("ours", "bare") if turn % 2 == 0 else ("bare", "ours"):
            site, public = sites[name], work / f"public-{name}"
            shutil.rmtree(public, ignore_errors=True)
            shutil.rmtree(site / "resources", ignore_errors=True)
            env = {**os.environ, "HUGO_ENABLEGITINFO": "false", "HUGO_TW_REGION_TOKEN": token,
                   "HUGO_CACHEDIR": str(work / f"hugo-cache-{name}")}
            log(f"  N={count}: hugo, {name} layouts, run {turn + 1} of {repeats}")
            sample = measure.run([stages.hugo_binary(), "--minify", "--gc", "--logLevel", "warn",
                                  "--destination", str(public)], cwd=site, env=env)
            stages.no_warnings(sample)
            samples[name].append(sample)
            log(f"    {sample.wall:.2f} s")
    return Cost(count, measure.Timing.of(samples["ours"]), measure.Timing.of(samples["bare"]))


def table(costs: list[Cost]) -> str:
    """The figures as a Markdown table: wall and CPU time (user + system) of each build."""
    rows = ["| N | ours, wall (s) | bare, wall (s) | ours / bare, wall | ours / bare, CPU "
            "| ours per page (ms) | bare per page (ms) |", "|---|---|---|---|---|---|---|"]
    rows += [f"| {c.size:,} | {c.ours.wall:.2f} | {c.bare.wall:.2f} | {c.ratio:.2f} | "
             f"{c.cpu_ratio:.2f} ({c.ours.cpu:.1f} s against {c.bare.cpu:.1f} s) | "
             f"{c.per_page_ms(c.ours):.2f} | {c.per_page_ms(c.bare):.2f} |" for c in costs]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.layout_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    costs = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"layout-cost-{size}-") as tmp:
            costs.append(measure_size(Path(tmp), size, args.repeats, log))
    print(f"load average after: {measure.load_average()}")
    print(table(costs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""BENCHMARKS.md and its chart, from one run's figures (no third-party plotting)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Final

from bench.measure import Timing
from bench.peers import Throughput, Weight
from bench.stages import STAGES

MB: Final = 1024 * 1024
COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclasses.dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    target: str  # e.g. "<= 0.10"
    passed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class Run:
    command: str
    started: str
    minutes: float
    machine: Mapping[str, str]
    versions: Mapping[str, str]
    load_before: str
    load_after: str
    snippets_per_page: int
    stages: Mapping[int, Mapping[str, Timing]]  # N -> stage key -> timing
    ratios: Sequence[Ratio]
    cleaning: Sequence[tuple[str, Sequence[Throughput]]]  # (fragment set, results)
    cleaning_fragments: int
    snippet_count: int
    snippet_ratio: Mapping[str, Mapping[str, float | None]]
    weights: Sequence[Weight]
    notes: str  # hand-written findings, included verbatim


def to_json(run: Run) -> dict[str, Any]:
    """The run's figures, so BENCHMARKS.md can be written again without measuring again."""
    return dataclasses.asdict(run)


def from_json(data: dict[str, Any]) -> Run:
    fields = dict(data)
    fields["stages"] = {int(n): {k: Timing(**{**t, "walls": tuple(t["walls"])})
                                 for k, t in by_stage.items()}
                        for n, by_stage in data["stages"].items()}
    fields["ratios"] = [Ratio(**r) for r in data["ratios"]]
    fields["cleaning"] = [(label, [Throughput(**t) for t in results])
                          for label, results in data["cleaning"]]
    fields["weights"] = [Weight(**w) for w in data["weights"]]
    return Run(**fields)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _mb(size: int) -> str:
    return f"{size / MB:.0f}"


def _kb(size: int) -> str:
    return f"{size / 1024:.1f}"


def markdown(run: Run, chart: str) -> str:
    sizes = sorted(run.stages)
    out = [
        "# 性能基准 (benchmarks)",
        "",
        f"Written by `{run.command}` on {run.started} ({run.minutes:.1f} min); do not edit by "
        "hand, run it again. Synthetic pages like the note (bench/generate.py): Chinese prose, "
        "a stray `<li>`, a table with a bare `&`, an inline link, and "
        f"{run.snippets_per_page} Python fence(s) per page importing Twisted, with an "
        "expected ```output fence. Every page is flagged by the sanitiser and every snippet "
        "passes; a stage that fails or prints a warning stops the benchmark.",
        "",
        "Wall time is the median of the runs shown; memory is the largest seen. "
        "**max RSS** is the peak resident set of the largest single process of the stage's "
        "tree (wait4 rusage, as `/usr/bin/time -v` reports); **tree RSS** is the peak of the "
        "summed resident sets of all live processes of the tree, sampled every 20 ms from "
        "/proc (it matters for the parallel stages: sanitize workers, snippet fork servers).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in run.machine.items()),
        f"| load average (1/5/15 min) before | {run.load_before} |",
        f"| load average after | {run.load_after} |",
        "",
        "| version | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in run.versions.items()),
        "",
        "## Targets",
        "",
        "| ratio | measured | target | |",
        "|---|---|---|---|",
        *(f"| {r.name} | {r.value:.3g} | {r.target} | {'pass' if r.passed else '**miss**'} "
          f"({r.detail}) |" for r in run.ratios),
        "",
        "## Per-page cost as N grows",
        "",
        f"![per-page cost of each stage against N, log-log]({chart})",
        "",
        "| stage (ms per page) | " + " | ".join(f"N = {n:,}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for stage in STAGES:
        cells = [(_ms(run.stages[n][stage.key].wall / n) if stage.key in run.stages[n] else "")
                 for n in sizes]
        out.append(f"| {stage.title} | " + " | ".join(cells) + " |")
    out += ["", "## Stages", ""]
    for stage in STAGES:
        out += [f"### {stage.title}", "", f"`{stage.what}`", "",
                "| N | runs | wall s (median) | ms / page | max RSS MB | tree RSS MB "
                "| all runs s |",
                "|---:|---:|---:|---:|---:|---:|---|"]
        for n in sizes:
            t = run.stages[n].get(stage.key)
            if t is None:
                continue
            out.append(f"| {n:,} | {t.runs} | {t.wall:.2f} | {_ms(t.wall / n)} | "
                       f"{_mb(t.max_rss)} | {_mb(t.tree_rss)} | "
                       + ", ".join(f"{w:.2f}" for w in t.walls) + " |")
        out.append("")
    out += ["## Snippet runs, side by side", "",
            "bench/snippets_bench.py: one page of trivial snippets per row, each with its "
            "expected output; (a) `defer` imports twisted.internet.defer, (b) `six` imports "
            "six Twisted modules (mail.smtp, names.client, trial.unittest, web.template, "
            "words.protocols.irc, spread.pb), (c) `plain` imports nothing. twnotes runs each "
            "snippet in its own process; pytest-markdown-docs 0.9.2 `exec`s every fence in "
            "the pytest process (no isolation); baseline is one `python -c` per snippet. "
            "Wall: medians of 3 runs; tree RSS: the largest seen.", "",
            "| row | snippets | twnotes cold s | twnotes warm s | pytest-markdown-docs s | "
            "cold / peer | baseline s | cold / baseline | twnotes tree RSS MB | "
            "peer tree RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def cell(value: object, spec: str) -> str:
        return "–" if value is None else format(value, spec)

    for kind, row in run.snippet_ratio.items():
        out.append(f"| {kind} | {cell(row.get('count'), 'd')} | {row['cold_s']:.2f} | "
                   f"{row['warm_s']:.2f} | {cell(row.get('peer_s'), '.2f')} | "
                   f"{cell(row.get('peer_ratio'), '.2f')} | {cell(row.get('baseline_s'), '.2f')}"
                   f" | {cell(row.get('ratio'), '.3f')} | "
                   f"{cell(row.get('cold_tree_rss_mb'), '.0f')} | "
                   f"{cell(row.get('peer_tree_rss_mb'), '.0f')} |")
    out += ["", "## Cleaning throughput, in process", "",
            f"The raw HTML of {run.cleaning_fragments} generated pages (html blocks whole, "
            "inline HTML from its first tag to its last), each cleaner given the allow-list "
            "of `twnotes.policy`; `clean_fragment_uncached` (the cleaning without the cache).", "",
            "| fragments | cleaner | fragments / s | MB / s | vs bleach |",
            "|---|---|---:|---:|---:|"]
    for label, results in run.cleaning:
        bleach = next(t.per_second for t in results if t.name == "bleach.clean")
        for r in results:
            out.append(f"| {label} | {r.name} | {r.per_second:,.0f} | {r.mb_per_second:.2f} | "
                       f"{r.per_second / bleach:.2f} |")
    out += ["", "## Page weight", "",
            "The real site built with `hugo --minify` into a temp dir; a first visit: the HTML "
            "and every stylesheet, script and icon it loads (gzip level 6).", "",
            "| page | requests | raw KB | gzip KB | JS raw KB | JS gzip KB |",
            "|---|---:|---:|---:|---:|---:|"]
    for w in run.weights:
        out.append(f"| {w.page} | {w.requests} | {_kb(w.raw)} | {_kb(w.gzip)} | "
                   f"{_kb(w.js_raw)} | {_kb(w.js_gzip)} |")
    out += ["", run.notes.strip(), ""]
    return "\n".join(out)


def chart(stages: Mapping[int, Mapping[str, Timing]]) -> str:
    """An SVG line chart, ms per page against N, both axes log10."""
    width, height, left, right, top, bottom = 860, 440, 70, 300, 20, 50
    sizes = sorted(stages)
    series = []
    for stage in STAGES:
        points = [(n, stages[n][stage.key].wall / n * 1000) for n in sizes
                  if stage.key in stages[n]]
        if points:
            series.append((stage.title, points))
    values = [v for _, pts in series for _, v in pts]
    y_lo = math.floor(math.log10(min(values)))
    y_hi = math.ceil(math.log10(max(values)))
    x_lo, x_hi = math.log10(sizes[0]), math.log10(sizes[-1])
    if x_hi == x_lo:
        x_hi += 1
    if y_hi == y_lo:
        y_hi += 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(n: float) -> float:
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo) * plot_w

    def y(v: float) -> float:
        return top + (y_hi - math.log10(v)) / (y_hi - y_lo) * plot_h

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>']
    for exp in range(y_lo, y_hi):
        for minor in (2, 5):
            py = y(minor * 10 ** exp)
            svg.append(f'<line x1="{left}" y1="{py:.1f}" x2="{left + plot_w}" y2="{py:.1f}" '
                       'stroke="#f0f0f0"/>')
    for exp in range(y_lo, y_hi + 1):
        py = y(10 ** exp)
        svg.append(f'<line x1="{left}" y1="{py:.1f}" x2="{left + plot_w}" y2="{py:.1f}" '
                   'stroke="#ddd"/>')
        svg.append(f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end">'
                   f'{10.0 ** exp:g}</text>')
    for n in sizes:
        px = x(n)
        svg.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{top + plot_h}" '
                   'stroke="#ddd"/>')
        svg.append(f'<text x="{px:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                   f'{n:,}</text>')
    svg.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
               'pages (N, log scale)</text>')
    svg.append(f'<text transform="translate(16 {top + plot_h / 2}) rotate(-90)" '
               'text-anchor="middle">ms per page (log scale)</text>')
    for i, (title, points) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   'stroke-width="2"/>')
        svg += [f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>'
                for n, v in points]
        ly = top + 10 + i * 20
        svg.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" '
                   f'y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{width - right + 40}" y="{ly + 4}">{escape(title)}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"

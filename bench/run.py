"""`make bench`: time the pipeline at 100, 1,000 and 10,000 pages; write BENCHMARKS.md.

    .venv/bin/python -m bench.run [--sizes 100,1000,10000] [--repeats 3,3,1] ...

Runs in this order, each part on its own: page weight of the real site, cleaning
throughput against bleach and nh3 (in process), snippet runs against one fresh python per
snippet (bench/snippets_bench.py), then every pipeline stage at every N (bench/stages.py),
each N in its own temp Hugo site. Nothing is asserted here: targets are reported pass or
miss in BENCHMARKS.md. The machine is usually shared, so it first waits (bounded) for a
quiet moment and records the load average before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from bench import generate, layout_cost, measure, peers, report, snippets_bench, stages

ROOT = generate.ROOT
PACKAGES = ("twisted", "beautifulsoup4", "html5lib", "markdown-it-py", "bleach", "nh3",
            "pagefind", "hugo")
SNIPPET_TARGET = 0.10
PEER_TARGET = 1.5
SANITIZE_TARGET = 1.0
ENFORCE_TARGET = 0.25
LAYOUT_TARGET = layout_cost.TARGET


def versions() -> dict[str, str]:
    found = {"Python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    hugo = subprocess.run([stages.hugo_binary(), "version"], capture_output=True, text=True,
                          check=False, timeout=60).stdout.split()
    if hugo:
        found["hugo"] += f" (binary {hugo[1]})"
    return found


def wait_for_quiet(limit: float, threshold: float, log: Info) -> None:
    """Sleep in 15 s steps while the 1-minute load is above `threshold`, `limit` s at most."""
    deadline = time.monotonic() + limit
    while measure.load_average_1() > threshold and time.monotonic() < deadline:
        log(f"load average {measure.load_average()}: waiting for a quieter moment")
        time.sleep(15)


class Info:
    """Progress on stderr, with the time since start."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.start:6.0f} s] {text}", file=sys.stderr, flush=True)


def write(run: report.Run, out: Path, chart: Path) -> None:
    """BENCHMARKS.md and the chart it shows, each written whole or not at all."""
    from twnotes import util

    chart_ref = chart.resolve().relative_to(out.resolve().parent)
    chart.parent.mkdir(parents=True, exist_ok=True)
    util.atomic_write(chart, report.chart(run.stages).encode("utf-8"))
    util.atomic_write(out, report.markdown(run, chart_ref.as_posix()).encode("utf-8"))


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_ints, default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=_ints, default=[3, 3, 2],
                        help="runs per stage at each size (the last value repeats)")
    parser.add_argument("--snippets-per-page", type=int, default=1)
    parser.add_argument("--ratio-snippets", type=int, default=200)
    parser.add_argument("--cleaning-pages", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--chart", type=Path, default=ROOT / "bench" / "chart.svg")
    parser.add_argument("--wait", type=float, default=180,
                        help="seconds to wait at most for a quiet machine")
    parser.add_argument("--quiet-load", type=float, default=1.0)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "out" / "results.json",
                        help="where the raw figures are kept (JSON)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: write BENCHMARKS.md again from --results "
                        "(after editing bench/findings.md)")
    args = parser.parse_args(argv)

    from twnotes import sanitize, util

    findings = ROOT / "bench" / "findings.md"
    notes = findings.read_text(encoding="utf-8") if findings.is_file() else ""
    if args.render_only:
        data = json.loads(args.results.read_text(encoding="utf-8"))
        write(dataclasses.replace(report.from_json(data), notes=notes), args.out, args.chart)
        return 0

    log = Info()
    wait_for_quiet(args.wait, args.quiet_load, log)
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = measure.load_average()

    log("page weight (real site)")
    weights = peers.page_weights()

    log("cleaning throughput")
    dirty = peers.fragments(args.cleaning_pages)
    clean = [peers.Fragment(sanitize.clean_fragment(f.html, inline=f.inline), f.inline)
             for f in dirty]
    cleaning = [("as written (all flagged)", peers.cleaning(dirty)),
                ("already clean (CI's case)", peers.cleaning(clean))]

    log("snippets: against pytest-markdown-docs and one python each")
    snippet_ratio = snippets_bench.measure_rows(repeats=3)

    timings: dict[int, dict[str, measure.Timing]] = {}
    for i, size in enumerate(args.sizes):
        repeats = args.repeats[min(i, len(args.repeats) - 1)]
        log(f"N = {size:,}: {repeats} run(s) per stage")
        with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as tmp:
            timings[size] = stages.run_site(Path(tmp), size, repeats,
                                            args.snippets_per_page, log)

    ratios = []
    for kind, row in snippet_ratio.items():
        count, cold = int(row["count"] or 0), float(row["cold_s"] or 0)
        if row["peer_s"] is not None:
            peer = float(row["peer_s"])
            ratios.append(report.Ratio(
                f"snippet runs / pytest-markdown-docs ({count}, {kind})", cold / peer,
                f"<= {PEER_TARGET}", cold / peer <= PEER_TARGET,
                f"{cold:.2f} s against {peer:.2f} s"))
        if kind == "plain" and row["baseline_s"] is not None:
            base = float(row["baseline_s"])
            ratios.append(report.Ratio(
                f"snippet runs / one python per snippet ({count}, {kind})", cold / base,
                f"<= {SNIPPET_TARGET}", cold / base <= SNIPPET_TARGET,
                f"{cold:.2f} s against {base:.2f} s"))
    for key, label in (("sanitize_clean", "clean pages, CI's case"),
                       ("sanitize_dirty", "every page flagged")):
        for size in args.sizes:
            check, hugo = timings[size][key].wall, timings[size]["hugo"].wall
            ratios.append(report.Ratio(
                f"sanitize --check / hugo, {label}, N = {size:,}", check / hugo,
                f"<= {SANITIZE_TARGET}", check / hugo <= SANITIZE_TARGET,
                f"{check:.2f} s against {hugo:.2f} s"))
    for size in args.sizes:
        ours, bare = timings[size]["hugo"], timings[size]["hugo_bare"]
        ratios.append(report.Ratio(
            f"hugo, our layouts / bare layouts, N = {size:,}", ours.wall / bare.wall,
            f"<= {LAYOUT_TARGET}", ours.wall / bare.wall <= LAYOUT_TARGET,
            f"{ours.wall:.2f} s against {bare.wall:.2f} s; CPU {ours.cpu:.1f} s against "
            f"{bare.cpu:.1f} s ({ours.cpu / bare.cpu if bare.cpu else float('nan'):.2f})"))
    for size in args.sizes:
        enforce, hugo = timings[size]["enforce"].wall, timings[size]["hugo"].wall
        ratios.append(report.Ratio(
            f"enforce / hugo, N = {size:,}", enforce / hugo, f"<= {ENFORCE_TARGET}",
            enforce / hugo <= ENFORCE_TARGET, f"{enforce:.2f} s against {hugo:.2f} s"))
    for label, results in cleaning:
        ours = results[0].per_second
        bleach = next(t.per_second for t in results if t.name == "bleach.clean")
        ratios.append(report.Ratio(
            f"clean_fragment / bleach.clean throughput, {label}", ours / bleach, ">= 1.0",
            ours >= bleach, f"{ours:,.0f} against {bleach:,.0f} fragments/s"))

    command = "make bench" if argv is None and len(sys.argv) == 1 else (
        "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]))
    run = report.Run(
        command=command, started=started, minutes=(time.monotonic() - log.start) / 60,
        machine=measure.machine(), versions=versions(), load_before=load_before,
        load_after=measure.load_average(), snippets_per_page=args.snippets_per_page,
        stages=timings, ratios=ratios, cleaning=cleaning,
        cleaning_fragments=args.cleaning_pages,
        snippet_count=sum(int(r["count"] or 0) for r in snippet_ratio.values()),
        snippet_ratio=snippet_ratio, weights=weights, notes=notes)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    util.atomic_write(args.results, json.dumps(report.to_json(run), indent=1).encode())
    write(run, args.out, args.chart)
    log(f"wrote {args.out} and {args.chart}")
    for ratio in ratios:
        log(f"{'pass' if ratio.passed else 'MISS'}  {ratio.name}: {ratio.value:.3g} "
            f"(target {ratio.target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: snippet runs through `twnotes snippets`, side by side with pytest-markdown-docs
and with one fresh python per snippet, on the same generated page.

Three rows (the issue's): (a) `defer`, 200 snippets importing twisted.internet.defer;
(b) `six`, 100 snippets importing six Twisted modules that no server preloaded before
(twisted.mail.smtp, names.client, trial.unittest, web.template, words.protocols.irc,
spread.pb); (c) `plain`, 200 plain snippets. For each, wall clock and tree RSS (the summed
resident sets of the command's whole process tree, sampled from /proc):
  twnotes cold  `twnotes snippets --no-cache` (fork servers, one process per snippet);
  twnotes warm  `twnotes snippets` again (everything from the cache);
  peer          `pytest --markdown-docs` (pytest-markdown-docs 0.9.2: every fence `exec`ed in
                the pytest process, no isolation), from its own venv .venv-peer (it needs
                markdown-it-py < 4; see requirements-bench-peer.txt);
  baseline      one `python -c CODE` per snippet, one after another (rows a and c only: for
                row b it would take minutes and is not a target).

    .venv/bin/python -m bench.snippets_bench [--rows defer,six,plain] [--repeats 5]
        [--update BENCHMARKS.md]

The cold runs and the peer's alternate (cold, peer, cold, peer, ...), so that a change in the
machine's load between runs falls on both alike; the medians are compared. `make bench`
(bench/run.py) calls measure_rows(). Prints JSON; asserts nothing (targets: cold / peer <=
1.5 on every row; plain cold / baseline <= 0.10). `--update` rewrites only the snippet rows
of BENCHMARKS.md (its Targets rows and its "Snippet runs, side by side" table), naming this
command, for a re-measurement that does not need the whole 35-minute `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import measure

SIX = ("twisted.mail.smtp", "twisted.names.client", "twisted.trial.unittest",
       "twisted.web.template", "twisted.words.protocols.irc", "twisted.spread.pb")
# name: (snippets, template, with a one-python-per-snippet baseline)
ROWS: dict[str, tuple[int, str, bool]] = {
    "defer": (200, "from twisted.internet import defer\nprint(defer.succeed({n}).result)", False),
    "six": (100, "".join(f"import {m}\n" for m in SIX) + "print({n})", False),
    "plain": (200, "print({n})", True),
}
PEER_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peer" / "bin" / "python"
PEER_TARGET = 1.5
BASELINE_TARGET = 0.1


def page(n: int, template: str) -> str:
    blocks = [f"```python\n{template.format(n=i)}\n```\n\n```output\n{i}\n```\n"
              for i in range(n)]
    return '+++\ntitle = "bench"\n+++\n\n' + "\n".join(blocks)


def _median(samples: list[measure.Sample]) -> tuple[float, float]:
    """Median wall seconds and the largest tree RSS in MB."""
    return (round(statistics.median(s.wall for s in samples), 3),
            round(max(s.tree_rss for s in samples) / 1024 / 1024, 1))


def measure_row(count: int, template: str, baseline: bool = True,
                repeats: int = 5) -> dict[str, float | None]:
    twnotes = str(Path(sys.executable).with_name("twnotes"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "page.md").write_text(page(count, template), encoding="utf-8")
        # Each side with its compiled modules cached, as on a developer's machine: with
        # PYTHONDONTWRITEBYTECODE set (CI shells often set it), twnotes, an editable install,
        # would compile itself on every run while the peer's installed modules are compiled.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["TWNOTES_CACHE_DIR"] = str(folder / "cache")
        argv = [str(PEER_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "--markdown-docs", "page.md"]
        cold: list[measure.Sample] = []
        peer: list[measure.Sample] | None = [] if PEER_PYTHON.is_file() else None
        measure.run([twnotes, "snippets", "--no-cache", "page.md"], cwd=folder, env=env)
        if peer is not None:  # one unmeasured run of each first
            measure.run(argv, cwd=folder, env=env)
        for _ in range(repeats):  # alternating, so that the load falls on both alike
            cold.append(measure.run([twnotes, "snippets", "--no-cache", "page.md"],
                                    cwd=folder, env=env))
            if peer is not None:
                peer.append(measure.run(argv, cwd=folder, env=env))
                assert f"{count} passed" in peer[-1].output, peer[-1].output[-500:]
        measure.run([twnotes, "snippets", "page.md"], cwd=folder, env=env)  # fill the cache
        warm = [measure.run([twnotes, "snippets", "page.md"], cwd=folder, env=env)
                for _ in range(repeats)]
        base = None
        if baseline:
            start = time.perf_counter()
            for i in range(count):
                subprocess.run([sys.executable, "-c", template.format(n=i)], cwd=tmp, env=env,
                               check=True, stdout=subprocess.DEVNULL, timeout=60)
            base = round(time.perf_counter() - start, 3)
    cold_s, cold_rss = _median(cold)
    warm_s, _ = _median(warm)
    peer_s, peer_rss = _median(peer) if peer else (None, None)
    return {"count": count, "cold_s": cold_s, "warm_s": warm_s, "cold_tree_rss_mb": cold_rss,
            "peer_s": peer_s, "peer_tree_rss_mb": peer_rss,
            "peer_ratio": round(cold_s / peer_s, 3) if peer_s else None,
            "baseline_s": base, "ratio": round(cold_s / base, 3) if base else None}


def measure_rows(rows: list[str] | None = None,
                 repeats: int = 5) -> dict[str, dict[str, float | None]]:
    return {name: measure_row(*ROWS[name], repeats=repeats) for name in rows or list(ROWS)}


def _target_rows(rows: dict[str, dict[str, float | None]]) -> list[str]:
    out = []
    for kind, row in rows.items():
        cold, peer, base = row["cold_s"], row["peer_s"], row["baseline_s"]
        assert cold is not None
        if peer:
            ok = "pass" if cold / peer <= PEER_TARGET else "**miss**"
            out.append(f"| snippet runs / pytest-markdown-docs ({row['count']:.0f}, {kind}) | "
                       f"{cold / peer:.3g} | <= {PEER_TARGET} | {ok} ({cold:.2f} s against "
                       f"{peer:.2f} s) |")
        if kind == "plain" and base:
            ok = "pass" if cold / base <= BASELINE_TARGET else "**miss**"
            out.append(f"| snippet runs / one python per snippet ({row['count']:.0f}, {kind})"
                       f" | {cold / base:.3g} | <= {BASELINE_TARGET} | {ok} ({cold:.2f} s "
                       f"against {base:.2f} s) |")
    return out


def _table_rows(rows: dict[str, dict[str, float | None]]) -> list[str]:
    def cell(value: float | None, spec: str) -> str:
        return "–" if value is None else format(value, spec)

    return [f"| {kind} | {cell(r['count'], '.0f')} | {cell(r['cold_s'], '.2f')} | "
            f"{cell(r['warm_s'], '.2f')} | {cell(r['peer_s'], '.2f')} | "
            f"{cell(r['peer_ratio'], '.2f')} | {cell(r['baseline_s'], '.2f')} | "
            f"{cell(r['ratio'], '.3f')} | {cell(r['cold_tree_rss_mb'], '.0f')} | "
            f"{cell(r['peer_tree_rss_mb'], '.0f')} |" for kind, r in rows.items()]


def update(path: Path, rows: dict[str, dict[str, float | None]], command: str,
           load: tuple[str, str]) -> None:
    """Replace the snippet rows of BENCHMARKS.md (Targets, and the side-by-side table)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    targets = [i for i, line in enumerate(lines) if line.startswith("| snippet runs / ")]
    if targets:
        lines[targets[0]:targets[-1] + 1] = _target_rows(rows)
    head = lines.index("## Snippet runs, side by side")
    first = next(i for i in range(head, len(lines)) if lines[i].startswith("|---"))
    end = next(i for i in range(first, len(lines)) if not lines[i].startswith("|"))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines[first + 1:end] = _table_rows(rows)
    note = (f"Rows re-measured by `{command}` on {when} (load average {load[0]} before, "
            f"{load[1]} after; cold and peer runs alternating, medians of each).")
    if lines[end + 1].startswith("Rows re-measured by "):
        lines[end + 1] = note
    else:
        lines[end:end] = ["", note]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.snippets_bench")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--update", type=Path, metavar="BENCHMARKS.md",
                        help="rewrite the snippet rows of this file with the new figures")
    args = parser.parse_args()
    if not PEER_PYTHON.is_file():
        # Without the peer every row's target would read as unmeasured, not as missed.
        print(f"bench.snippets_bench: {PEER_PYTHON} is missing: run `make bench` once "
              "(it sets up .venv-peer from requirements-bench-peer.txt)", file=sys.stderr)
        return 2
    before = measure.load_average()
    report = {"cpus": os.cpu_count(),
              "rows": measure_rows(args.rows.split(","), args.repeats)}
    print(json.dumps(report, indent=1))
    if args.update is not None:
        command = "python -m bench.snippets_bench " + " ".join(sys.argv[1:])
        update(args.update, report["rows"], command, (before, measure.load_average()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

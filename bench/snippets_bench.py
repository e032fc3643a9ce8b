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

    .venv/bin/python -m bench.snippets_bench [--rows defer,six,plain] [--repeats 3]

`make bench` (bench/run.py) calls measure_rows(). Prints JSON; asserts nothing
(targets: cold / peer <= 1.5 on every row; plain cold / baseline <= 0.10).
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
    "defer": (200, "from twisted.internet import defer\nprint(defer.succeed({n}).result)", True),
    "six": (100, "".join(f"import {m}\n" for m in SIX) + "print({n})", False),
    "plain": (200, "print({n})", True),
}
PEER_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peer" / "bin" / "python"


def page(n: int, template: str) -> str:
    blocks = [f"```python\n{template.format(n=i)}\n```\n\n```output\n{i}\n```\n"
              for i in range(n)]
    return '+++\ntitle = "bench"\n+++\n\n' + "\n".join(blocks)


def _median(samples: list[measure.Sample]) -> tuple[float, float]:
    """Median wall seconds and the largest tree RSS in MB."""
    return (round(statistics.median(s.wall for s in samples), 3),
            round(max(s.tree_rss for s in samples) / 1024 / 1024, 1))


def measure_row(count: int, template: str, baseline: bool = True,
                repeats: int = 3) -> dict[str, float | None]:
    twnotes = str(Path(sys.executable).with_name("twnotes"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "page.md").write_text(page(count, template), encoding="utf-8")
        env = dict(os.environ, TWNOTES_CACHE_DIR=str(folder / "cache"))
        cold = [measure.run([twnotes, "snippets", "--no-cache", "page.md"], cwd=folder,
                            env=env) for _ in range(repeats)]
        measure.run([twnotes, "snippets", "page.md"], cwd=folder, env=env)  # fill the cache
        warm = [measure.run([twnotes, "snippets", "page.md"], cwd=folder, env=env)
                for _ in range(repeats)]
        peer = None
        if PEER_PYTHON.is_file():
            argv = [str(PEER_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--markdown-docs", "page.md"]
            peer = [measure.run(argv, cwd=folder) for _ in range(repeats)]
            assert f"{count} passed" in peer[0].output, peer[0].output[-500:]
        base = None
        if baseline:
            start = time.perf_counter()
            for i in range(count):
                subprocess.run([sys.executable, "-c", template.format(n=i)], cwd=tmp,
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
                 repeats: int = 3) -> dict[str, dict[str, float | None]]:
    return {name: measure_row(*ROWS[name], repeats=repeats) for name in rows or list(ROWS)}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.snippets_bench")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    report = {"cpus": os.cpu_count(),
              "rows": measure_rows(args.rows.split(","), args.repeats)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

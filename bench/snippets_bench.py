"""Benchmark: N trivial snippets through `twnotes snippets` against one fresh python each.

Three timings, wall clock, on one generated page of N blocks:
  baseline  one `python -c CODE` per snippet, one after another (what a naive runner does);
  cold      `twnotes snippets --no-cache` (fork servers, parallel, nothing cached);
  warm      `twnotes snippets` a second time (everything from the cache).
Two kinds of trivial snippet: plain Python (`print(n)`), and one that imports Twisted
(`from twisted.internet import defer`), which is what the notes' snippets do.

    .venv/bin/python bench/snippets_bench.py [N]

`make bench` (bench/run.py) calls measure() for its snippet ratio.

Prints one JSON object; asserts nothing (targets: cold/baseline <= 0.10, warm <= 1 s).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINDS = {
    "plain": "print({n})",
    "twisted": "from twisted.internet import defer\nprint(defer.succeed({n}).result)",
}


def page(n: int, template: str) -> str:
    blocks = [f"```python\n{template.format(n=i)}\n```\n\n```output\n{i}\n```\n"
              for i in range(n)]
    return '+++\ntitle = "bench"\n+++\n\n' + "\n".join(blocks)


def timed(argv: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=600, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def measure(count: int, template: str, repeats: int = 1) -> dict[str, float]:
    """Seconds for `count` snippets: one python each, then twnotes cold and warm (medians)."""
    twnotes = str(Path(sys.executable).with_name("twnotes"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "page.md").write_text(page(count, template), encoding="utf-8")
        env = dict(os.environ, TWNOTES_CACHE_DIR=str(folder / "cache"))
        start = time.perf_counter()
        for i in range(count):
            subprocess.run([sys.executable, "-c", template.format(n=i)], cwd=tmp,
                           check=True, stdout=subprocess.DEVNULL, timeout=60)
        baseline = time.perf_counter() - start
        cold = statistics.median(
            timed([twnotes, "snippets", "--no-cache", "page.md"], cwd=tmp, env=env)
            for _ in range(repeats))
        timed([twnotes, "snippets", "page.md"], cwd=tmp, env=env)  # fill the cache
        warm = statistics.median(
            timed([twnotes, "snippets", "page.md"], cwd=tmp, env=env) for _ in range(repeats))
    return {"baseline_s": round(baseline, 3), "cold_s": round(cold, 3),
            "warm_s": round(warm, 3), "ratio": round(cold / baseline, 3)}


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    report: dict[str, object] = {"snippets": count, "cpus": os.cpu_count()}
    for kind, template in KINDS.items():
        report[kind] = measure(count, template)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cleaning throughput alone, robust to a busy machine: `python -m bench.clean_speed`.

clean_fragment (uncached) against bleach.clean and nh3.clean on the raw HTML of generated
pages (peers.fragments, peers.cleaners: the same fragments and settings as bench.run's
cleaning ratios), as written and once cleaned. Unlike bench.run it interleaves the
cleaners round by round and counts CPU time of this process, so other work on the machine
moves every figure alike; the medians over rounds are shown.

`--baseline REV` adds the sanitiser as it was at git revision REV (loaded from
`git show REV:tools/twnotes/sanitize.py`), for before/after figures in one run; only
revisions before the sanitiser became a package (tools/twnotes/sanitize/) have that file.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import peers

ROOT = Path(__file__).resolve().parent.parent


def _old_cleaner(rev: str) -> Callable[[peers.Fragment], str]:
    source = subprocess.run(["git", "show", f"{rev}:tools/twnotes/sanitize.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="clean-speed-")) / "sanitize_old.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("sanitize_old", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    clean = getattr(module, "clean_fragment_uncached", None) or module.clean_fragment.__wrapped__
    return lambda f: str(clean(f.html, inline=f.inline))


def measure(cleaners: dict[str, Callable[[peers.Fragment], str]],
            items: Sequence[peers.Fragment], rounds: int) -> dict[str, float]:
    """Median fragments per CPU second of each cleaner, interleaved round by round."""
    rates: dict[str, list[float]] = {name: [] for name in cleaners}
    for _ in range(rounds):
        for name, clean in cleaners.items():
            start = time.process_time()
            for item in items:
                clean(item)
            rates[name].append(len(items) / max(time.process_time() - start, 1e-9))
    return {name: statistics.median(values) for name, values in rates.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.clean_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", metavar="REV", help="also time sanitize.py at REV")
    args = parser.parse_args(argv)

    from twnotes import sanitize

    cleaners = peers.cleaners()
    if args.baseline:
        cleaners[f"clean_fragment at {args.baseline}"] = _old_cleaner(args.baseline)
    dirty = peers.fragments(args.pages)
    clean = [peers.Fragment(sanitize.clean_fragment_uncached(f.html, inline=f.inline),
                            f.inline) for f in dirty]
    print(f"{len(dirty)} fragments from {args.pages} pages, {args.rounds} rounds, "
          "median fragments per CPU second")
    for label, items in (("as written", dirty), ("already clean", clean)):
        rates = measure(cleaners, items, args.rounds)
        bleach = rates["bleach.clean"]
        for name, rate in rates.items():
            print(f"{label:14} {name:34} {rate:9,.0f}/s {rate / bleach:6.2f}x bleach")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

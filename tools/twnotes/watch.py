"""`twnotes watch`: keep the page results fresh while a preview server runs (`make serve`).

Runs every snippet once (unchanged ones from the cache), then starts the given command
(`hugo server …`) and, each time a page is saved, reruns that page's snippets and merges
their results into the results file that Hugo watches, so a badge follows within seconds.
Failures print as `file:line: reason`. Ctrl-C (SIGINT to the terminal's foreground group),
SIGTERM or SIGHUP stop it all: the command (SIGTERM, then SIGKILL, each wait bounded), the
fork servers, the watcher; so does the command ending on its own (its exit code is ours).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twnotes import pages
from twnotes.runner import Runner
from twnotes.runner.sweep import escalate
from twnotes.snippets import (
    Cache,
    collect,
    config,
    default_cache_dir,
    display_path,
    merge_results,
    run,
)
from twnotes.snippets.verdicts import failure_text, summary

STOP_GRACE_S = 5.0
DEBOUNCE_MS = 200


class _Stop(Exception):
    """SIGTERM or SIGHUP: leave the way Ctrl-C does."""


def refresh(targets: Sequence[Path], runner: Runner, settings: config.Settings,
            out: Any) -> int:
    """Run the snippets of these pages (the missing ones only lose their results) and merge
    the results into the results file; print failures; the number of failures."""
    present = [p for p in targets if p.exists()]
    collected = collect(present, settings)
    for error in collected.errors:
        print(error, file=out, flush=True)
    runs = run(collected.cases, runner, Cache(default_cache_dir()), settings)
    results = [r for ran in runs for r in ran.results]
    target = settings.results_path()
    if target is not None:
        merge_results(target, results, collected.cases)
    for result in results:
        if result.status == "failed":
            print(failure_text(result), file=out, flush=True)
    where = ", ".join(display_path(p) for p in targets[:3]) + (" …" if len(targets) > 3 else "")
    print(f"[{time.strftime('%H:%M:%S')}] {where}: {summary(results)}", file=out, flush=True)
    return sum(r.status == "failed" for r in results) + len(collected.errors)


def _is_page(_change: object, path: str) -> bool:
    return Path(path).suffix in pages.CONTENT_SUFFIXES


def _end(proc: subprocess.Popen[bytes]) -> None:
    """The command gets SIGTERM, then SIGKILL (the runner's one TERM -> KILL loop); every
    wait bounded."""

    def send(sig: int) -> bool:
        if proc.poll() is not None:
            return False
        if sig:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        return True

    escalate(send, lambda: None, grace_s=STOP_GRACE_S, kill_wait_s=STOP_GRACE_S)


def _start(command: Sequence[str], ended: threading.Event) -> subprocess.Popen[bytes] | None:
    """Start the command (if any); `ended` is set when it exits."""
    if not command:
        return None
    proc = subprocess.Popen(list(command))

    def wait_for_command() -> None:
        proc.wait()
        ended.set()

    threading.Thread(target=wait_for_command, daemon=True).start()
    return proc


def _follow(roots: Sequence[Path], runner: Runner, settings: config.Settings, out: Any,
            ended: threading.Event) -> None:
    """Rerun the snippets of every page saved under `roots` until `ended` (or Ctrl-C)."""
    import watchfiles

    print(f"watching {', '.join(display_path(r) for r in roots)} (Ctrl-C stops)",
          file=out, flush=True)
    for changes in watchfiles.watch(*roots, watch_filter=_is_page, stop_event=ended,
                                    debounce=DEBOUNCE_MS, raise_interrupt=True):
        changed = sorted({Path(p) for _, p in changes})
        refresh([Path(display_path(p)) for p in changed], runner, settings, out)


def watch(paths: Sequence[Path] | None, command: Sequence[str], *, out: Any,
          jobs: int | None = None, settings: config.Settings | None = None) -> int:
    settings = settings or config.load()
    roots = list(paths or settings.content_paths())

    def stop_signal(signum: int, _frame: object) -> None:
        raise _Stop(signum)

    previous = {sig: signal.signal(sig, stop_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    proc: subprocess.Popen[bytes] | None = None
    ended = threading.Event()
    try:
        with Runner(workers=jobs, extra_preload=settings.preload) as runner:
            refresh(roots, runner, settings, out)
            proc = _start(command, ended)
            _follow(roots, runner, settings, out, ended)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        by_itself = ended.is_set()  # the command ended before we stopped it
        if proc is not None:
            _end(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if proc is not None and by_itself and proc.returncode is not None:
        return proc.returncode
    return 0

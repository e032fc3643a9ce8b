"""What Twisted reports inside a running program, turned into findings the caller can judge.

Runs in the isolated child only. A snippet can look fine (exit 0, right output) while Twisted
says something went wrong: a Deferred garbage-collected with an unhandled failure is logged
as a critical event, `log.err` and `Logger.failure` log error/critical events. Every such
event reaches `twisted.logger.globalLogPublisher`, so one observer there sees them all
(whether or not the program started logging itself). Twisted is never imported here for a
program that does not import it: until it does, an import hook waits for `twisted.logger`.

DeprecationWarning is an error while a segment runs (the examples' `-W
error::DeprecationWarning` policy); descendants inherit the policy through PYTHONWARNINGS.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import warnings

TYPE_CHECKING = False
if TYPE_CHECKING:
    import importlib.machinery
    import types
    from collections.abc import Sequence
    from typing import Any

EVENT_CHARS = 4_000  # one finding's text at most
MAX_FINDINGS = 20
STRICT_WARNINGS = "error::DeprecationWarning"


class Findings:
    """Logged error/critical events, each tagged with the segment that was running."""

    def __init__(self) -> None:
        self.segment = 0
        self.errors_allowed: Sequence[bool] = ()
        self.found: list[dict[str, Any]] = []
        self.hooked = False

    def observe(self, event: dict[str, Any]) -> None:
        from twisted.logger import LogLevel, formatEvent

        if event.get("log_level") not in (LogLevel.error, LogLevel.critical):
            return
        index = min(self.segment, len(self.errors_allowed) - 1)
        if index >= 0 and self.errors_allowed[index]:
            return
        if len(self.found) >= MAX_FINDINGS:
            return
        try:
            text = formatEvent(event)
            failure = event.get("log_failure")
            if failure is not None:
                text = f"{text}\n{failure.getTraceback()}".strip()
        except Exception as exc:  # a broken event must not break the report
            text = f"(unformattable event: {exc!r})"
        if len(text) > EVENT_CHARS:
            text = text[:EVENT_CHARS] + " …"
        self.found.append({"segment": index, "level": event["log_level"].name, "text": text})

    def hook(self) -> None:
        if self.hooked:
            return
        self.hooked = True
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(self.observe)  # type: ignore[arg-type]


FINDINGS = Findings()


class _WhenImported:
    """Calls FINDINGS.hook() right after `twisted.logger` has been imported (a finder on
    sys.meta_path; not an importlib.abc subclass, whose import would weigh on every fork)."""

    name = "twisted.logger"

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        import importlib.machinery

        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            original(module)
            FINDINGS.hook()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def start(errors_allowed: Sequence[bool]) -> None:
    """Before the first segment: watch Twisted's log from now on (or from its import)."""
    FINDINGS.errors_allowed = errors_allowed
    if "twisted.logger" in sys.modules:
        FINDINGS.hook()
    else:
        sys.meta_path.insert(0, _WhenImported())


_FILTERS: dict[bool, list[Any]] = {}  # deprecations allowed -> the filter list to run with


def prepare() -> None:
    """In the fork server, after its preload: both warning policies made once, so that a
    child only swaps a list in (less work, fewer pages copied, in every program); Twisted's
    log watched from here if the server imported it."""
    if "twisted.logger" in sys.modules:
        FINDINGS.hook()  # the observer once here: every child inherits it (and an empty list)
    _FILTERS.clear()
    base = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=DeprecationWarning)
        _FILTERS[False] = list(warnings.filters)
    _FILTERS[True] = base


def enter_segment(index: int, deprecations_allowed: bool) -> None:
    """Before segment `index` runs: its warning policy, and findings are tagged with it."""
    if not _FILTERS:
        prepare()
    warnings.filters[:] = _FILTERS[deprecations_allowed]  # type: ignore[index]
    set_warnings_env(deprecations_allowed)
    mutated = getattr(warnings, "_filters_mutated", None)  # after a direct edit of filters
    if mutated is not None:
        mutated()
    FINDINGS.segment = index


def set_warnings_env(deprecations_allowed: bool) -> None:
    """The policy for the program's descendants (PYTHONWARNINGS); written only if it
    changes: a fork server sets it for the first segment before it forks."""
    if deprecations_allowed:
        os.environ.pop("PYTHONWARNINGS", None)
    elif os.environ.get("PYTHONWARNINGS") != STRICT_WARNINGS:
        os.environ["PYTHONWARNINGS"] = STRICT_WARNINGS


def collect_garbage() -> None:
    """A Deferred that failed and was dropped reports itself when collected: collect now,
    while the segment that dropped it is still the current one (a forked child never runs
    the interpreter's shutdown, so nothing else would collect it). Without Deferreds there
    is nothing to report, and a collection would only copy the server's pages.

    The server froze its objects before the fork, so every other object was made by the
    program; while the oldest generation holds none of them, collecting the younger two finds
    the same garbage, without the full collection's clearing of the free lists (which
    touched, and so copied, about 120 of the server's pages per program)."""
    if "twisted.internet.defer" in sys.modules:
        with contextlib.suppress(BaseException):
            gc.collect(2 if gc.get_objects(generation=2) else 1)


def findings() -> list[dict[str, Any]]:
    return list(FINDINGS.found)

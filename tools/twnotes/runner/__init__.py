"""Run a Python program in isolation, fast: one forked child per program, its group and
everything it leaves behind ended after it.

The package, by job: `program` (what to run, how it ended), `pool` (the client: Runner,
fork servers started on first use), `forkserver` (the zygote and its servers), `supervise`
(one program from start to end), `child` (the forked side), `child_checks` (what Twisted
reports inside a program), `sweep` (ending groups and leftovers), `preload` (what the
servers import ahead), `deferred` (the reactor's importers, imported ahead without it),
`execmode` (a fresh interpreter per program), `protocol` (the wire).

This package knows nothing of Markdown: a Program is code segments placed at line numbers
of a named file, so tracebacks point at that file and line.

Its public names load on first use (PEP 562): the fork server imports this package too, and
it must stay small (see forkserver), so importing `twnotes.runner.forkserver` must not drag
in the client.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from twnotes.runner.pool import Runner, fork_available, run_program
    from twnotes.runner.program import Outcome, Program, Segment, Status
    from twnotes.runner.protocol import SEGMENT_MARK, RunnerError

__all__ = ["SEGMENT_MARK", "Outcome", "Program", "Runner", "RunnerError", "Segment", "Status",
           "fork_available", "run_program"]

_HOMES = {"Runner": "pool", "fork_available": "pool", "run_program": "pool",
          "Outcome": "program", "Program": "program", "Segment": "program",
          "Status": "program", "RunnerError": "protocol", "SEGMENT_MARK": "protocol"}

if not TYPE_CHECKING:
    def __getattr__(name: str) -> object:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])

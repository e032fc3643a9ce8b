"""The client side: fork servers started on first use, and a pool that keeps them busy.

A `_Group` is one zygote and the servers it forks once it has preloaded; a `Runner` hands
programs to the servers, `workers` at a time. `run_all` pipelines: each server has the next
program waiting in its pipe while it runs the current one, so no server waits for the
client between two programs.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading

from twnotes.runner import preload as preload_rules
from twnotes.runner.program import Outcome, Program
from twnotes.runner.protocol import RunnerError, receive, send

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

PIPELINE_BYTES = 16 << 10  # a program this small may wait in a server's pipe (64 KiB)


def fork_available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "setsid") and hasattr(os, "killpg")


class _Server:
    """The client's end of one fork server: a pipe pair."""

    def __init__(self, to_server: int, from_server: int) -> None:
        self.stdin = os.fdopen(to_server, "wb")
        self.stdout = os.fdopen(from_server, "rb")
        self.pid = 0

    def readline(self) -> dict[str, Any]:
        return receive(self.stdout)

    def send(self, data: dict[str, Any]) -> None:
        send(self.stdin, data)

    def send_line(self, line: bytes) -> None:
        self.stdin.write(line)
        self.stdin.flush()

    def run(self, program: Program) -> Outcome:
        self.send(program.wire())
        return Outcome.from_json(self.readline())

    def close(self) -> None:
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class _Group:
    """A zygote process and the fork servers it forks once it has preloaded.

    Started early (`spawn`, before the client knows what to preload: the interpreter and
    the server's modules load meanwhile), given its preload list later (`start`). A module
    that made the zygote unfit (see preload) is left out and a new zygote started without it.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.excluded: list[str] = []
        self.servers: list[_Server] = []
        self._spawn()

    def _spawn(self) -> None:
        theirs: list[int] = []
        self.servers = []
        pairs = []
        for _ in range(self.count):
            to_r, to_w = os.pipe()
            from_r, from_w = os.pipe()
            pairs.append([to_r, from_w])
            theirs += [to_r, from_w]
            self.servers.append(_Server(to_w, from_r))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twnotes.runner", "--group", json.dumps(pairs)],
            stdin=subprocess.DEVNULL, env=env, close_fds=True, pass_fds=theirs)
        for fd in theirs:
            os.close(fd)

    def start(self, preload: Sequence[str]) -> list[_Server]:
        import tempfile  # not at the top: a run with everything cached never starts a server

        names = list(preload)
        while True:
            self.servers[0].send({"preload": names, "tmp": tempfile.gettempdir()})
            ready = self.servers[0].readline()
            if ready.get("ready") is True:
                self.servers[0].pid = int(ready.get("pid", 0))
                for server in self.servers[1:]:
                    server.pid = int(server.readline().get("pid", 0))
                return self.servers
            culprit = ready.get("exclude")
            self.close()
            if not isinstance(culprit, str) or culprit not in names:
                raise RunnerError(f"fork server did not start: {ready}")
            names.remove(culprit)
            self.excluded.append(culprit)
            self._spawn()

    def close(self) -> None:
        """Close every pipe (each server leaves after its current program), then wait for
        the zygote, which waits for its servers; bounded, then killed. A zygote that was
        never given its preload (a run that found everything cached) has forked nothing:
        it is killed at once rather than waited for while it loads its modules."""
        for server in self.servers:
            server.close()
        if not self.servers[0].pid:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            for server in self.servers:
                if server.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(server.pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(timeout=5)


class _Batch:
    """The programs of one run_all: handed out in order, answered by index."""

    def __init__(self, programs: Sequence[Program]) -> None:
        self.programs = programs
        self.outcomes: list[Outcome | None] = [None] * len(programs)
        self._next = 0
        self._lock = threading.Lock()
        self.stopped = False  # Ctrl-C: the programs not handed out yet are dropped

    def line(self, index: int) -> bytes:
        """Program `index` on the wire: made by the thread that sends it (compiling is part
        of it), while the servers run the programs before it."""
        return json.dumps(self.programs[index].wire()).encode() + b"\n"

    def take(self) -> int | None:
        with self._lock:
            if self.stopped or self._next >= len(self.programs):
                return None
            self._next += 1
            return self._next - 1


class Runner:
    """Runs programs, `workers` at a time, through fork servers started on first use.

    mode "fork" (default where available) uses the servers; "exec" starts a fresh interpreter
    per program from the calling thread (slower, same isolation minus zombie reaping).
    """

    def __init__(self, workers: int | None = None, mode: str | None = None,
                 preload: Sequence[str] | None = None, extra_preload: Sequence[str] = ()
                 ) -> None:
        """`preload`: exactly what the servers import; None (the default) means what the
        first programs run import (see preload.preload_for), plus `extra_preload`."""
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.preload: tuple[str, ...] | None = None if preload is None else tuple(preload)
        self.extra_preload = tuple(extra_preload)
        chosen = mode or os.environ.get("TWNOTES_RUNNER_MODE") or (
            "fork" if fork_available() else "exec")
        if chosen not in ("fork", "exec"):
            raise ValueError(f"unknown runner mode {chosen!r}")
        self.mode = chosen
        self._idle: queue.SimpleQueue[_Server] = queue.SimpleQueue()
        self._groups: list[_Group] = []
        self._ready = False
        self._spare: _Group | None = None  # spawned early, not started yet
        self._lock = threading.Lock()
        self.excluded: list[str] = []  # modules left out of the preload (see import_ahead)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prestart(self) -> None:
        """Start the fork servers' interpreter now, while the caller still reads pages; they
        preload once the first programs are known."""
        if self.mode == "fork":
            with self._lock:
                if self._spare is None and not self._ready:
                    self._spare = _Group(self.workers)

    def _start(self, count: int) -> list[_Server]:
        group = self._spare if self._spare is not None and count == self.workers else None
        if group is None:
            group = _Group(count)
        else:
            self._spare = None
        self._groups.append(group)
        servers = group.start(self.preload or ())
        self.excluded += group.excluded
        if group.excluded and self.preload:  # a replacement need not learn it again
            self.preload = tuple(n for n in self.preload if n not in group.excluded)
        return servers

    def _acquire(self) -> _Server:
        with self._lock:
            if not self._ready:
                for server in self._start(self.workers):
                    self._idle.put(server)
                self._ready = True
        return self._idle.get(timeout=None)

    def _replace(self, server: _Server) -> _Server:
        """The server died (it should not): a new one, so later programs still run."""
        server.close()
        with self._lock:
            return self._start(1)[0]

    def plan(self, programs: Sequence[Program]) -> None:
        """Fix the preload from these programs' imports, unless it is fixed already."""
        if self.preload is None:
            self.preload = preload_rules.preload_for(
                (seg.code for p in programs for seg in p.segments), self.extra_preload)

    def run(self, program: Program) -> Outcome:
        if self.mode == "exec":
            from twnotes.runner.execmode import run_exec  # the child's side: exec mode only

            return Outcome.from_json(run_exec(program.wire()))
        self.plan([program])
        server = self._acquire()
        try:
            outcome = server.run(program)
        except (RunnerError, OSError, ValueError) as exc:
            self._idle.put(self._replace(server))
            return Outcome.error(f"runner failed: {exc}")
        self._idle.put(server)
        return outcome

    def run_all(self, programs: Sequence[Program]) -> list[Outcome]:
        """Outcomes in the order of `programs`, run `workers` at a time."""
        if not programs:
            return []
        self.plan(programs)
        if self.mode == "exec":
            return [self.run(p) for p in programs]
        batch = _Batch(programs)
        servers = [self._acquire() for _ in range(min(self.workers, len(programs)))]
        drivers = [_Driver(self, server, batch) for server in servers]
        try:
            for driver in drivers:
                driver.join()
        finally:
            # After Ctrl-C, the programs not started yet are dropped, not run.
            batch.stopped = True
            for driver in drivers:
                driver.join()
                self._idle.put(driver.server)
        return [o if o is not None else Outcome.error("not run") for o in batch.outcomes]

    def close(self) -> None:
        with self._lock:
            groups, self._groups = self._groups, []
            if self._spare is not None:
                groups.append(self._spare)
                self._spare = None
            self._ready = False
        for group in groups:
            group.close()


class _Driver(threading.Thread):
    """One server's feeding thread in a run_all: the server always has the next program
    waiting in its pipe while it runs one (a program too large to wait in the pipe safely
    is sent once the server is idle)."""

    def __init__(self, runner: Runner, server: _Server, batch: _Batch) -> None:
        super().__init__(daemon=True)
        self.runner, self.server, self.batch = runner, server, batch
        self.waiting: list[int] = []  # sent, not answered yet; oldest first
        self.held: tuple[int, bytes] | None = None  # taken, sent once nothing is waiting
        self.start()

    def _send(self, index: int, line: bytes) -> None:
        self.waiting.append(index)
        self.server.send_line(line)

    def _fill(self) -> None:
        if self.held is not None and not self.waiting:
            held, self.held = self.held, None
            self._send(*held)
        while self.held is None and len(self.waiting) < 2:
            index = self.batch.take()
            if index is None:
                return
            line = self.batch.line(index)
            if self.waiting and len(line) > PIPELINE_BYTES:
                self.held = (index, line)
                return
            self._send(index, line)

    def run(self) -> None:
        while True:
            try:
                self._fill()
                if not self.waiting:
                    return
                line = self.server.readline()
                self.batch.outcomes[self.waiting.pop(0)] = Outcome.from_json(line)
            except (RunnerError, OSError, ValueError) as exc:
                for index in self.waiting:
                    self.batch.outcomes[index] = Outcome.error(f"runner failed: {exc}")
                self.waiting.clear()
                self.server = self.runner._replace(self.server)


def run_program(program: Program, mode: str | None = None) -> Outcome:
    """One program, start to finish (tests and one-off use)."""
    with Runner(workers=1, mode=mode) as runner:
        return runner.run(program)

"""Run a Python program in isolation, fast: one forked child per program, its group killed after.

Why a fork server: a fresh interpreter that imports Twisted costs about 0.3 s, a child forked
from a process that has already imported Twisted's modules costs a few milliseconds. The server
imports those modules but never `twisted.internet.reactor`, so a program may still pick its
reactor (`pollreactor.install()`), and a reactor is never shared: each program gets a new
process, which is also the only way to run several `reactor.run()` programs (a reactor cannot
be restarted).

Isolation, per program: its own session and process group (`setsid`), a fresh temporary
working directory that is also its HOME and TMPDIR, stdin on /dev/null, a wall-clock timeout,
output read through a bounded buffer (the program is killed once it prints more than the
limit), and, when it ends for whatever reason, SIGTERM then SIGKILL to its whole process group.

A process group is not the whole tree: a descendant may start a new session (`setsid`,
`start_new_session=True`, Twisted's `spawnProcess(usePTY=True)`). So after the group, a sweep
ends the rest (see `_sweep`): every program runs with a unique marker in its environment
(`TWNOTES_SNIPPET=<token>`), inherited by everything it starts, and the sweep signals every
process whose /proc/PID/environ carries it. The fork server is also a child subreaper (Linux),
so every orphaned descendant is reparented to it: any child the server has once its program
is over is a leftover of that program, marked or not, and is killed and reaped too.
Limits: in exec mode (no subreaper) a descendant that both leaves the session and clears
its environment escapes; a program can always write to an absolute path. This guards against
accidents, it is not a security sandbox.

This module knows nothing of Markdown: a Program is code segments placed at line numbers of a
named file, so tracebacks point at that file and line.

Wire format between client and server: one JSON object per line each way.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import errno
import gc
import json
import linecache
import os
import queue
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, NoReturn

from twnotes import child_checks
from twnotes import preload as preload_rules

# Written by the child between two segments so one run can be split per segment afterwards.
SEGMENT_MARK = "\x00\x1etwnotes-segment\x1e\x00\n"
DEFAULT_OUTPUT_LIMIT = 1 << 20  # bytes of stdout + stderr kept; past it the program is killed
TERM_GRACE_S = 0.5  # SIGTERM to SIGKILL
KILL_WAIT_S = 2.0  # after SIGKILL, how long to wait for the group to vanish
READ_CHUNK = 1 << 16
STATUS_FD = 3  # in the child: where it reports how the program ended
MARKER_ENV = "TWNOTES_SNIPPET"  # value: a fresh token per program, inherited by descendants

Status = Literal["exited", "timed_out", "output_limit", "error"]


@dataclasses.dataclass(frozen=True)
class Segment:
    """Source code that starts on line `first_line` (1-based) of the program's file."""

    code: str
    first_line: int = 1
    errors_allowed: bool = False  # Twisted's logged error/critical events do not fail it
    deprecations_allowed: bool = False  # DeprecationWarning is not an error while it runs


@dataclasses.dataclass(frozen=True)
class Program:
    """What to run. Segments share one namespace and run in order, like one script."""

    segments: tuple[Segment, ...]
    filename: str = "<snippet>"
    timeout: float = 10.0
    stop_after: float | None = None  # send SIGINT after this many seconds (like Ctrl-C)
    output_limit: int = DEFAULT_OUTPUT_LIMIT

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Program:
        segments = tuple(Segment(**seg) for seg in data.pop("segments"))
        return cls(segments=segments, **data)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a program ended. Interpreting it (pass or fail) is the caller's business."""

    status: Status
    returncode: int | None  # exit code, or -N for death by signal N; None if never reaped
    stdout: str
    stderr: str
    segments_stdout: tuple[str, ...]  # stdout split at segment boundaries
    exception: str | None  # "module.QualName" of an uncaught exception, if any
    interrupted: bool  # SIGINT was sent (stop_after)
    truncated: bool  # output went past the limit
    leftover: bool  # some process of the group could not be made to go away
    duration_s: float
    pid: int
    message: str = ""
    segments_stderr: tuple[str, ...] = ()  # stderr split at segment boundaries
    segment: int = 0  # index of the segment that was running when the program ended
    # Twisted's logged error/critical events: {"segment": i, "level": ..., "text": ...}
    findings: tuple[dict[str, Any], ...] = ()
    compile_failed: bool = False  # a syntax error: no segment ran

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        for key in ("segments_stdout", "segments_stderr", "findings"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


class RunnerError(RuntimeError):
    """The machinery itself failed (not the program)."""


# ---------------------------------------------------------------------------- the child side


_KEEP: list[object] = []  # the server's stdio objects: kept alive so GC never closes fds 0-2


def _reset_signals() -> None:
    """Default dispositions, as a fresh interpreter has them.

    SIGINT gets Python's default_int_handler: Twisted installs its own SIGINT handler (which
    stops the reactor) only when it finds that one in place.
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as CPython sets it at startup
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)


def _fresh_stdio() -> None:
    _KEEP.extend([sys.stdin, sys.stdout, sys.stderr])
    # Line buffered so that a killed program still shows what it printed before the kill.
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1
    )


def _padded(segment: Segment) -> str:
    # Blank lines before the code make compile() number lines as the file does.
    return "\n" * max(segment.first_line - 1, 0) + segment.code


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_in_child(program: Program, workdir: str, status_fd: int = STATUS_FD) -> NoReturn:
    """Run the program in this (already isolated) process and exit; never returns.

    Called in a freshly forked child (fork mode) or in a fresh interpreter (exec mode), with
    fds 0-2 already redirected and `status_fd` open for the final report.
    """
    code = 1
    compiling = False
    report: dict[str, Any] = {"exception": None, "segment": 0}
    try:
        _reset_signals()
        _fresh_stdio()
        os.environ["HOME"] = os.environ["TMPDIR"] = workdir
        os.environ.pop("PYTHONSTARTUP", None)
        tempfile.tempdir = None  # forget the server's choice; re-read TMPDIR
        sys.argv = [program.filename]
        sys.path[0] = workdir
        main = types.ModuleType("__main__")
        main.__dict__.update(__builtins__=builtins, __file__=program.filename)
        sys.modules["__main__"] = main
        atexit._clear()
        source_lines = "".join(_padded(seg) + "\n" for seg in program.segments)
        lines = source_lines.splitlines(keepends=True)
        # Merge every segment into the line cache so tracebacks can print the source lines.
        linecache.cache[program.filename] = (len(source_lines), None, lines, program.filename)
        try:
            # Compile everything first: a syntax error anywhere means nothing runs, as in a file.
            compiling = True
            compiled = []
            for index, seg in enumerate(program.segments):
                report["segment"] = index
                compiled.append(compile(_padded(seg), program.filename, "exec",
                                        dont_inherit=True))
            compiling = False
            child_checks.start([seg.errors_allowed for seg in program.segments])
            for index, (seg, obj) in enumerate(zip(program.segments, compiled, strict=True)):
                if index:
                    child_checks.collect_garbage()  # findings of the block before: its own
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os.write(1, SEGMENT_MARK.encode())
                    os.write(2, SEGMENT_MARK.encode())
                report["segment"] = index
                child_checks.enter_segment(index, seg.deprecations_allowed)
                exec(obj, main.__dict__)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException as exc:
            kind = type(exc)
            report["exception"] = f"{kind.__module__}.{kind.__qualname__}"
            report["compile_failed"] = compiling
            # Drop this function's own frame: the traceback starts in the program.
            tb = exc.__traceback__
            tb = None if compiling or tb is None else tb.tb_next
            traceback.print_exception(exc.with_traceback(tb))
            code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        with contextlib.suppress(BaseException):
            shutdown = getattr(threading, "_shutdown", None)
            if shutdown is not None and threading.active_count() > 1:
                shutdown()  # wait for non-daemon threads, as interpreter exit does
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        child_checks.collect_garbage()
        report["findings"] = child_checks.findings()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
        with contextlib.suppress(BaseException):
            sys.stderr.flush()
        with contextlib.suppress(BaseException):
            os.write(status_fd, json.dumps(report).encode())
    finally:
        os._exit(code & 0xFF if code >= 0 else 1)


def _exec_child_main(status_fd: int, program_fd: int) -> NoReturn:
    """Entry point of exec mode: read the program from a pipe, then run it."""
    with os.fdopen(program_fd, "rb") as handle:
        data = json.loads(handle.read())
    os.set_inheritable(status_fd, False)
    run_in_child(Program.from_json(data["program"]), data["workdir"], status_fd)


# ---------------------------------------------------------------------------- supervision


def _become_subreaper() -> None:
    """Orphaned descendants get reparented to us (not PID 1), so we can reap them."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_group(pgid: int, reap_others: bool) -> dict[int, int]:
    """Collect exited members of the group that are our children (no zombies left behind).

    Returns their exit codes by pid: the leader may be among them.
    """
    reaped: dict[int, int] = {}
    while reap_others:
        try:
            pid, status = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped[pid] = _decode_status(status)
    return reaped


def _kill_group(pgid: int, reap: Callable[[], None]) -> bool:
    """SIGTERM, a short grace, SIGKILL; True if the group is gone. Every wait is bounded."""
    for sig, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        reap()
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            reap()
            if not _group_alive(pgid):
                return True
            time.sleep(0.005)
    reap()
    return not _group_alive(pgid)


def _marked_or_adopted(token: str, adopted: bool) -> set[int]:
    """Live processes (not zombies) carrying the program's marker, plus, if `adopted`, our
    own children (in the fork server: whatever the finished program left behind).

    /proc/PID/environ shows the environment a process was exec'd with, so a descendant that
    forked without exec (its environ is the fork server's) is found as an adopted child
    instead, once its parents are gone.
    """
    needle = f"\0{MARKER_ENV}={token}\0".encode()
    me = os.getpid()
    found: set[int] = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
            # After the command's closing parenthesis: " STATE PPID ..."
            state, ppid = stat[stat.rfind(b")") + 2:].split(maxsplit=2)[:2]
            if state == b"Z":
                continue
            if adopted and int(ppid) == me:
                found.add(int(name))
                continue
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read()
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
        if needle in b"\0" + environ + b"\0":
            found.add(int(name))
    return found


def _has_children() -> bool:
    """Whether this process has any child, live or zombie, without reaping one."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _sweep(token: str, adopted: bool, reap: Callable[[], None]) -> bool:
    """End what the program left outside its process group; True if nothing is left.

    SIGTERM, a short grace, SIGKILL, each wait bounded; every turn looks again, because
    killing a process reparents its children (to the subreaper) and lets them be found.
    `adopted` (only in the fork server, whose children are all the program's) also kills
    and reaps every child of this process. A Linux /proc is needed; without it, nothing.
    """
    reap()
    if adopted and not _has_children():
        return True  # a subreaper without children: no descendant can be alive
    if not os.path.isdir("/proc"):
        return True
    for sig, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        signalled: set[int] = set()
        deadline = time.monotonic() + wait_s
        while True:
            reap()
            alive = _marked_or_adopted(token, adopted)
            if not alive:
                return True
            for pid in alive - signalled:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            signalled |= alive
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)
    reap()
    return not _marked_or_adopted(token, adopted)


def _reap_any() -> None:
    """Collect every exited child (the fork server only: all its children are leftovers)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@dataclasses.dataclass
class _Child:
    pid: int
    out: int
    err: int
    status: int
    workdir: str
    reaper: Callable[[], int | None]  # non-blocking: the exit code once the child has exited
    reap_others: bool
    token: str = ""  # the MARKER_ENV value of this program and its descendants


def _decode_status(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def _spawn_fork(program: Program, workdir: str) -> _Child:
    token = secrets.token_hex(16)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.setsid()
            os.environ[MARKER_ENV] = token  # putenv: every exec'd descendant inherits it
            os.chdir(workdir)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(st_w, STATUS_FD)
            os.set_inheritable(STATUS_FD, False)
            os.closerange(STATUS_FD + 1, os.sysconf("SC_OPEN_MAX"))
            run_in_child(program, workdir)
        finally:
            os._exit(70)
    for fd in (out_w, err_w, st_w):
        os.close(fd)
    returncode: list[int] = []

    def reaper() -> int | None:
        if not returncode:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if done == 0:
                return None
            returncode.append(_decode_status(status))
        return returncode[0]

    return _Child(pid, out_r, err_r, st_r, workdir, reaper, reap_others=True, token=token)


def _spawn_exec(program: Program, workdir: str) -> _Child:
    """A fresh interpreter per program: the fallback where fork() is unavailable or unwanted."""
    token = secrets.token_hex(16)
    st_r, st_w = os.pipe()
    prog_r, prog_w = os.pipe()
    env = dict(os.environ, HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1")
    env[MARKER_ENV] = token
    bootstrap = (
        "import sys\nfrom twnotes.runner import _exec_child_main\n"
        "_exec_child_main(int(sys.argv[1]), int(sys.argv[2]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", bootstrap, str(st_w), str(prog_r)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=env, start_new_session=True, pass_fds=(st_w, prog_r),
    )
    os.close(st_w)
    os.close(prog_r)
    with os.fdopen(prog_w, "wb") as handle:
        handle.write(json.dumps({"program": program.to_json(), "workdir": workdir}).encode())
    assert proc.stdout is not None and proc.stderr is not None
    out, err = os.dup(proc.stdout.fileno()), os.dup(proc.stderr.fileno())
    proc.stdout.close()
    proc.stderr.close()
    return _Child(proc.pid, out, err, st_r, workdir, proc.poll, reap_others=False,
                  token=token)


def _read_available(fd: int) -> bytes | None:
    """One chunk, b"" if nothing right now, None at end of file."""
    try:
        data = os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return b""
    return data if data else None


def supervise(program: Program, spawn: Callable[[Program, str], _Child]) -> Outcome:
    """Spawn the program, watch it to the end, clean up after it; always returns an Outcome."""
    workdir = tempfile.mkdtemp(prefix="twnotes-snippet-")
    start = time.monotonic()
    try:
        child = spawn(program, workdir)
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        return Outcome("error", None, "", "", (), None, False, False, False, 0.0, 0,
                       f"could not start: {exc}")
    buffers = {child.out: bytearray(), child.err: bytearray(), child.status: bytearray()}
    total = 0
    truncated = interrupted = False
    status: Status = "exited"
    sel = selectors.DefaultSelector()
    for fd in buffers:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    # A pidfd becomes readable when the child exits: no polling delay after the last output.
    pidfd = -1
    if hasattr(os, "pidfd_open"):
        with contextlib.suppress(OSError):
            pidfd = os.pidfd_open(child.pid)
            sel.register(pidfd, selectors.EVENT_READ)
    deadline = start + program.timeout
    stop_at = start + program.stop_after if program.stop_after is not None else None

    def pump(fd: int) -> bool:
        """Read what is there; False once the output limit is passed."""
        nonlocal total, truncated
        while True:
            data = _read_available(fd)
            if data is None:
                sel.unregister(fd)
                return True
            if not data:
                return True
            if fd != child.status:
                room = program.output_limit - total
                total += len(data)
                if len(data) > room:
                    buffers[fd] += data[: max(room, 0)]
                    truncated = True
                    return False
            buffers[fd] += data

    returncode: int | None = None
    try:
        while True:
            returncode = child.reaper()
            if returncode is not None:
                break
            now = time.monotonic()
            if now >= deadline:
                status = "timed_out"
                break
            if stop_at is not None and not interrupted and now >= stop_at:
                interrupted = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGINT)
            wake = min(deadline, stop_at if stop_at and not interrupted else deadline)
            # Without a pidfd, poll the exit every 20 ms: a grandchild may hold the pipes open.
            poll = 0.02 if pidfd < 0 else 1.0
            for key, _ in sel.select(timeout=max(0.0, min(wake - now, poll))):
                if key.fd == pidfd:
                    continue  # the child exited: the reaper sees it on the next turn
                if not pump(int(key.fd)):
                    status = "output_limit"
                    break
            if status == "output_limit":
                break
        if pidfd >= 0:
            sel.unregister(pidfd)
        # Drain what the program wrote just before it ended.
        if status == "exited":
            for key in list(sel.get_map().values()):
                if not pump(int(key.fd)):
                    status = "output_limit"
        reap_others = child.reap_others

        def reap() -> None:
            nonlocal returncode
            if returncode is None:
                returncode = child.reaper()
            others = _reap_group(child.pid, reap_others)
            if returncode is None and child.pid in others:
                returncode = others[child.pid]

        gone = _kill_group(child.pid, reap)
        if returncode is None:
            returncode = child.reaper()

        def reap_all() -> None:
            reap()
            if reap_others and returncode is not None:
                _reap_any()  # the program's own exit code is safe: leftovers only

        # Then what left the group: new sessions and groups, found by marker or adoption.
        gone = _sweep(child.token, reap_others, reap_all) and gone
        for key in list(sel.get_map().values()):
            if status != "output_limit" and not truncated:
                pump(int(key.fd))
    finally:
        sel.close()
        for fd in [*buffers, pidfd] if pidfd >= 0 else buffers:
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
    duration = time.monotonic() - start
    stdout = buffers[child.out].decode("utf-8", errors="replace")
    stderr = buffers[child.err].decode("utf-8", errors="replace")
    report: dict[str, Any] = {}
    with contextlib.suppress(ValueError, AttributeError):
        report = json.loads(bytes(buffers[child.status]) or b"{}")
    parts = _split(stdout, len(program.segments))
    err_parts = _split(stderr, len(program.segments))
    # Without a final report (killed, timed out) the marks tell which segment was running.
    segment = report.get("segment", max(len(stdout.split(SEGMENT_MARK)) - 1, 0))
    return Outcome(
        status=status, returncode=returncode, stdout="".join(parts), stderr="".join(err_parts),
        segments_stdout=parts, exception=report.get("exception"), interrupted=interrupted,
        truncated=truncated, leftover=not gone, duration_s=round(duration, 4), pid=child.pid,
        segments_stderr=err_parts, segment=int(segment),
        findings=tuple(report.get("findings", ())),
        compile_failed=bool(report.get("compile_failed", False)),
    )


def _split(text: str, count: int) -> tuple[str, ...]:
    parts = text.split(SEGMENT_MARK)
    return tuple(parts + [""] * (count - len(parts)))


# ---------------------------------------------------------------------------- the server


def _readline_fd(fd: int) -> bytes:
    """One line from a pipe, unbuffered (nothing after it is consumed)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return bytes(line)


def serve(stdin: Any, stdout: Any) -> int:
    """One fork server: read Programs, answer Outcomes, one JSON line each, until EOF."""
    _become_subreaper()
    stdout.write(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")
    stdout.flush()
    for line in iter(stdin.readline, b""):
        program = Program.from_json(json.loads(line))
        outcome = supervise(program, _spawn_fork)
        stdout.write(json.dumps(outcome.to_json()).encode() + b"\n")
        stdout.flush()
    return 0


def serve_group(pairs: Sequence[tuple[int, int]]) -> int:
    """The zygote: wait for the preload list on the first pipe, import it once, then fork
    one fork server per pipe pair (each answers on its own pair) and wait for them all.

    One preload for all servers, not one each: on a 2-core machine the second import of
    Twisted was a third of a second of CPU. The zygote is no subreaper (its children are the
    servers, each a subreaper for its own programs' descendants).
    """
    # Ctrl-C in a terminal reaches the whole foreground group, servers included: a server
    # finishes (and cleans up) its current program and leaves when the client closes stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    first = _readline_fd(pairs[0][0])
    if not first:
        return 0  # the client left before it knew what to preload
    culprit, why = preload_rules.import_ahead(json.loads(first)["preload"])
    if culprit:
        os.write(pairs[0][1], json.dumps({"ready": False, "exclude": culprit, "why": why})
                 .encode() + b"\n")
        return 3
    gc.freeze()  # the preloaded objects: never scanned by a child's gc.collect(), never copied
    pids = []
    for k, (read_fd, write_fd) in enumerate(pairs):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - a server
            code = 70
            try:
                for j, (r, w) in enumerate(pairs):
                    if j != k:
                        os.close(r)
                        os.close(w)
                code = serve(os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb"))
            finally:
                os._exit(code)
        pids.append(pid)
    for r, w in pairs:
        os.close(r)
        os.close(w)
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return 0


# ---------------------------------------------------------------------------- the client


def fork_available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "setsid") and hasattr(os, "killpg")


class _Server:
    """The client's end of one fork server: a pipe pair."""

    def __init__(self, to_server: int, from_server: int) -> None:
        self.stdin = os.fdopen(to_server, "wb")
        self.stdout = os.fdopen(from_server, "rb")
        self.pid = 0

    def readline(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            raise RunnerError("fork server exited")
        data: dict[str, Any] = json.loads(line)
        return data

    def send(self, data: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(data).encode() + b"\n")
        self.stdin.flush()

    def run(self, program: Program) -> Outcome:
        self.send(program.to_json())
        return Outcome.from_json(self.readline())

    def close(self) -> None:
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class _Group:
    """A zygote process and the fork servers it forks once it has preloaded.

    Started early (`spawn`, before the client knows what to preload: the interpreter and
    this module load meanwhile), given its preload list later (`start`). A module that made
    the zygote unfit (see `preload`) is left out and a new zygote started without it.
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
        names = list(preload)
        while True:
            self.servers[0].send({"preload": names})
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
        the zygote, which waits for its servers; bounded, then killed."""
        for server in self.servers:
            server.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            for server in self.servers:
                if server.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(server.pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(timeout=5)


class Runner:
    """Runs programs, `workers` at a time, through fork servers started on first use.

    mode "fork" (default where available) uses the servers; "exec" starts a fresh interpreter
    per program from the calling thread (slower, same isolation minus zombie reaping).
    """

    def __init__(self, workers: int | None = None, mode: str | None = None,
                 preload: Sequence[str] | None = None, extra_preload: Sequence[str] = ()
                 ) -> None:
        """`preload`: exactly what the servers import; None (the default) means what the
        first programs run import (twnotes.preload), plus `extra_preload`."""
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

    def plan(self, programs: Sequence[Program]) -> None:
        """Fix the preload from these programs' imports, unless it is fixed already."""
        if self.preload is None:
            self.preload = preload_rules.preload_for(
                (seg.code for p in programs for seg in p.segments), self.extra_preload)

    def run(self, program: Program) -> Outcome:
        if self.mode == "exec":
            return supervise(program, _spawn_exec)
        self.plan([program])
        server = self._acquire()
        try:
            outcome = server.run(program)
        except (RunnerError, OSError, ValueError) as exc:
            # The server died (it should not): replace it so later programs still run.
            server.close()
            with self._lock:
                for replacement in self._start(1):
                    self._idle.put(replacement)
            return Outcome("error", None, "", "", (), None, False, False, False, 0.0, 0,
                           f"runner failed: {exc}")
        self._idle.put(server)
        return outcome

    def run_all(self, programs: Sequence[Program]) -> list[Outcome]:
        """Outcomes in the order of `programs`, run `workers` at a time."""
        if not programs:
            return []
        self.plan(programs)
        if len(programs) == 1 or self.workers == 1:
            return [self.run(p) for p in programs]
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            return list(pool.map(self.run, programs))
        finally:
            # After Ctrl-C, the programs not started yet are dropped, not run.
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            groups, self._groups = self._groups, []
            if self._spare is not None:
                groups.append(self._spare)
                self._spare = None
            self._ready = False
        for group in groups:
            group.close()


def run_program(program: Program, mode: str | None = None) -> Outcome:
    """One program, start to finish (tests and one-off use)."""
    with Runner(workers=1, mode=mode) as runner:
        return runner.run(program)


def _main(argv: Iterable[str]) -> int:
    args = list(argv)
    if len(args) == 2 and args[0] == "--group":
        return serve_group([(int(r), int(w)) for r, w in json.loads(args[1])])
    print("usage: python -m twnotes.runner --group JSON-LIST-OF-FD-PAIRS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(_main(sys.argv[1:]))
    except OSError as exc:  # pragma: no cover
        if exc.errno == errno.EPIPE:
            sys.exit(0)
        raise

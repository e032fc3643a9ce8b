"""The fork servers: one zygote imports what the programs need, then forks one server per
worker; each server forks one child per program and supervises it.

Why a fork server: a fresh interpreter that imports Twisted costs about 0.3 s, a child forked
from a process that has already imported Twisted's modules costs a few milliseconds. The
servers import those modules but never `twisted.internet.reactor` (see preload), so a program
may still pick its reactor, and a reactor is never shared: each program gets a new process,
which is also the only way to run several `reactor.run()` programs.

Isolation, per program: its own session and process group (`setsid`), a fresh temporary
working directory that is also its HOME and TMPDIR, stdin on /dev/null, a wall-clock timeout,
output read through a bounded buffer, and, when it ends for whatever reason, its group and
everything it left behind are ended (sweep). Limits: a program can always write to an
absolute path. This guards against accidents, it is not a security sandbox.

Kept small on purpose (it imports neither dataclasses nor the client): the kernel copies a
server's page tables for every program it forks, so each megabyte costs every program.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys

from twnotes.runner import child_checks, patterns, sweep
from twnotes.runner.child import prepare_signals, prepare_stdio, run_in_child
from twnotes.runner.protocol import MARKER_ENV, STATUS_FD
from twnotes.runner.supervise import Child, Workdirs, supervise

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, BinaryIO


def _child_side(program: dict[str, Any], workdir: str,
                fds: tuple[int, int, int]) -> None:  # pragma: no cover - in the child
    os.setsid()
    os.chdir(workdir)
    for fd, target in zip(fds, (1, 2, STATUS_FD), strict=True):  # fd 0: prepare_stdio
        os.dup2(fd, target)
    os.set_inheritable(STATUS_FD, False)
    os.closerange(STATUS_FD + 1, _OPEN_MAX)
    run_in_child(program, workdir)


_OPEN_MAX = os.sysconf("SC_OPEN_MAX")


def spawn_fork(program: dict[str, Any], workdir: str) -> Child:
    token = os.urandom(16).hex()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    st_r, st_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # The child's environment is made here, before the fork, not in every child: its pages
    # are then written once by the server, not copied by each child.
    os.environ.update({MARKER_ENV: token, "HOME": workdir, "TMPDIR": workdir})
    first = program["segments"][:1]  # the warning policy of the segment that runs first
    child_checks.set_warnings_env(not first or bool(first[0]["deprecations_allowed"]))
    gc.freeze()  # what the server holds now: never scanned by the child's collections
    patterns.mark_fork()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            _child_side(program, workdir, (out_w, err_w, st_w))
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
            returncode.append(os.waitstatus_to_exitcode(status))
        return returncode[0]

    return Child(pid, out_r, err_r, st_r, reaper, reap_others=True, token=token)


def _learn(report: bytes) -> None:
    """Between two programs: what the last one taught the server (see patterns). The
    report is parsed only when it has something to teach (most say which segment ran)."""
    if b'"patterns"' not in report:
        return
    with contextlib.suppress(ValueError):
        data = json.loads(report)
        if isinstance(data, dict):
            patterns.learn(data.get("patterns"))


def serve(stdin: BinaryIO, stdout: BinaryIO, tmp_base: str) -> int:
    """One fork server: read programs, answer outcomes, one JSON line each, until EOF.

    The client may send the next program before the answer to the last one has arrived:
    it waits in the pipe, so the server goes from one program straight to the next.
    """
    sweep.become_subreaper()
    child_checks.prepare()
    prepare_signals()
    prepare_stdio()
    stdout.write(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")
    stdout.flush()
    workdirs = Workdirs(tmp_base)
    try:
        for line in iter(stdin.readline, b""):
            program = json.loads(line)
            outcome = supervise(program, spawn_fork, workdirs, _learn)
            stdout.write(json.dumps(outcome).encode() + b"\n")
            stdout.flush()
    finally:
        workdirs.close()
    return 0


def _warm_name_lookups() -> None:
    """A process's first host name lookup loads the C library's name service configuration
    and Python's idna codec (encodings.idna, stringprep): about 2 ms, and twisted.mail.smtp
    calls socket.getfqdn() when imported, in each program. Done once here, for programs that
    use sockets, and only through /etc/hosts (the server never sends a DNS query). Each
    program still makes its own lookups."""
    socket = sys.modules.get("socket")
    if socket is None:
        return
    with contextlib.suppress(OSError, UnicodeError):
        with open("/etc/hosts", encoding="utf-8") as hosts:
            if not any("localhost" in line.split("#")[0].split()[1:] for line in hosts):
                return
        socket.getaddrinfo("localhost", None)


def _readline_fd(fd: int) -> bytes:
    """One line from a pipe, unbuffered (nothing after it is consumed)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return bytes(line)


def _fork_servers(pairs: Sequence[tuple[int, int]], tmp_base: str) -> list[int]:
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
                code = serve(os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb"), tmp_base)
            finally:
                os._exit(code)
        pids.append(pid)
    return pids


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
    request = json.loads(first)
    if request["preload"]:
        from twnotes.runner import preload

        culprit, why = preload.import_ahead(request["preload"])
        if culprit:
            os.write(pairs[0][1], json.dumps({"ready": False, "exclude": culprit, "why": why})
                     .encode() + b"\n")
            return 3
    _warm_name_lookups()
    gc.freeze()  # the preloaded objects: never scanned by a child's gc.collect(), never copied
    pids = _fork_servers(pairs, str(request["tmp"]))
    for r, w in pairs:
        os.close(r)
        os.close(w)
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return 0


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if len(args) == 2 and args[0] == "--group":
        return serve_group([(int(r), int(w)) for r, w in json.loads(args[1])])
    print("usage: python -m twnotes.runner --group JSON-LIST-OF-FD-PAIRS", file=sys.stderr)
    return 2

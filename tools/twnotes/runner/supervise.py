"""Watching one program from start to end: its output through a bounded buffer, its wall
clock, its SIGINT (`stop_after`), and the clean-up after it (group, leftovers, workdir).

Works on the wire form of a program (the dict `Program.to_json()` gives) and returns the
wire form of its Outcome, so that the fork server needs neither dataclasses nor the client.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import stat
import time

from twnotes.runner import sweep
from twnotes.runner.protocol import error_outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

READ_CHUNK = 1 << 16
QUIET_S = 0.05  # see _Watch._quiet_wait


class Child:
    """A started program: its pid (also its process group), the read ends of its pipes."""

    __slots__ = ("err", "out", "pid", "reap_others", "reaper", "status", "token")

    def __init__(self, pid: int, out: int, err: int, status: int,
                 reaper: Callable[[], int | None], reap_others: bool, token: str) -> None:
        self.pid = pid
        self.out = out
        self.err = err
        self.status = status
        self.reaper = reaper  # non-blocking: the exit code once the child has exited
        self.reap_others = reap_others  # its descendants are our children (fork server)
        self.token = token  # the MARKER_ENV value of this program and its descendants


class Workdirs:
    """Fresh private directories: each program's working directory, HOME and TMPDIR.

    A directory the program left empty (and as it was made) is handed to the next program
    instead of being removed: on a disk mounted with `discard`, rmdir took 2-3 ms, longer
    than a small program's whole run. Anything else is removed at once.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.spare: str | None = None

    def take(self) -> str:
        if self.spare is not None:
            path, self.spare = self.spare, None
            return path
        while True:
            path = os.path.join(self.base, f"twnotes-snippet-{os.urandom(6).hex()}")
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue
            return path

    def give_back(self, path: str) -> None:
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if (self.spare is None and stat.S_ISDIR(info.st_mode)
                    and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
                    and not os.listdir(path)):
                self.spare = path
                return
        import shutil

        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        if self.spare is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.spare)
            self.spare = None


def _read_available(fd: int) -> bytes | None:
    """One chunk, b"" if nothing right now, None at end of file."""
    try:
        data = os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return b""
    return data if data else None


class _Watch:
    """One started program until it has ended and everything it left is gone."""

    def __init__(self, program: dict[str, Any], child: Child, start: float) -> None:
        self.program = program
        self.child = child
        self.start = start
        self.buffers = {child.out: bytearray(), child.err: bytearray(),
                        child.status: bytearray()}
        self.total = 0
        self.truncated = self.interrupted = False
        self.status = "exited"
        self.returncode: int | None = None
        # poll(), not selectors: no epoll instance and no key objects per program (the
        # server's every allocation between two forks copies a page the child shares).
        # Made only if the program outlives the quiet wait (see wait).
        self.poller: select.poll | None = None
        self.open_fds = set(self.buffers)  # not at end of file yet
        for fd in self.buffers:
            os.set_blocking(fd, False)
        # A pidfd becomes readable when the child exits: no polling delay after the output.
        self.pidfd = -1
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                self.pidfd = os.pidfd_open(child.pid)

    def _poll(self, timeout_ms: int) -> list[tuple[int, int]]:
        if self.poller is None:
            self.poller = select.poll()
            for fd in (*sorted(self.open_fds), self.pidfd):
                if fd >= 0:
                    self.poller.register(fd, select.POLLIN)
        return self.poller.poll(timeout_ms)

    def pump(self, fd: int) -> bool:
        """Read what is there; False once the output limit is passed."""
        buffer = self.buffers[fd]
        while True:
            data = _read_available(fd)
            if data is None:
                if self.poller is not None:
                    self.poller.unregister(fd)
                self.open_fds.discard(fd)
                return True
            if not data:
                return True
            if fd != self.child.status:
                room = int(self.program["output_limit"]) - self.total
                self.total += len(data)
                if len(data) > room:
                    buffer += data[: max(room, 0)]
                    self.truncated = True
                    return False
            buffer += data

    def _turn(self, deadline: float, stop_at: float | None) -> bool:
        """One wait for output, exit or a deadline; True when the program is over."""
        self.returncode = self.child.reaper()
        if self.returncode is not None:
            return True
        now = time.monotonic()
        if now >= deadline:
            self.status = "timed_out"
            return True
        if stop_at is not None and not self.interrupted and now >= stop_at:
            self.interrupted = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGINT)
        wake = min(deadline, stop_at) if stop_at is not None and not self.interrupted \
            else deadline
        # Without a pidfd, poll the exit every 20 ms: a grandchild may hold the pipes open.
        poll = 0.02 if self.pidfd < 0 else 1.0
        wait_ms = math.ceil(max(0.0, min(wake - now, poll)) * 1000)
        for fd, _ in self._poll(wait_ms):
            if fd != self.pidfd and fd in self.open_fds and not self.pump(fd):
                self.status = "output_limit"
                return True
        return False

    def wait(self) -> None:
        stop_after = self.program["stop_after"]
        stop_at = None if stop_after is None else self.start + float(stop_after)
        deadline = self.start + float(self.program["timeout"])
        self._quiet_wait(min(deadline, stop_at) if stop_at is not None else deadline)
        while not self._turn(deadline, stop_at):
            pass
        if self.pidfd >= 0 and self.poller is not None:
            self.poller.unregister(self.pidfd)
        if self.status == "exited":  # what the program wrote just before it ended
            for fd in sorted(self.open_fds):
                if not self.pump(fd):
                    self.status = "output_limit"

    def _quiet_wait(self, until: float) -> None:
        """Wait for the exit alone, for at most QUIET_S, leaving the output in the pipes
        (64 KiB each; a program that fills one waits until the server reads): while the
        program lives, each page the server writes is copied, the program still sharing
        it; after its exit the same write only takes the page back. Most snippets end
        within that time, so the server does nothing at all while they run."""
        wait_s = min(QUIET_S, until - time.monotonic())
        if self.pidfd < 0 or wait_s <= 0:
            return
        quiet = select.poll()
        quiet.register(self.pidfd, select.POLLIN)
        quiet.poll(math.ceil(wait_s * 1000))

    def reap(self) -> None:
        if self.returncode is None:
            self.returncode = self.child.reaper()
        if self.child.reap_others:
            others = sweep.reap_group(self.child.pid)
            if self.returncode is None and self.child.pid in others:
                self.returncode = others[self.child.pid]

    def _reap_all(self) -> None:
        self.reap()
        if self.child.reap_others and self.returncode is not None:
            sweep.reap_any()  # the program's own exit code is safe: leftovers only

    def clean_up(self) -> bool:
        """End its group, then what left the group; True if nothing is left."""
        gone = sweep.escalate(sweep.group_sender(self.child.pid), self.reap)
        if self.returncode is None:
            self.returncode = self.child.reaper()
        gone = sweep.sweep(self.child.token, self.child.reap_others, self._reap_all) and gone
        if self.status != "output_limit" and not self.truncated:
            for fd in sorted(self.open_fds):
                self.pump(fd)
        return gone

    def close(self) -> None:
        for fd in [*self.buffers, self.pidfd] if self.pidfd >= 0 else self.buffers:
            with contextlib.suppress(OSError):
                os.close(fd)

    def outcome(self, gone: bool) -> dict[str, Any]:
        """The outcome's wire form as the server sends it (protocol.expand makes the rest:
        splitting per segment and reading the child's report is the client's work, not
        done between two forks)."""
        raw = bytes(self.buffers[self.child.status])
        return {
            "status": self.status, "returncode": self.returncode,
            "stdout": self.buffers[self.child.out].decode("utf-8", errors="replace"),
            "stderr": self.buffers[self.child.err].decode("utf-8", errors="replace"),
            "interrupted": self.interrupted, "truncated": self.truncated,
            "leftover": not gone, "duration_s": round(time.monotonic() - self.start, 4),
            "pid": self.child.pid, "segments": len(self.program["segments"]),
            "report": raw.decode("utf-8", errors="replace"),
        }


def supervise(program: dict[str, Any], spawn: Callable[[dict[str, Any], str], Child],
              workdirs: Workdirs,
              on_report: Callable[[bytes], None] | None = None) -> dict[str, Any]:
    """Spawn the program, watch it to the end, clean up after it; always an outcome.
    `on_report` gets the child's own final report as it wrote it (JSON, see child; empty
    if it wrote none)."""
    workdir = workdirs.take()
    start = time.monotonic()
    try:
        child = spawn(program, workdir)
    except OSError as exc:
        workdirs.give_back(workdir)
        return error_outcome(f"could not start: {exc}")
    watch = _Watch(program, child, start)
    try:
        watch.wait()
        gone = watch.clean_up()
    finally:
        watch.close()
        workdirs.give_back(workdir)  # after the sweep: nothing of the program is left
    outcome = watch.outcome(gone)
    if on_report is not None:
        on_report(bytes(watch.buffers[child.status]))
    return outcome

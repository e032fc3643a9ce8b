"""Ending what a program leaves behind: its process group, then whatever left the group.

A process group is not the whole tree: a descendant may start a new session (`setsid`,
`start_new_session=True`, Twisted's `spawnProcess(usePTY=True)`). So after the group, a sweep
ends the rest: every program runs with a unique marker in its environment
(`TWNOTES_SNIPPET=<token>`), inherited by everything it starts, and the sweep signals every
process whose /proc/PID/environ carries it. The fork server is also a child subreaper (Linux),
so every orphaned descendant is reparented to it: any child the server has once its program
is over is a leftover of that program, marked or not, and is killed and reaped too. When
the server has no child left at all (the common case), no /proc walk is needed.

`escalate` is the one TERM -> KILL loop of the code base; every wait in it is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

from twnotes.runner.protocol import KILL_WAIT_S, MARKER_ENV, TERM_GRACE_S

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

POLL_S = 0.005


def escalate(send: Callable[[int], bool], reap: Callable[[], None],
             grace_s: float = TERM_GRACE_S, kill_wait_s: float = KILL_WAIT_S) -> bool:
    """SIGTERM, a grace, SIGKILL, a bounded wait; True once nothing is left.

    `send(sig)` signals what is still there and says whether anything was; `send(0)` only
    looks (and may signal newcomers with the signal of the current stage). `reap` collects
    exited children between looks.
    """
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, kill_wait_s)):
        reap()
        if not send(sig):
            return True
        deadline = time.monotonic() + wait_s
        while True:
            time.sleep(POLL_S)  # a signalled process needs a moment to die
            reap()
            if not send(0):
                reap()  # what died just before the look: no zombie left behind
                return True
            if time.monotonic() >= deadline:
                break
    reap()
    return not send(0)


def become_subreaper() -> None:
    """Orphaned descendants get reparented to us (not PID 1), so we can reap them."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def group_sender(pgid: int) -> Callable[[int], bool]:
    """A `send` for escalate: the whole process group at once."""

    def send(sig: int) -> bool:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    return send


def reap_group(pgid: int) -> dict[int, int]:
    """Collect exited members of the group that are our children (no zombies left behind);
    their exit codes by pid (the leader may be among them)."""
    reaped: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped[pid] = os.waitstatus_to_exitcode(status)
    return reaped


def reap_any() -> None:
    """Collect every exited child (the fork server only: all its children are leftovers)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def has_children() -> bool:
    """Whether this process has any child, live or zombie, without reaping one."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _ours(name: str, needle: bytes, adopted: bool, me: int) -> bool:
    """Whether /proc/NAME is a live process carrying the marker, or (if `adopted`) our child."""
    try:
        with open(f"/proc/{name}/stat", "rb") as handle:
            stat = handle.read()
        # After the command's closing parenthesis: " STATE PPID ..."
        state, ppid = stat[stat.rfind(b")") + 2:].split(maxsplit=2)[:2]
        if state == b"Z":
            return False
        if adopted and int(ppid) == me:
            return True
        with open(f"/proc/{name}/environ", "rb") as handle:
            environ = handle.read()
    except (OSError, ValueError):
        return False  # gone meanwhile, or not ours to read
    return needle in b"\0" + environ + b"\0"


def marked_or_adopted(token: str, adopted: bool) -> set[int]:
    """Live processes (not zombies) carrying the program's marker, plus, if `adopted`, our
    own children (in the fork server: whatever the finished program left behind).

    /proc/PID/environ shows the environment a process was exec'd with, so a descendant that
    forked without exec (its environ is the fork server's) is found as an adopted child
    instead, once its parents are gone.
    """
    needle = f"\0{MARKER_ENV}={token}\0".encode()
    me = os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return set()
    return {int(name) for name in names
            if name.isdigit() and int(name) != me and _ours(name, needle, adopted, me)}


class _Leftovers:
    """A `send` for escalate: every marked (or adopted) process, each signalled once per
    stage; a look also signals the ones found since (reparented when their parent died)."""

    def __init__(self, token: str, adopted: bool) -> None:
        self.token = token
        self.adopted = adopted
        self.sig = 0
        self.signalled: set[int] = set()

    def __call__(self, sig: int) -> bool:
        if sig:
            self.sig, self.signalled = sig, set()
        alive = marked_or_adopted(self.token, self.adopted)
        if self.sig:
            for pid in alive - self.signalled:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, self.sig)
        self.signalled |= alive
        return bool(alive)


def sweep(token: str, adopted: bool, reap: Callable[[], None]) -> bool:
    """End what the program left outside its process group; True if nothing is left.

    `adopted` (only in the fork server, whose children are all the program's) also kills
    and reaps every child of this process. A Linux /proc is needed; without it, nothing.
    """
    reap()
    if adopted and not has_children():
        return True  # a subreaper without children: no descendant can be alive
    if not os.path.isdir("/proc"):
        return True
    return escalate(_Leftovers(token, adopted), reap)

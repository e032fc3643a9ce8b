"""Why Twisted code must not call os.system: it stops the reactor; spawnProcess does not.

    python examples/blocking_pitfall.py

A LoopingCall ticks every 10 ms while a child process sleeps for 0.6 s, three ways:
``os.system`` (blocks the reactor thread), ``spawnProcess`` (the reactor watches the child)
and ``deferToThread`` (a blocking call moved to a thread pool). The largest gap between two
ticks shows whether the reactor kept running. Measured values vary from run to run.

The child is Python itself, named by its full path: ``spawnProcess`` runs no shell, and on
POSIX it gives the child an *empty* environment unless ``env`` says otherwise, so a bare
program name would be looked up without the caller's ``PATH``. The last line shows that trap.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import error
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import LoopingCall, deferLater, react
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

SLEEP = 0.6  # seconds the child process (or the thread) sleeps
TICK = 0.01  # the timer we watch should fire every 10 ms
# 子进程用完整路径指明（sys.executable），不依赖 PATH；所有支持 Twisted 的平台上都能运行。
CHILD = [sys.executable, "-c", f"import time; time.sleep({SLEEP})"]
PROBE = [sys.executable, "-c", "import os; print('PATH' in os.environ)"]


class TickGaps:
    """Runs a LoopingCall and remembers the largest time between two consecutive ticks."""

    def __init__(self, clock: IReactorTime) -> None:
        self.largest = 0.0
        self.ticks = 0
        self._last = time.monotonic()
        self._loop = LoopingCall(self._tick)
        self._loop.clock = clock
        self._loop.start(TICK)

    def _tick(self) -> None:
        now = time.monotonic()
        self.largest = max(self.largest, now - self._last)
        self._last = now
        self.ticks += 1

    def stop(self) -> None:
        self._loop.stop()


class WaitForExit(ProcessProtocol):
    """Keeps what the child writes to stdout; fires ``ended`` when the child exits."""

    def __init__(self) -> None:
        self.ended: Deferred[None] = Deferred()
        self.output = b""

    def outReceived(self, data: bytes) -> None:
        self.output += data

    def processEnded(self, reason: Failure) -> None:
        # 正常退出时 reason 是 ProcessDone；其他情况（非零退出码、被信号杀死）按错误处理。
        if reason.check(error.ProcessDone):
            self.ended.callback(None)
        else:
            self.ended.errback(reason)


async def with_os_system(reactor: IReactorTime) -> None:
    # 错误示范：os.system 要等子进程结束才返回，这期间 reactor 线程被卡住，定时器无法触发。
    await deferLater(reactor, 0, os.system, shlex.join(CHILD))


async def with_spawn_process(reactor: IReactorProcess) -> None:
    # 正确做法：spawnProcess 立即返回；子进程结束时 reactor 调用 processEnded。
    # 它不经过 shell：第一个参数是可执行文件的完整路径，args 是完整的 argv（args[0] 是程序名）。
    protocol = WaitForExit()
    reactor.spawnProcess(protocol, CHILD[0], CHILD, env=os.environ)
    await protocol.ended


async def with_thread(reactor: IReactorTime) -> None:
    # 无法改写的阻塞函数：交给线程池执行，reactor 线程照常运转。
    await deferToThread(time.sleep, SLEEP)


async def measure(reactor: Any, label: str, work: Callable[[Any], Awaitable[None]]) -> None:
    gaps = TickGaps(reactor)
    started = time.monotonic()
    await work(reactor)
    finished = time.monotonic() - started
    await deferLater(reactor, 3 * TICK)  # let the timer tick again after the work
    gaps.stop()
    print(
        f"{label:<14} took {finished:.2f} s; "
        f"largest gap between 10 ms ticks: {gaps.largest:.3f} s (~{gaps.ticks} ticks)"
    )


async def environment_trap(reactor: IReactorProcess) -> None:
    # 陷阱：不传 env 时，POSIX 上的子进程得到一个空环境（没有 PATH、HOME、LANG……），
    # 而不是继承父进程的环境。getProcessOutput 等 utils 函数的默认值也一样。
    bare, inherited = WaitForExit(), WaitForExit()
    reactor.spawnProcess(bare, PROBE[0], PROBE)
    reactor.spawnProcess(inherited, PROBE[0], PROBE, env=os.environ)
    await bare.ended
    await inherited.ended
    print(
        f"PATH in the child's environment: {bare.output.decode().strip()} without env, "
        f"{inherited.output.decode().strip()} with env=os.environ"
    )


async def run(reactor: Any) -> None:
    await measure(reactor, "os.system", with_os_system)
    await measure(reactor, "spawnProcess", with_spawn_process)
    await measure(reactor, "deferToThread", with_thread)
    await environment_trap(reactor)


def main() -> None:
    react(run)


if __name__ == "__main__":
    main()

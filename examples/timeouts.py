"""Timeouts and cancellation: give up on a Deferred, and clean up behind it.

    python examples/timeouts.py

``Deferred.addTimeout`` cancels a Deferred that has not fired in time; ``cancel()`` calls
the Deferred's canceller (which stops the work: closes a connection, cancels a timer) and
fails it with ``CancelledError``. A coroutine wrapped by ``Deferred.fromCoroutine`` is
cancelled at the ``await`` where it is waiting, and its ``finally`` blocks run.

The timeout fails with ``twisted.internet.defer.TimeoutError``: neither Python's builtin
``TimeoutError`` (an ``OSError``) nor ``twisted.internet.error.TimeoutError`` (a connect
timeout), so the module name is kept in the code: ``defer.TimeoutError``.
"""

from __future__ import annotations

import builtins
import time

from poetry_client import get_poetry
from poetry_protocol import IReactorTimeTCP
from twisted.internet import defer
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import deferLater, react
from twisted.python.failure import Failure


class Silent(Protocol):
    """A server that accepts connections and never says a word."""

    factory: SilentFactory

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.factory.lost.callback(None)


class SilentFactory(Factory[Silent]):
    """Serves Silent; ``lost`` fires when its (single) connection closes."""

    protocol = Silent

    def __init__(self) -> None:
        self.lost: Deferred[None] = Deferred()


async def download_with_timeout(reactor: IReactorTimeTCP) -> None:
    print("1. addTimeout: give up on a server that never answers")
    factory = SilentFactory()
    port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(factory)
    started = time.monotonic()
    try:
        download = Deferred.fromCoroutine(
            get_poetry(reactor, f"tcp:127.0.0.1:{port.getHost().port}")
        )
        # 0.3 秒内没有结果就取消：取消会沿着 await 传到 PoetryClientProtocol.finished，
        # 它的 canceller 断开连接。
        await download.addTimeout(0.3, reactor)
    except defer.TimeoutError as error:
        # 不是内置的 TimeoutError（OSError 的子类）：except TimeoutError 接不住它。
        print(f"   gave up after {time.monotonic() - started:.2f} s: {qualified(type(error))}")
        print(f"   a builtin TimeoutError: {isinstance(error, builtins.TimeoutError)}")
    await factory.lost  # 服务器一侧也看到连接被关闭：没有遗留的连接
    print("   the server saw the connection close")
    await port.stopListening()


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


async def long_task(clock: IReactorTime) -> str:
    try:
        print("   long task: sleeping 10 s")
        # deferLater 的 Deferred 自带 canceller：取消它就撤销 reactor 里的定时器，不必手写。
        await deferLater(clock, 10)
        return "finished"
    except CancelledError:
        print("   long task: CancelledError raised at the await")
        raise
    finally:
        print("   long task: finally block runs (clean up here)")


async def cancel_coroutine(clock: IReactorTime) -> None:
    print("2. cancel(): stop a coroutine that is waiting")
    task = Deferred.fromCoroutine(long_task(clock))
    clock.callLater(0.1, task.cancel)
    try:
        await task
    except CancelledError:
        print(f"   caller: CancelledError; timers still pending: {len(clock.getDelayedCalls())}")


async def run(reactor: IReactorTimeTCP) -> None:
    await download_with_timeout(reactor)
    await cancel_coroutine(reactor)


def main() -> None:
    react(run)


if __name__ == "__main__":
    main()

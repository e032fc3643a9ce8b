"""Timeouts and cancellation: give up on a Deferred, and clean up behind it.

    python examples/timeouts.py

``Deferred.addTimeout`` cancels a Deferred that has not fired in time; ``cancel()`` calls
the Deferred's canceller (which stops the work: closes a connection, cancels a timer) and
fails it with ``CancelledError``. A coroutine wrapped by ``Deferred.fromCoroutine`` is
cancelled at the ``await`` where it is waiting, and its ``finally`` blocks run.
"""

from __future__ import annotations

import time

from poetry_client import get_poetry
from poetry_protocol import IReactorTimeTCP
from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import react
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
    except TimeoutError:
        print(f"   gave up after {time.monotonic() - started:.2f} s: TimeoutError")
    await factory.lost  # 服务器一侧也看到连接被关闭：没有遗留的连接
    print("   the server saw the connection close")
    await port.stopListening()


def sleep(clock: IReactorTime, seconds: float) -> Deferred[None]:
    """A cancellable sleep: its canceller cancels the timer, so nothing fires later."""

    def cancel(d: Deferred[None]) -> None:
        print("   canceller: cancelling the timer")
        call.cancel()

    d: Deferred[None] = Deferred(cancel)
    call = clock.callLater(seconds, d.callback, None)
    return d


async def long_task(clock: IReactorTime) -> str:
    try:
        print("   long task: sleeping 10 s")
        await sleep(clock, 10)
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
    react(lambda reactor: Deferred.fromCoroutine(run(reactor)))


if __name__ == "__main__":
    main()

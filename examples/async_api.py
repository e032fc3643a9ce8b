"""Writing an asynchronous API of our own, and what happens when sync code calls it.

    python examples/async_api.py

An asynchronous function returns at once, with a Deferred: the result comes later, through
callbacks (or ``await``). Synchronous code that calls it gets the Deferred, not the result,
and cannot wait for it without blocking the reactor: so callers must be asynchronous too.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import react


def slow_square(reactor: IReactorTime, n: int) -> Deferred[int]:
    """Our own asynchronous API: the square of n, delivered 0.1 s later."""
    # 像 Twisted 自己那样：先返回一个尚未触发的 Deferred，稍后再用结果触发它。
    result: Deferred[int] = Deferred()
    reactor.callLater(0.1, result.callback, n * n)
    return result


def sync_caller(reactor: IReactorTime) -> None:
    # 错误示范：把异步 API 当同步函数用。拿到的是 Deferred，结果还没有出来；
    # 这里也不能“等一等”（time.sleep 会让 reactor 停住，结果永远不会到来）。
    value = slow_square(reactor, 3)
    print(f"sync caller got a {type(value).__name__}, fired yet: {value.called}")


def callback_caller(reactor: IReactorTime) -> Deferred[None]:
    # 回调风格：告诉 Deferred 结果出来以后做什么，然后立即返回。
    # addCallback returns the same Deferred, typed with the new callback's result.
    return (
        slow_square(reactor, 4)
        .addCallback(lambda square: square + 1)
        .addCallback(lambda value: print(f"callbacks: 4 * 4 + 1 = {value}"))
    )


async def await_caller(reactor: IReactorTime) -> None:
    # async/await 风格：读起来像同步代码，但每个 await 都会把控制权交还给 reactor。
    square = await slow_square(reactor, 5)
    print(f"await: 5 * 5 = {square}")
    # 两个调用同时进行，总共约 0.1 秒，而不是 0.2 秒。
    squares = await gatherResults([slow_square(reactor, 6), slow_square(reactor, 7)])
    print(f"await gatherResults: {squares}")


async def run(reactor: IReactorTime) -> None:
    sync_caller(reactor)
    await callback_caller(reactor)
    await await_caller(reactor)


def main() -> None:
    react(lambda reactor: Deferred.fromCoroutine(run(reactor)))


if __name__ == "__main__":
    main()

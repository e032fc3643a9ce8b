"""Writing an asynchronous API of our own, and what happens when sync code calls it.

    python examples/async_api.py

An asynchronous function returns at once, with a Deferred: the result comes later, through
callbacks (or ``await``). Synchronous code that calls it gets the Deferred, not the result,
and cannot wait for it without blocking the reactor: so callers must be asynchronous too.
Two calls overlap only when both are started before the first ``await``; the times printed
(they vary a little) show it.
"""

from __future__ import annotations

import time

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


async def one_after_another(reactor: IReactorTime) -> None:
    started = time.monotonic()
    # 第二个调用在第一个的结果出来之后才发起：两段 0.1 秒首尾相接。
    six = await slow_square(reactor, 6)
    seven = await slow_square(reactor, 7)
    print(f"one call, await, the next call: [{six}, {seven}] in {since(started)}")


async def both_started_first(reactor: IReactorTime) -> None:
    started = time.monotonic()
    # 并发来自“先发起两个调用，再 await”：两个定时器同时在走，await 的先后无关紧要。
    six, seven = slow_square(reactor, 6), slow_square(reactor, 7)
    squares = [await six, await seven]
    print(f"both calls started, then awaited: {squares} in {since(started)}")
    started = time.monotonic()
    # gatherResults 并不制造并发：它只把已经发起的 Deferred 收集成一个 list（并汇报第一个错误）。
    squares = await gatherResults([slow_square(reactor, 6), slow_square(reactor, 7)])
    print(f"await gatherResults: {squares} in {since(started)}")


def since(started: float) -> str:
    return f"{time.monotonic() - started:.2f} s"


async def run(reactor: IReactorTime) -> None:
    sync_caller(reactor)
    await callback_caller(reactor)
    await await_caller(reactor)
    await one_after_another(reactor)
    await both_started_first(reactor)


def main() -> None:
    react(run)


if __name__ == "__main__":
    main()

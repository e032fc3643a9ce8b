"""Failure and errbacks: errors travel down a Deferred's chain until something handles them.

    python examples/failures.py

A ``Failure`` wraps an exception together with its traceback, so an error raised in one
callback can be handled later, in another function, without losing where it came from.
"""

from __future__ import annotations

import gc
from typing import Any

from log_observer import log_to_stdout
from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure


def parse_port(text: str) -> int:
    return int(text)


def capture() -> None:
    print("1. a Failure keeps the exception and where it was raised")
    try:
        parse_port("eighty")
    except ValueError:
        failure = Failure()  # 在 except 块里创建：捕获当前的异常和跟踪栈
    assert failure.type is not None  # typed as optional, but always set once a Failure exists
    print(f"   type: {failure.type.__name__}; message: {failure.getErrorMessage()}")
    print(f"   raised in: {' -> '.join(frame[0] for frame in failure.frames)}")


def chain() -> None:
    print("2. an exception skips the callbacks until an errback handles it")

    def recover(failure: Failure) -> int:
        print(f"   errback got {type(failure.value).__name__}")
        return 8080  # errback 返回普通值：链恢复正常，下一个 callback 拿到它

    d: Deferred[Any] = Deferred()
    d.addCallback(parse_port)  # 抛出 ValueError：之后的 callback 被跳过
    d.addCallback(lambda port: print(f"   never printed: {port}"))
    d.addErrback(recover)
    d.addCallback(lambda port: print(f"   the chain recovered; port = {port}"))
    d.callback("eighty")


def trap() -> None:
    print("3. trap handles the expected errors and re-raises any other")
    original = ValueError("not a number")
    failure = Failure(original)
    try:
        failure.trap(KeyError, LookupError)
    except Exception as error:
        # Python 3 中 trap 重新抛出的是原来的异常对象，而不是 Failure。
        print(f"   trap re-raised {type(error).__name__}; the original object: {error is original}")

    def only_lookup_errors(failure: Failure) -> str:
        failure.trap(LookupError)  # 不是 LookupError：异常继续沿链传下去
        return "handled"

    d = fail(original)
    d.addErrback(only_lookup_errors)
    d.addErrback(
        lambda f: print(f"   next errback got {type(f.value).__name__}: {f.value is original}")
    )


def unhandled() -> None:
    print("4. an error nobody handles is logged when its Deferred is garbage-collected")

    log_to_stdout()
    d = fail(RuntimeError("forgotten"))  # 没有 errback：错误会被记入日志，而不是被默默吞掉
    del d
    gc.collect()


def main() -> None:
    capture()
    chain()
    trap()
    unhandled()


if __name__ == "__main__":
    main()

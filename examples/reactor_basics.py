"""Reactor basics: start it, schedule work, survive an exception, stop it.

    python examples/reactor_basics.py

Nothing happens until ``reactor.run()``; from then on the reactor calls our functions, one
at a time, and ``run()`` returns only after ``reactor.stop()``.
"""

from __future__ import annotations

import threading

from log_observer import log_to_stdout
from twisted.internet import reactor


def countdown(n: int) -> None:
    if n == 0:
        print("countdown done, stopping the reactor")
        reactor.stop()
        return
    print(f"countdown {n}")
    # 不要 time.sleep(0.1)：那会让整个 reactor 停住。让 reactor 在 0.1 秒后再叫我们。
    reactor.callLater(0.1, countdown, n - 1)


def broken_callback() -> None:
    raise ValueError("a bug in one callback")


def started() -> None:
    print(f"reactor running in thread {threading.current_thread().name!r}")
    countdown(3)
    # 回调里抛出的异常会被 reactor 捕获并记入日志，reactor 继续运行。
    reactor.callLater(0.15, broken_callback)


def main() -> None:
    log_to_stdout()
    # 只要 import 了 reactor，就已经有一个 reactor 了：Linux 上默认是 EPollReactor。
    print(f"reactor class: {type(reactor).__name__}")
    reactor.callWhenRunning(started)
    print("calling reactor.run()")
    reactor.run()  # 阻塞在这里，直到 reactor.stop()
    print("reactor.run() returned")


if __name__ == "__main__":
    main()

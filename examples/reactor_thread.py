"""The reactor runs in the thread that called ``reactor.run()``, not necessarily the main one.

    python examples/reactor_thread.py

Here a worker thread starts the reactor (without signal handlers, which only the main thread
may install); every callback then runs in that worker thread. Other threads must hand work
to the reactor with ``callFromThread``, the one reactor method that is thread-safe.
"""

from __future__ import annotations

import threading

from twisted.internet import reactor
from twisted.internet.interfaces import IReactorThreads


def where(label: str) -> None:
    print(f"{label}: thread {threading.current_thread().name!r}")


def main() -> None:
    ready = threading.Event()
    reactor.callWhenRunning(where, "callWhenRunning callback")
    reactor.callWhenRunning(ready.set)
    # 在工作线程里启动 reactor：之后所有回调都在这个线程里执行。
    thread = threading.Thread(
        target=reactor.run,
        kwargs={"installSignalHandlers": False},
        name="reactor-thread",
    )
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("the reactor did not start within 30 s")
    where("main() after starting the reactor")
    # 从别的线程调用 reactor 只能用 callFromThread：它把函数交给 reactor 线程去执行。
    # The reactor's static type lists only the common interfaces; adapting it to
    # IReactorThreads returns the same reactor object, typed with callFromThread.
    threads = IReactorThreads(reactor)
    threads.callFromThread(where, "callFromThread callback")
    threads.callFromThread(reactor.stop)
    thread.join(timeout=30)
    print(f"reactor thread finished: {not thread.is_alive()}")


if __name__ == "__main__":
    main()

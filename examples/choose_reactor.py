"""Choose the reactor (select, poll, epoll) and see that an idle reactor uses no CPU.

    python examples/choose_reactor.py --reactor poll
    python examples/choose_reactor.py --reactor poll --too-late

A reactor must be installed *before* anything imports ``twisted.internet.reactor``: that
import installs the platform default (epoll on Linux), and a second install raises
``ReactorAlreadyInstalledError``. Measured values are printed with decimals (they vary).
"""

from __future__ import annotations

import argparse
import time

from twisted.internet.error import ReactorAlreadyInstalledError
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall, deferLater, react


def install(name: str) -> None:
    """Install the named reactor; "default" leaves the choice to Twisted."""
    # 必须在任何代码 import twisted.internet.reactor 之前调用 install()。
    if name == "select":
        from twisted.internet import selectreactor

        selectreactor.install()
    elif name == "poll":
        from twisted.internet import pollreactor

        pollreactor.install()
    elif name == "epoll":
        from twisted.internet import epollreactor

        epollreactor.install()


class CpuMeter:
    """CPU time used by this process against wall time elapsed, since the last reading."""

    def __init__(self) -> None:
        self._cpu, self._wall = time.process_time(), time.monotonic()

    def report(self, label: str) -> None:
        cpu, wall = time.process_time() - self._cpu, time.monotonic() - self._wall
        print(f"{label}: {wall:.2f} s wall, {cpu:.3f} s CPU ({100 * cpu / wall:.1f} %)")
        self._cpu, self._wall = time.process_time(), time.monotonic()


async def measure(reactor: IReactorTime) -> None:
    print(f"running {type(reactor).__name__}")
    meter = CpuMeter()
    # 空闲：没有就绪的描述符、也没有到期的定时器时，reactor 睡在 epoll_wait/poll/select 里。
    await deferLater(reactor, 1.0)
    meter.report("idle reactor")
    calls = 0

    def spin() -> None:
        nonlocal calls
        calls += 1

    # 忙碌：间隔为 0 的 LoopingCall 让 reactor 每一轮都有活干，CPU 占用随之上升。
    loop = LoopingCall(spin)
    loop.clock = reactor
    loop.start(0)
    await deferLater(reactor, 0.5)
    loop.stop()
    meter.report("busy LoopingCall(0)")
    print(f"spin() ran ~{calls} times")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Install a reactor, then measure its CPU use.")
    parser.add_argument(
        "--reactor", choices=["default", "select", "poll", "epoll"], default="default"
    )
    parser.add_argument("--too-late", action="store_true",
                        help="import twisted.internet.reactor first, to show the error")
    args = parser.parse_args(argv)
    if args.too_late:
        from twisted.internet import reactor  # noqa: F401  # 这个 import 已经装好了默认 reactor
    try:
        install(args.reactor)
    except ReactorAlreadyInstalledError as error:
        print(f"cannot install {args.reactor}: {type(error).__name__}: {error}")
    react(measure)


if __name__ == "__main__":
    main()

"""A (deliberately slow) poetry server: one endpoint per poem, built on Twisted endpoints.

    python examples/poetry_server.py                       # three poems, until Ctrl+C
    python examples/poetry_server.py --once --delay 0.1 tcp:0:interface=127.0.0.1

Each listening endpoint prints ``serving NAME on HOST:PORT`` (flushed) so that a parent
process, like the blocking client's demo, can read the port it got from ``port=0``.
"""

from __future__ import annotations

import argparse
import itertools

from poetry_protocol import IReactorTimeTCP, PoetryServerFactory, load_poems
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.internet.task import deferLater, react

LOOPBACK_ANY_PORT = "tcp:0:interface=127.0.0.1"


async def serve(reactor: IReactorTimeTCP, args: argparse.Namespace) -> None:
    # react() starts this coroutine before reactor.run(): wait one reactor turn, so that the
    # Ctrl+C handler is installed before we announce the ports (a parent may interrupt us then).
    await deferLater(reactor, 0)
    descriptions = args.endpoints or [LOOPBACK_ANY_PORT] * 3
    listening: list[tuple[IListeningPort, PoetryServerFactory]] = []
    # 每个端点一首诗：端点描述字符串（如 "tcp:0:interface=127.0.0.1"）决定监听什么。
    for description, (name, poem) in zip(
        descriptions, itertools.cycle(load_poems()), strict=False
    ):
        factory = PoetryServerFactory(poem, args.chunk_size, args.delay, reactor)
        port = await serverFromString(reactor, description).listen(factory)
        address = port.getHost()
        print(f"serving {name} on {address.host}:{address.port}", flush=True)
        listening.append((port, factory))
    if not args.once:
        await Deferred()  # 永不触发：服务器一直运行，直到 Ctrl+C 让 reactor 停下
    for port, factory in listening:
        await factory.served  # --once：每个端点服务完一个连接就停止监听
        stopped = port.stopListening()  # IListeningPort allows a Deferred or None
        if stopped is not None:
            await stopped
    print("all poems served", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve poems, slowly, over Twisted endpoints.")
    parser.add_argument("endpoints", nargs="*",
                        help=f"server endpoints (default: 3 × {LOOPBACK_ANY_PORT})")
    parser.add_argument("--chunk-size", type=int, default=10, help="bytes per write (default 10)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help="seconds between writes (default 0.1)")
    parser.add_argument("--once", action="store_true",
                        help="serve one client per endpoint, then exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    react(serve, (args,))


if __name__ == "__main__":
    main()

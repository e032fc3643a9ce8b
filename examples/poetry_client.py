"""The Twisted poetry client: download several poems at once, in one thread.

    python examples/poetry_client.py                        # demo: starts its own servers
    python examples/poetry_client.py tcp:127.0.0.1:10000 tcp:127.0.0.1:10001

Without arguments it listens on loopback port 0 for each poem (same reactor, same process),
downloads them all concurrently, and stops: a complete, self-contained run.
"""

from __future__ import annotations

import argparse
import time

from poetry_protocol import (
    IReactorTimeTCP,
    PoetryClientProtocol,
    PoetryServerFactory,
    load_poems,
)
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import clientFromString, connectProtocol, serverFromString
from twisted.internet.interfaces import IReactorTCP
from twisted.internet.task import react


async def get_poetry(reactor: IReactorTCP, description: str) -> tuple[str, int]:
    """Download one poem; returns its text and how many reads it took.

    An asynchronous API: it returns (a coroutine, then a Deferred) at once, and the caller
    gets the poem later. Everything that uses it must be asynchronous too.
    """
    endpoint = clientFromString(reactor, description)
    # 每条连接一个新的协议实例，它自己保存这首诗的字节。
    protocol: PoetryClientProtocol = await connectProtocol(endpoint, PoetryClientProtocol())
    poem = await protocol.finished
    return poem, protocol.reads


async def download_all(reactor: IReactorTCP, descriptions: list[str]) -> None:
    started = time.monotonic()
    # 同时发起所有下载：等待网络时 reactor 去处理别的连接，而不是干等。
    results = await gatherResults(
        [Deferred.fromCoroutine(get_poetry(reactor, d)) for d in descriptions]
    )
    for number, (description, (poem, reads)) in enumerate(
        zip(descriptions, results, strict=True), start=1
    ):
        size = len(poem.encode("utf-8"))
        print(f"poem {number} from {description}: {size} bytes in ~{reads} reads")
        print(poem)
    print(f"got {len(results)} poems in {time.monotonic() - started:.2f} s")


async def demo(reactor: IReactorTimeTCP) -> None:
    """Serve every poem on a loopback port, then download them all from this same reactor."""
    ports = []
    for _name, poem in load_poems():
        # 每次写 10 个字节：一个汉字占 3 个字节，必然有汉字被拆在两次读取之间。
        factory = PoetryServerFactory(poem, chunk_size=10, delay=0.02, clock=reactor)
        endpoint = serverFromString(reactor, "tcp:0:interface=127.0.0.1")
        ports.append(await endpoint.listen(factory))
    try:
        await download_all(
            reactor, [f"tcp:127.0.0.1:{port.getHost().port}" for port in ports]
        )
    finally:
        for port in ports:
            await port.stopListening()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Download poems with Twisted.")
    parser.add_argument("endpoints", nargs="*", help="client endpoints, e.g. tcp:127.0.0.1:10000")
    args = parser.parse_args(argv)
    if args.endpoints:
        react(download_all, (args.endpoints,))
    else:
        react(demo)


if __name__ == "__main__":
    main()

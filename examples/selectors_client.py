"""An asynchronous poetry client without Twisted: one thread, non-blocking sockets, a selector.

    python examples/selectors_client.py                     # every selector this OS has
    python examples/selectors_client.py --selector epoll

The selector (select, poll, epoll or kqueue underneath) reports which sockets are readable, and the
loop reads only from those: all poems download at the same time, so the total time is about
that of the *slowest* download. This loop is what a Twisted reactor does for you.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import time

from slow_servers import Address, slow_servers

# 同一个循环，四种系统调用（只用本平台有的那些）：select 到处都有，但只能处理编号小于
# FD_SETSIZE（通常 1024）的描述符，限制的是编号而不是个数；poll 没有这个限制；
# epoll（Linux）与 kqueue（macOS、BSD）只需登记一次，内核只报告已就绪的描述符。
SELECTORS: dict[str, type[selectors.BaseSelector]] = {
    name: getattr(selectors, cls)
    for name, cls in [("select", "SelectSelector"), ("poll", "PollSelector"),
                      ("epoll", "EpollSelector"), ("kqueue", "KqueueSelector")]
    if hasattr(selectors, cls)
}


def download_all(selector: selectors.BaseSelector, addresses: list[Address]) -> list[bytes]:
    """Download every poem concurrently; returns them in the order of ``addresses``."""
    chunks: dict[int, list[bytes]] = {}
    for number, address in enumerate(addresses):
        sock = socket.create_connection(address, timeout=30)
        sock.setblocking(False)  # 非阻塞：recv 要么立即返回数据，要么报错，绝不等待
        selector.register(sock, selectors.EVENT_READ, data=number)
        chunks[number] = []
    while selector.get_map():
        events = selector.select(timeout=30)  # 唯一会等待的地方：等任意一个套接字就绪
        if not events:
            raise TimeoutError("no server sent anything for 30 s")
        for key, _mask in events:
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            data = ready.recv(1024)
            if data:
                chunks[key.data].append(data)
            else:  # 连接关闭：这首诗收完了
                selector.unregister(ready)
                ready.close()
    return [b"".join(chunks[n]) for n in range(len(addresses))]


def run(name: str, addresses: list[Address]) -> None:
    started = time.monotonic()
    with SELECTORS[name]() as selector:
        poems = download_all(selector, addresses)
    titles = "、".join(poem.decode("utf-8").splitlines()[0] for poem in poems)
    print(f"{name:>6}: {len(poems)} poems ({titles}) in {time.monotonic() - started:.2f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Download poems concurrently with selectors.")
    parser.add_argument("--selector", choices=sorted(SELECTORS), action="append",
                        help="which selector to use (repeatable; default: all available)")
    args = parser.parse_args(argv)
    for name in args.selector or list(SELECTORS):
        with slow_servers(count=3) as addresses:  # fresh servers: each serves once
            run(name, addresses)


if __name__ == "__main__":
    main()

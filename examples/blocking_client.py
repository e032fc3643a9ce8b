"""A blocking poetry client: plain sockets, one poem after another.

    python examples/blocking_client.py                      # demo: starts 3 slow servers
    python examples/blocking_client.py 127.0.0.1:10000 127.0.0.1:10001

Each ``recv`` blocks until data arrives, so the program waits for one slow server while the
others sit idle: the total time is the *sum* of the downloads.
"""

from __future__ import annotations

import argparse
import socket
import time

from slow_servers import Address, slow_servers


def get_poetry(address: Address) -> bytes:
    """Download one poem, blocking until the server closes the connection."""
    with socket.create_connection(address, timeout=30) as sock:
        chunks: list[bytes] = []
        while True:
            # recv 会阻塞：在数据到达或连接关闭之前，整个程序什么也做不了。
            data = sock.recv(1024)
            if not data:  # 空字节串表示服务器关闭了连接：诗已收完
                break
            chunks.append(data)
    return b"".join(chunks)


def title(poem: bytes) -> str:
    return poem.decode("utf-8").splitlines()[0]


def download_all(addresses: list[Address]) -> None:
    started = time.monotonic()
    for number, address in enumerate(addresses, start=1):
        begun = time.monotonic()
        poem = get_poetry(address)  # 一首下完才开始下一首
        elapsed = time.monotonic() - begun
        print(f"poem {number} 《{title(poem)}》: {len(poem)} bytes in {elapsed:.2f} s")
    print(f"blocking client: {len(addresses)} poems in {time.monotonic() - started:.2f} s")


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Download poems one after another.")
    parser.add_argument("addresses", nargs="*", type=parse_address, help="HOST:PORT of servers")
    args = parser.parse_args(argv)
    if args.addresses:
        download_all(args.addresses)
        return
    with slow_servers(count=3) as addresses:
        download_all(addresses)


if __name__ == "__main__":
    main()

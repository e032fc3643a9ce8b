"""One protocol, three transports: in memory, TCP and a UNIX socket.

    python examples/transports.py

A transport is one connection that carries bytes. The protocol only calls ``write``,
``getPeer`` and ``loseConnection`` on it, so the same protocol class works over any of them,
including ``StringTransport``, the in-memory transport that tests use.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol, serverFromString
from twisted.internet.interfaces import IAddress, IReactorCore
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import react
from twisted.internet.testing import StringTransport
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure


class Shout(LineReceiver):
    """Answers each line in upper case, saying which transport carried it."""

    def lineReceived(self, line: bytes) -> None:
        assert self.transport is not None  # set by makeConnection before any data arrives
        # The module too: TCP and UNIX connections are both a class named Server
        # (twisted.internet.unix.Server is a subclass of twisted.internet.tcp.Server).
        cls = type(self.transport)
        kind = f"{cls.__module__}.{cls.__qualname__}"
        peer = type(self.transport.getPeer()).__name__
        # 协议不关心字节如何传输：它只调用 transport 的 write / getPeer / loseConnection。
        self.sendLine(line.upper() + f" (via {kind}, peer {peer})".encode())
        self.transport.loseConnection()


class Ask(Protocol):
    """Client side: send one line, collect the reply until the server hangs up."""

    def __init__(self, line: bytes) -> None:
        self.line = line
        self.reply: Deferred[bytes] = Deferred()
        self._received = b""

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(self.line + b"\r\n")

    def dataReceived(self, data: bytes) -> None:
        self._received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reply.callback(self._received)


def over_memory() -> None:
    # 内存中的 transport：没有套接字，也不需要 reactor。测试协议逻辑时就这样用。
    transport = StringTransport()
    protocol = Shout()
    protocol.makeConnection(transport)
    protocol.dataReceived(b"hello from memory\r\n")
    print(f"memory: {transport.value().decode().strip()}; closed: {transport.disconnecting}")


def client_description(address: IAddress) -> str:
    """The client endpoint string that reaches a listening port's address."""
    if isinstance(address, UNIXAddress):
        assert address.name is not None  # a listening UNIX socket has a path
        return f"unix:{os.fsdecode(address.name)}"
    assert isinstance(address, IPv4Address)
    return f"tcp:{address.host}:{address.port}"


async def over_socket(reactor: IReactorCore, label: str, server: str) -> None:
    # 换一种 transport 只需换一个端点描述字符串；Shout 协议一行也不用改。
    port = await serverFromString(reactor, server).listen(Factory.forProtocol(Shout))
    try:
        endpoint = clientFromString(reactor, client_description(port.getHost()))
        protocol: Ask = await connectProtocol(endpoint, Ask(f"hello over {label}".encode()))
        print(f"{label}: {(await protocol.reply).decode().strip()}")
    finally:
        await port.stopListening()


async def run(reactor: IReactorCore) -> None:
    over_memory()
    await over_socket(reactor, "tcp", "tcp:0:interface=127.0.0.1")
    with tempfile.TemporaryDirectory() as directory:
        await over_socket(reactor, "unix", f"unix:{Path(directory) / 'shout.sock'}")


def main() -> None:
    react(run)


if __name__ == "__main__":
    main()

"""Protocols and factories: one new protocol instance per connection, built by the factory.

    python examples/per_connection.py

The factory's ``buildProtocol`` runs once for every new connection and returns a fresh
protocol; Twisted then calls the protocol's ``makeConnection`` with the connection's
transport, which calls ``connectionMade``. Per-connection state lives in the protocol,
shared state in the factory. ``makeConnection`` is overridden here only to print the call:
real protocols override ``connectionMade``.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol, serverFromString
from twisted.internet.interfaces import IAddress, IReactorCore, ITransport
from twisted.internet.protocol import Factory, connectionDone
from twisted.internet.task import react
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure


class Counter(LineReceiver):
    """Counts the lines of its own connection: that count is this connection's state."""

    factory: CounterFactory

    def __init__(self, number: int) -> None:
        self.number = number  # 这是第几条连接
        self.lines = 0  # 每个协议实例各有一份，互不干扰

    def makeConnection(self, transport: ITransport) -> None:
        # Twisted 把这条连接的 transport 作为唯一参数传进来；基类保存它并调用 connectionMade。
        # 这里覆盖 makeConnection 只为把这次调用打印出来：真实代码不碰它，而是覆盖 connectionMade。
        print(f"server: connection {self.number}: makeConnection({type(transport).__name__})")
        super().makeConnection(transport)

    def connectionMade(self) -> None:
        # 连接建立时要做的事（问候、登记、启动定时器）写在这里：此时 self.transport 已经就绪。
        assert self.transport is not None
        peer = type(self.transport.getPeer()).__name__
        print(f"server: connection {self.number}: connectionMade, peer {peer}")

    def lineReceived(self, line: bytes) -> None:
        self.lines += 1
        self.factory.total_lines += 1  # 所有连接共享的状态放在工厂里
        self.sendLine(
            f"connection {self.number}, line {self.lines} of this connection, "
            f"{self.factory.total_lines} in all: {line.decode()}".encode()
        )

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        print(f"server: connection {self.number} closed after {self.lines} lines")
        self.factory.closed(self)


class CounterFactory(Factory[Counter]):
    """Builds a numbered Counter for each connection and keeps the totals of all of them."""

    def __init__(self) -> None:
        self.connections = 0
        self.total_lines = 0
        self.open: dict[int, Deferred[None]] = {}

    def buildProtocol(self, addr: IAddress | None) -> Counter:
        # 每来一条新连接，Twisted 就调用一次 buildProtocol：返回一个全新的协议实例。
        self.connections += 1
        print(f"server: buildProtocol for connection {self.connections} from {type(addr).__name__}")
        protocol = Counter(self.connections)
        protocol.factory = self
        self.open[protocol.number] = Deferred()
        return protocol

    def closed(self, protocol: Counter) -> None:
        self.open[protocol.number].callback(None)


class Client(LineReceiver):
    """Sends a line and waits for the one-line answer."""

    def __init__(self) -> None:
        self._answer: Deferred[str] | None = None

    async def ask(self, text: str) -> str:
        self._answer = Deferred()
        self.sendLine(text.encode())
        return await self._answer

    def lineReceived(self, line: bytes) -> None:
        answer, self._answer = self._answer, None
        assert answer is not None, "the server spoke unasked"
        answer.callback(line.decode())


async def run(reactor: IReactorCore) -> None:
    factory = CounterFactory()
    port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(factory)
    endpoint = clientFromString(reactor, f"tcp:127.0.0.1:{port.getHost().port}")
    try:
        alice: Client = await connectProtocol(endpoint, Client())
        print(f"alice got: {await alice.ask('hello')}")
        bob: Client = await connectProtocol(endpoint, Client())
        print(f"bob got: {await bob.ask('hi')}")
        print(f"alice got: {await alice.ask('again')}")
        for client, number in ((alice, 1), (bob, 2)):
            assert client.transport is not None
            client.transport.loseConnection()
            await factory.open[number]
    finally:
        await port.stopListening()
    print(f"factory built {factory.connections} protocols for {factory.total_lines} lines")


def main() -> None:
    react(run)


if __name__ == "__main__":
    main()

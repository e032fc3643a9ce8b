"""The poetry protocol: the server writes a whole poem and hangs up; the client collects it.

Kept apart from the server and client programs so that tests can drive both protocols over
``StringTransport`` and a fake clock, with no reactor and no sockets.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorTCP, IReactorTime, ITCPTransport
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

POEMS = Path(__file__).resolve().parent / "poems"


def load_poems() -> list[tuple[str, bytes]]:
    """Every poem shipped with the examples, as (file name, UTF-8 bytes), in a stable order."""
    return [(path.name, path.read_bytes()) for path in sorted(POEMS.glob("*.txt"))]


class IReactorTimeTCP(IReactorTime, IReactorTCP):
    """A reactor with timers and TCP, which is what the poetry server and demo client use.

    For type checks only: like every combination of reactor interfaces, nothing declares it
    at run time, but the reactor that ``task.react`` hands us provides both of its parts.
    """


class PoetryServerProtocol(Protocol):
    """Sends the factory's poem, ``chunk_size`` bytes every ``delay`` seconds, then closes."""

    factory: PoetryServerFactory

    def connectionMade(self) -> None:
        self._remaining = self.factory.poem
        # 慢速服务器：用 LoopingCall 每隔 delay 秒写一小块，reactor 在两次之间照常处理别的连接。
        # 时钟由工厂注入，测试里换成 task.Clock 就不必真的等待。
        self._sender = LoopingCall(self._send_chunk)
        self._sender.clock = self.factory.clock
        self._sender.start(self.factory.delay, now=True)

    def _send_chunk(self) -> None:
        chunk = self._remaining[: self.factory.chunk_size]
        self._remaining = self._remaining[self.factory.chunk_size :]
        # transport.write 不会阻塞：字节先进入缓冲区，由 reactor 在套接字可写时发出。
        assert self.transport is not None  # set by makeConnection, before connectionMade
        self.transport.write(chunk)
        if not self._remaining:
            self._sender.stop()
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._sender.running:  # the client hung up before the end of the poem
            self._sender.stop()
        self.factory.connection_lost(self)


class PoetryServerFactory(Factory[PoetryServerProtocol]):
    """Builds one PoetryServerProtocol per connection; all of them serve the same poem.

    ``served`` fires after the first connection has ended, which is what ``--once`` waits for.
    """

    protocol = PoetryServerProtocol

    def __init__(self, poem: bytes, chunk_size: int, delay: float, clock: IReactorTime) -> None:
        self.poem = poem
        self.chunk_size = chunk_size
        self.delay = delay
        self.clock = clock
        self.served: Deferred[None] = Deferred()

    def connection_lost(self, protocol: PoetryServerProtocol) -> None:
        if not self.served.called:
            self.served.callback(None)


class PoetryClientProtocol(Protocol):
    """Collects the bytes of one poem; ``finished`` fires with the text when the server hangs up.

    Data arrives in pieces of any size (TCP has no message boundaries), so a UTF-8 character
    may be split between two ``dataReceived`` calls: decode once, at the end, never per piece.
    """

    def __init__(self) -> None:
        self.finished: Deferred[str] = Deferred(self._cancel)
        self.reads = 0
        self._chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        # 协议实例保存这条连接的状态：收到的每一块字节都先攒起来。
        self.reads += 1
        self._chunks.append(data)

    def _cancel(self, finished: Deferred[str]) -> None:
        # 取消下载（例如超时）时断开连接，不让它在后台继续占着；
        # Deferred 随后以 CancelledError 失败。
        if self.transport is not None:
            # Every stream transport (TCP, UNIX, TLS, StringTransport) can abort, but only
            # ITCPTransport declares abortConnection.
            cast(ITCPTransport, self.transport).abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.finished.called:  # cancelled: the caller has already been told
            return
        # 服务器正常关闭连接（ConnectionDone）才说明诗已完整；其他原因都是错误。
        if not reason.check(ConnectionDone):
            self.finished.errback(reason)
            return
        try:
            poem = b"".join(self._chunks).decode("utf-8")
        except UnicodeDecodeError:
            self.finished.errback()
        else:
            self.finished.callback(poem)

"""Protocol logic of the examples, in memory: StringTransport and a fake clock, no reactor."""

from __future__ import annotations

import subprocess
import sys

import examples_support  # first: it puts examples/ on sys.path
import pytest
from async_api import slow_square
from per_connection import Counter, CounterFactory
from poetry_client import get_poetry
from poetry_protocol import (
    PoetryClientProtocol,
    PoetryServerFactory,
    PoetryServerProtocol,
    load_poems,
)
from timeouts import long_task
from transports import Shout
from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

ADDRESS = IPv4Address("TCP", "127.0.0.1", 12345)


def result_of(d: Deferred[object]) -> list[object]:
    """Capture what a Deferred fires with (value or Failure), without a reactor."""
    box: list[object] = []
    d.addBoth(box.append)
    return box


def test_importing_the_examples_does_not_install_a_reactor() -> None:
    # Tests import these modules in the pytest process, and other tests fork children that
    # install a reactor of their choice: importing twisted.internet.reactor (which installs
    # the default one) must wait until an example's main() runs. Checked in a fresh process,
    # so that nothing else imported here can hide or cause it.
    examples = examples_support.EXAMPLES
    importable = sorted(
        p.stem for p in examples.glob("*.py")
        if p.stem not in {"reactor_basics", "reactor_thread", "gevent_client"}
    )
    code = (f"import sys; sys.path.insert(0, {str(examples)!r}); "
            f"import {', '.join(importable)}; "
            "print('twisted.internet.reactor' in sys.modules)")
    result = subprocess.run([sys.executable, *examples_support.WARNINGS, "-c", code],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert len(importable) >= 10


# ---- poetry client protocol -------------------------------------------------------------


def test_client_decodes_a_character_split_across_reads() -> None:
    poem = "床前明月光".encode()
    protocol = PoetryClientProtocol()
    protocol.makeConnection(StringTransport())
    for i in range(len(poem)):  # one byte per read: every character is split
        protocol.dataReceived(poem[i : i + 1])
    with pytest.raises(UnicodeDecodeError):
        poem[:1].decode("utf-8")  # what a decode-per-read client would hit
    box = result_of(protocol.finished)
    assert box == []  # nothing before the connection ends
    protocol.connectionLost(Failure(ConnectionDone()))
    assert box == ["床前明月光"]
    assert protocol.reads == len(poem)


def test_client_fails_when_the_connection_is_lost_midway() -> None:
    protocol = PoetryClientProtocol()
    protocol.makeConnection(StringTransport())
    protocol.dataReceived(b"half a po")
    box = result_of(protocol.finished)
    protocol.connectionLost(Failure(ConnectionLost()))
    assert isinstance(box[0], Failure) and box[0].check(ConnectionLost)


def test_client_fails_on_bytes_that_are_not_utf8() -> None:
    protocol = PoetryClientProtocol()
    protocol.makeConnection(StringTransport())
    protocol.dataReceived("床".encode()[:2])  # truncated character
    box = result_of(protocol.finished)
    protocol.connectionLost(Failure(ConnectionDone()))
    assert isinstance(box[0], Failure) and box[0].check(UnicodeDecodeError)


def test_cancelling_a_download_aborts_its_connection() -> None:
    transport = StringTransport()
    protocol = PoetryClientProtocol()
    protocol.makeConnection(transport)
    box = result_of(protocol.finished)
    protocol.finished.cancel()
    assert transport.disconnecting
    assert isinstance(box[0], Failure) and box[0].check(CancelledError)
    protocol.connectionLost(Failure(ConnectionLost()))  # the abort arrives: no second firing


# ---- poetry server protocol and factory -------------------------------------------------


def connect_server(poem: bytes, chunk_size: int, delay: float) -> tuple[
    PoetryServerFactory, PoetryServerProtocol, StringTransport, Clock
]:
    clock = Clock()
    factory = PoetryServerFactory(poem, chunk_size, delay, clock)
    protocol = factory.buildProtocol(ADDRESS)
    assert isinstance(protocol, PoetryServerProtocol)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return factory, protocol, transport, clock


def test_server_writes_the_poem_in_chunks_on_its_clock_then_hangs_up() -> None:
    poem = load_poems()[0][1]
    factory, protocol, transport, clock = connect_server(poem, chunk_size=10, delay=0.5)
    assert transport.value() == poem[:10]  # the first chunk goes out at once
    clock.advance(0.5)
    assert transport.value() == poem[:20]
    clock.pump([0.5] * (len(poem) // 10 + 1))
    assert transport.value() == poem
    assert transport.disconnecting
    assert clock.getDelayedCalls() == []
    served = result_of(factory.served)
    assert served == []  # fires when the connection is really gone
    protocol.connectionLost(Failure(ConnectionDone()))
    assert served == [None]


def test_server_stops_writing_when_the_client_leaves_early() -> None:
    factory, protocol, _transport, clock = connect_server(b"x" * 100, chunk_size=10, delay=1)
    protocol.connectionLost(Failure(ConnectionLost()))
    assert clock.getDelayedCalls() == []
    assert factory.served.called


def test_factory_builds_a_new_protocol_for_each_connection() -> None:
    factory = PoetryServerFactory(b"poem", 10, 0.1, Clock())
    first, second = factory.buildProtocol(ADDRESS), factory.buildProtocol(ADDRESS)
    assert first is not second
    assert first.factory is factory and second.factory is factory  # type: ignore[union-attr]


def test_shipped_poems_contain_multibyte_characters() -> None:
    poems = load_poems()
    assert len(poems) == 3
    assert all(len(poem) > len(poem.decode("utf-8")) for _name, poem in poems)


# ---- per-connection state ---------------------------------------------------------------


def test_each_connection_keeps_its_own_count_and_the_factory_the_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    factory = CounterFactory()
    transports: list[StringTransport] = []
    protocols: list[Counter] = []
    for _ in range(2):
        protocol = factory.buildProtocol(ADDRESS)
        transport = StringTransport()
        protocol.makeConnection(transport)  # what Twisted does with a new connection
        assert protocol.transport is transport
        protocols.append(protocol)
        transports.append(transport)
    protocols[0].dataReceived(b"a\r\nb\r\n")
    protocols[1].dataReceived(b"c\r\n")
    assert [p.lines for p in protocols] == [2, 1]
    assert factory.total_lines == 3
    assert transports[1].value() == b"connection 2, line 1 of this connection, 3 in all: c\r\n"
    assert "buildProtocol for connection 2" in capsys.readouterr().out


# ---- transports -------------------------------------------------------------------------


def test_the_same_protocol_runs_over_an_in_memory_transport() -> None:
    transport = StringTransport()
    protocol = Shout()
    protocol.makeConnection(transport)
    protocol.dataReceived(b"hi\r\n")
    reply = b"HI (via twisted.internet.testing.StringTransport, peer IPv4Address)\r\n"
    assert transport.value() == reply
    assert transport.disconnecting


# ---- our own asynchronous API, timers and cancellation ----------------------------------


def test_async_api_returns_at_once_and_fires_later() -> None:
    clock = Clock()
    d = slow_square(clock, 7)
    box = result_of(d)
    assert box == []
    clock.advance(0.1)
    assert box == [49]


def test_cancelling_the_long_task_cancels_its_timer_and_runs_finally(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    task = Deferred.fromCoroutine(long_task(clock))
    assert len(clock.getDelayedCalls()) == 1  # deferLater's timer
    box = result_of(task)
    task.cancel()
    assert clock.getDelayedCalls() == []  # deferLater's own canceller took it away
    assert isinstance(box[0], Failure) and box[0].check(CancelledError)
    out = capsys.readouterr().out
    assert out.index("CancelledError raised at the await") < out.index("finally block runs")


def test_poetry_client_connects_where_its_endpoint_says_and_decodes_once() -> None:
    # MemoryReactorClock records connectTCP instead of opening a socket: the test plays the
    # network itself, one byte per read, so every Chinese character arrives split.
    reactor = MemoryReactorClock()
    download = Deferred.fromCoroutine(get_poetry(reactor, "tcp:127.0.0.1:10000"))
    [(host, port, factory, _timeout, _bind)] = reactor.tcpClients
    assert (host, port) == ("127.0.0.1", 10000)
    protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
    assert protocol is not None
    protocol.makeConnection(StringTransport())
    poem = "床前明月光，\n疑是地上霜。\n".encode()
    for index in range(len(poem)):
        protocol.dataReceived(poem[index:index + 1])
    assert not download.called  # nothing is decoded before the server hangs up
    protocol.connectionLost(Failure(ConnectionDone()))
    assert result_of(download) == [("床前明月光，\n疑是地上霜。\n", len(poem))]


def test_poetry_client_reports_a_refused_connection() -> None:
    reactor = MemoryReactorClock()
    download = Deferred.fromCoroutine(get_poetry(reactor, "tcp:127.0.0.1:10000"))
    [(_host, _port, factory, _timeout, _bind)] = reactor.tcpClients
    connector = reactor.connectors[0]
    factory.clientConnectionFailed(connector, Failure(error.ConnectionRefusedError()))
    [failure] = result_of(download)
    assert isinstance(failure, Failure) and failure.check(error.ConnectionRefusedError)

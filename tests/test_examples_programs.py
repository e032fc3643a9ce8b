"""The example programs, run for real (each in its own process, on loopback, bounded).

Measured values are only compared with each other or with what the program's construction
guarantees (a 0.6 s blocking call cannot leave a gap shorter than 0.6 s), never with targets.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from examples_support import (
    RUNS,
    WARNINGS,
    XDIST_GROUP,
    Run,
    measured,
    output_of,
    result_of,
    run_example,
    start_runs,
)
from poetry_protocol import load_poems

from conftest import as_from_a_terminal

pytestmark = [pytest.mark.filterwarnings("error::DeprecationWarning"),
              pytest.mark.xdist_group(XDIST_GROUP)]

RUN = {run.name: run for run in RUNS}
POEMS = {poem.decode("utf-8") for _name, poem in load_poems()}
TITLES = {poem.splitlines()[0] for poem in POEMS}


def totals(name: str, label: str) -> float:
    [value] = measured(rf"(?<!\w){label}: 3 poems.* in (\d+\.\d+) s", output_of(RUN[name]))
    return value


# ---- socket, selectors, greenlet, gevent ------------------------------------------------


def test_blocking_client_downloads_one_poem_after_another() -> None:
    out = output_of(RUN["blocking_client"])
    assert set(re.findall(r"《(.+?)》", out)) == TITLES
    per_poem = measured(r"bytes in (\d+\.\d+) s", out)
    assert len(per_poem) == 3
    # Serial by construction: the total is at least the sum of the downloads. Each printed
    # value is rounded to 0.01 s, so up to 0.005 s off: four of them can disagree by 0.02 s.
    rounding = 0.005 * (len(per_poem) + 1)
    assert totals("blocking_client", "blocking client") >= sum(per_poem) - rounding


@pytest.mark.parametrize("selector", ["select", "poll", "epoll"])
def test_each_selector_downloads_all_poems_faster_than_the_blocking_client(selector: str) -> None:
    out = output_of(RUN["selectors_client"])
    line = next(line for line in out.splitlines() if line.strip().startswith(f"{selector}:"))
    assert all(title in line for title in TITLES)
    assert totals("selectors_client", selector) < totals("blocking_client", "blocking client")


def test_greenlets_take_turns_in_one_thread() -> None:
    lines = output_of(RUN["greenlet_switch"]).splitlines()
    assert [line.split()[0] for line in lines[:6]] == ["ping", "pong"] * 3
    assert all(line.endswith("in MainThread") for line in lines[:6:2])
    assert "ping dead: True, pong dead: False" in lines[6]


def test_gevent_makes_the_blocking_code_concurrent() -> None:
    out = output_of(RUN["gevent_client"])
    assert set(re.findall(r"《(.+?)》", out)) == TITLES
    assert "socket module patched: True" in out


def test_gevent_joinall_returns_quietly_when_its_timeout_expires() -> None:
    out = output_of(RUN["gevent_client"])
    # Each download takes 0.9 s by construction: none can have finished after 0.1 s.
    assert "joinall(timeout=0.1) returned quietly: 0 of 3 finished" in out
    assert totals("gevent_client", "gevent client") < totals("blocking_client", "blocking client")


# ---- Twisted's traits -------------------------------------------------------------------


def test_os_system_stalls_the_reactor_and_spawn_process_and_threads_do_not() -> None:
    out = output_of(RUN["blocking_pitfall"])
    gaps = dict(re.findall(r"^(\S+)\s.*largest gap between 10 ms ticks: (\d+\.\d+) s", out, re.M))
    system, spawn, thread = (float(gaps[k]) for k in ("os.system", "spawnProcess", "deferToThread"))
    assert system >= 0.6 * 0.95  # the child sleeps 0.6 s and os.system waits for it
    assert spawn < system
    assert thread < system


def test_spawn_process_gives_the_child_an_empty_environment_unless_told() -> None:
    out = output_of(RUN["blocking_pitfall"])
    assert "PATH in the child's environment: False without env, True with env=os.environ" in out


def test_sync_code_gets_a_deferred_and_async_callers_get_values() -> None:
    out = output_of(RUN["async_api"])
    assert "sync caller got a Deferred, fired yet: False" in out
    assert "4 * 4 + 1 = 17" in out
    assert "await gatherResults: [36, 49]" in out


def test_calls_overlap_only_when_both_are_started_before_the_await() -> None:
    out = output_of(RUN["async_api"])
    [serial] = measured(r"the next call: \[36, 49\] in (\d+\.\d+) s", out)
    [started_first] = measured(r"then awaited: \[36, 49\] in (\d+\.\d+) s", out)
    [gathered] = measured(r"gatherResults: \[36, 49\] in (\d+\.\d+) s", out)
    assert serial >= 2 * 0.1 * 0.95  # two 0.1 s timers, the second set after the first fired
    assert started_first < serial
    assert gathered < serial


# ---- the reactor ------------------------------------------------------------------------


def test_reactor_keeps_running_after_an_exception_in_a_callback() -> None:
    lines = output_of(RUN["reactor_basics"]).splitlines()
    error = next(i for i, line in enumerate(lines) if "ValueError: a bug in one callback" in line)
    assert lines.index("countdown 1") > error  # the countdown went on after the error
    assert lines[-1] == "reactor.run() returned"
    assert lines[0] == "reactor class: EPollReactor"  # the default on Linux


def test_reactor_runs_callbacks_in_the_thread_that_started_it() -> None:
    out = output_of(RUN["reactor_thread"])
    assert "callWhenRunning callback: thread 'reactor-thread'" in out
    assert "callFromThread callback: thread 'reactor-thread'" in out
    assert "reactor thread finished: True" in out


# The recorded run (RUN["choose_reactor"]) chose poll; these choose the others.
OTHER_REACTORS = {
    choice: Run(f"choose_reactor_{choice}", "choose_reactor.py", ("--reactor", choice))
    for choice in ("select", "epoll", "default")
}


@pytest.mark.parametrize(
    ("choice", "reactor"),
    [("select", "SelectReactor"), ("poll", "PollReactor"), ("epoll", "EPollReactor"),
     ("default", "EPollReactor")],
)
def test_the_chosen_reactor_is_installed(choice: str, reactor: str) -> None:
    if choice == "poll":
        out = output_of(RUN["choose_reactor"])
    else:
        start_runs(OTHER_REACTORS.values())
        result = result_of(OTHER_REACTORS[choice])
        assert result.returncode == 0, result.stderr
        out = result.stdout
    assert f"running {reactor}\n" in out
    [idle] = measured(r"idle reactor: .*\((\d+\.\d+) %\)", out)
    [busy] = measured(r"busy LoopingCall\(0\): .*\((\d+\.\d+) %\)", out)
    assert idle < busy  # no CPU while idle; a busy LoopingCall keeps it working


def test_installing_after_importing_the_reactor_is_refused() -> None:
    out = output_of(RUN["choose_reactor_too_late"])
    assert "cannot install poll: ReactorAlreadyInstalledError" in out
    assert "running EPollReactor" in out  # the import had already installed the default


# ---- transports, protocols, factories: the poetry server and client ---------------------


def test_one_protocol_class_serves_memory_tcp_and_unix_transports() -> None:
    out = output_of(RUN["transports"])
    assert "HELLO FROM MEMORY (via twisted.internet.testing.StringTransport" in out
    assert "HELLO OVER TCP (via twisted.internet.tcp.Server, peer IPv4Address)" in out
    assert "HELLO OVER UNIX (via twisted.internet.unix.Server, peer UNIXAddress)" in out


def test_factory_builds_one_protocol_per_connection() -> None:
    out = output_of(RUN["per_connection"])
    assert out.count("buildProtocol for connection") == 2
    made = out.index("connection 1: makeConnection(Server)")
    assert out.index("connection 1: connectionMade, peer IPv4Address") > made
    assert "alice got: connection 1, line 2 of this connection, 3 in all: again" in out
    assert "factory built 2 protocols for 3 lines" in out


def test_poetry_client_demo_gets_every_poem_intact() -> None:
    out = output_of(RUN["poetry_client"])
    assert all(poem in out for poem in POEMS)
    assert "got 3 poems" in out


def start_server(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start poetry_server.py; return it and its client endpoints (read from its output)."""
    server = subprocess.Popen(
        [sys.executable, *WARNINGS, str(Path("examples") / "poetry_server.py"), *args],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=as_from_a_terminal,
    )
    assert server.stdout is not None
    endpoints = []
    for _ in range(len([a for a in args if a.startswith("tcp:")]) or 3):
        line = server.stdout.readline()
        match = re.fullmatch(r"serving \S+ on (127\.0\.0\.1):(\d+)\n", line)
        assert match, f"unexpected server output {line!r}"
        endpoints.append(f"tcp:{match[1]}:{match[2]}")
    return server, endpoints


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
    server.communicate(timeout=10)


def test_poetry_server_once_serves_the_client_then_exits() -> None:
    listen = "tcp:0:interface=127.0.0.1"
    server, endpoints = start_server("--once", "--delay", "0.01", "--chunk-size", "7",
                                     listen, listen)
    try:
        client = run_example("poetry_client.py", *endpoints)
        assert client.returncode == 0, client.stderr
        # Chunks of 7 bytes split characters between reads; every poem must arrive intact.
        assert sum(poem in client.stdout for poem in POEMS) == 2
        out, _ = server.communicate(timeout=30)  # --once: it exits by itself
        assert server.returncode == 0
        assert out.strip() == "all poems served"
    finally:
        stop(server)


def test_poetry_server_runs_until_interrupted() -> None:
    server, endpoints = start_server()
    try:
        assert len(endpoints) == 3
        assert server.poll() is None
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
        assert server.returncode == 0
    finally:
        stop(server)


# ---- Failure, timeouts and cancellation -------------------------------------------------


def test_errbacks_recover_and_trap_reraises_the_original_exception() -> None:
    out = output_of(RUN["failures"])
    assert "raised in: capture -> parse_port" in out
    assert "never printed" not in out
    assert "the chain recovered; port = 8080" in out
    assert "trap re-raised ValueError; the original object: True" in out
    assert "next errback got ValueError: True" in out
    assert "Unhandled error in Deferred" in out


def test_a_timeout_cancels_the_download_and_closes_the_connection() -> None:
    out = output_of(RUN["timeouts"])
    assert ": twisted.internet.defer.TimeoutError\n" in out
    assert "a builtin TimeoutError: False" in out  # `except TimeoutError` would miss it
    assert "the server saw the connection close" in out
    assert out.index("CancelledError raised at the await") < out.index("finally block runs")
    assert "timers still pending: 0" in out

"""runner's small parts against values written out by hand: the wire forms, the child's
report, Twisted findings, per-segment splitting, and /proc sweeping of marked or adopted
processes (survivors of `make mutation`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from twnotes.runner import (
    Program,
    Runner,
    Segment,
    child,
    child_checks,
    forkserver,
    protocol,
)
from twnotes.runner import sweep as sweep_

MARK = protocol.SEGMENT_MARK
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no Linux /proc")


def test_a_segment_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Segment("x").code = "y"  # type: ignore[misc]


def test_the_wire_form_of_an_error() -> None:
    assert protocol.error_outcome("no") == {
        "status": "error", "returncode": None, "stdout": "", "stderr": "",
        "segments_stdout": [], "exception": None, "interrupted": False, "truncated": False,
        "leftover": False, "duration_s": 0.0, "pid": 0, "message": "no"}


@pytest.mark.parametrize(("workers", "count"), [(1, 1), (3, 3), (0, os.cpu_count() or 1),
                                                (None, os.cpu_count() or 1), (-2, 1)])
def test_the_number_of_workers(workers: int | None, count: int) -> None:
    assert Runner(workers=workers).workers == count  # nothing starts before the first run


def test_the_fork_server_wants_its_group() -> None:
    assert forkserver.main([]) == 2
    assert forkserver.main(["--group"]) == 2
    assert forkserver.main(["--other", "[]"]) == 2


@pytest.mark.parametrize(("text", "count", "parts"), [
    (f"a{MARK}b", 4, ["a", "b", "", ""]), ("x", 1, ["x"]), ("", 3, ["", "", ""]),
    (f"a{MARK}b{MARK}c", 2, ["a", "b", "c"]),
])
def test_output_split_per_segment(text: str, count: int, parts: list[str]) -> None:
    assert protocol._split(text, count) == parts


@pytest.mark.parametrize(("first_line", "padded"), [(1, "x = 1"), (3, "\n\nx = 1"), (0, "x = 1")])
def test_a_segment_is_padded_to_its_line(first_line: int, padded: str) -> None:
    assert protocol.padded({"first_line": first_line, "code": "x = 1"}) == padded


@pytest.mark.parametrize(("report", "wire"), [
    ({"exception": None, "segment": 2}, b'{"exception": null, "segment": 2}'),
    ({"exception": None, "segment": 0, "compile_failed": True},
     b'{"exception": null, "segment": 0, "compile_failed": true}'),
    ({"exception": "builtins.KeyError", "segment": 1},
     b'{"exception": "builtins.KeyError", "segment": 1}'),
    ({"exception": None, "segment": 1, "findings": [{"segment": 1}]},
     b'{"exception": null, "segment": 1, "findings": [{"segment": 1}]}'),
])
def test_the_childs_report(report: dict[str, Any], wire: bytes) -> None:
    assert child._report_bytes(report) == wire


def _event(text: str, level: str = "error") -> dict[str, Any]:
    from twisted.logger import LogLevel

    return {"log_level": getattr(LogLevel, level), "log_format": "{t}", "t": text}


def test_findings_are_counted_cut_and_tagged() -> None:
    findings = child_checks.Findings()
    findings.errors_allowed = (False, False)
    findings.observe(_event("a" * 4_000))
    findings.observe(_event("b" * 4_001, "critical"))
    findings.observe(_event("only a warning", "warn"))
    findings.segment = 5  # past the last segment: counted in the last one
    findings.observe(_event("late"))
    assert findings.found == [
        {"segment": 0, "level": "error", "text": "a" * 4_000},
        {"segment": 0, "level": "critical", "text": "b" * 4_000 + " …"},
        {"segment": 1, "level": "error", "text": "late"}]
    for n in range(30):
        findings.observe(_event(f"e{n}"))
    assert len(findings.found) == 20


def test_findings_in_a_segment_that_allows_errors_are_ignored() -> None:
    findings = child_checks.Findings()
    findings.errors_allowed = (False, True)
    findings.segment = 1
    findings.observe(_event("allowed"))
    findings.segment = 0
    findings.observe(_event("counted"))
    assert [f["text"] for f in findings.found] == ["counted"]


# ------------------------------------------------------------------------------ /proc sweep


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()[0].decode()


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@needs_proc
def test_a_marked_process_is_found_and_an_unmarked_one_is_not() -> None:
    token = secrets.token_hex(8)
    env = {**os.environ, protocol.MARKER_ENV: token}
    marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert sweep_.marked_or_adopted(token, adopted=False) == {marked.pid}
        needle = f"\0{protocol.MARKER_ENV}={token}\0".encode()
        me = os.getpid()
        assert sweep_._ours(str(marked.pid), needle, False, me) is True
        assert sweep_._ours(str(plain.pid), needle, False, me) is False
        # Adopted: any child of ours counts, marked or not.
        assert sweep_._ours(str(plain.pid), needle, True, me) is True
        assert sweep_._ours(str(plain.pid), needle, True, me + 1) is False
        assert sweep_._ours("999999999", needle, True, me) is False
    finally:
        for proc in (marked, plain):
            proc.kill()
            proc.wait(10)


@needs_proc
def test_a_zombie_is_not_ours_to_sweep() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        _wait_for(lambda: _state(proc.pid) == "Z", "the child never exited")
        assert sweep_._ours(str(proc.pid), b"\0x\0", True, os.getpid()) is False
    finally:
        proc.wait(10)


@needs_proc
def test_the_sweep_ends_a_marked_orphan(tmp_path: Path) -> None:
    # The shell starts a marked sleeper in the background and exits: the sleeper is no
    # child of ours, only its marker says it is the program's.
    token = secrets.token_hex(8)
    pidfile = tmp_path / "pid"
    env = {**os.environ, protocol.MARKER_ENV: token}
    subprocess.run(["sh", "-c", f"sleep 30 & echo $! > {pidfile}"], env=env, check=True,
                   timeout=30)
    pid = int(pidfile.read_text())
    try:
        assert sweep_.sweep(token, False, lambda: None) is True
        _wait_for(lambda: _state(pid) in (None, "Z"), "the marked orphan is still running")
    finally:
        if _state(pid) not in (None, "Z"):
            os.kill(pid, 9)


def test_the_fork_servers_side_imports_next_to_nothing() -> None:
    # A smaller server forks faster: its side of the package must not load the client
    # (pool, program) nor typing, whose names it only needs for type checking.
    code = ("import sys\nimport twnotes.runner.forkserver, twnotes.runner.child\n"
            "print([m for m in ('twnotes.runner.pool', 'twnotes.runner.program', 'typing')"
            " if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout == "[]\n"


def test_a_warning_let_through_once_is_an_error_in_a_strict_segment() -> None:
    # The same warning from the same line: allowed (and so remembered) in the first
    # segment, an error in the second. The warnings registry must see the filters change.
    from twnotes.runner import Program, run_program

    first = Segment("import warnings\ndef old():\n    warnings.warn('old', DeprecationWarning)\n"
                    "old()\nprint('allowed')\n", 1, deprecations_allowed=True)
    second = Segment("old()\nprint('not reached')\n", 6)
    outcome = run_program(Program((first, second), "content/p.md", timeout=20))
    assert outcome.segments_stdout[:1] == ("allowed\n",)
    assert outcome.exception == "builtins.DeprecationWarning", outcome
    assert "not reached" not in outcome.stdout


@needs_proc
def test_what_a_program_finds_open_and_imported() -> None:
    # Only stdio and the status pipe (fd 3, closed on exec) are open in the program; an
    # import that is not Twisted's logger does not bring the logger in (the hook waits).
    from twnotes.runner import Program, Runner

    code = ("import colorsys, fcntl, os, stat, sys\n"
            "print(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))\n"
            "print(stat.S_ISFIFO(os.fstat(3).st_mode), fcntl.fcntl(3, fcntl.F_GETFD))\n"
            "print('twisted.logger' in sys.modules)\n")
    with Runner(workers=1, preload=(), mode="fork") as runner:
        outcome = runner.run(Program((Segment(code),), "content/p.md", timeout=20))
    # The fifth fd listed is the one os.listdir had open while it listed.
    assert outcome.stdout == "[0, 1, 2, 3, 4]\nTrue 1\nFalse\n", outcome


def test_a_flood_on_stderr_is_cut_at_the_limit_too() -> None:
    from twnotes.runner import Program, run_program

    code = "import sys\nfor _ in range(200):\n    sys.stderr.write('x' * 1_000_000)\n"
    outcome = run_program(Program((Segment(code),), "content/p.md", timeout=20,
                                  output_limit=64_000))
    assert (outcome.status, outcome.truncated) == ("output_limit", True)
    assert len(outcome.stdout) + len(outcome.stderr) <= 64_000


def test_a_program_waits_for_its_non_daemon_threads() -> None:
    from twnotes.runner import Program, run_program

    code = ("import threading, time\n"
            "def late():\n    time.sleep(0.2)\n    print('late', flush=True)\n"
            "threading.Thread(target=late).start()\nprint('main')\n")
    outcome = run_program(Program((Segment(code),), "content/p.md", timeout=20))
    assert (outcome.returncode, outcome.stdout) == (0, "main\nlate\n")


def test_the_duration_is_the_programs_own() -> None:
    # Bounds, not a speed figure: at least the sleep, at most the time around the call.
    from twnotes.runner import Program

    with Runner(workers=1, preload=()) as runner:
        started = time.monotonic()
        outcome = runner.run(Program((Segment("import time\ntime.sleep(0.3)\n"),),
                                     "content/p.md", timeout=20))
        around = time.monotonic() - started
    assert 0.3 <= outcome.duration_s <= around


def _children(of: str = "self") -> set[int]:
    """A process's children (listed by the kernel from the moment they are forked)."""
    with contextlib.suppress(OSError):
        return {int(pid) for task in Path(f"/proc/{of}/task").iterdir()
                for pid in (task / "children").read_text().split()}
    return set()


def _kill_tree(pid: int) -> None:
    for kid in _children(str(pid)):
        _kill_tree(kid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)


@needs_proc
def test_prestart_starts_a_fork_server_before_any_program() -> None:
    before = _children()
    with Runner(workers=1, preload=(), mode="fork") as runner:
        runner.prestart()
        started = _children() - before  # the zygote, which starts the server
        assert len(started) == 1
        runner.prestart()  # a second call starts nothing more
        assert _children() - before == started


@needs_proc
def test_a_fork_server_never_given_programs_is_killed_on_close() -> None:
    """A run that finds everything cached closes the zygote it started early: killed at
    once (it has forked nothing), not waited for while it loads its modules."""
    before = _children()
    runner = Runner(workers=1, preload=(), mode="fork")
    runner.prestart()
    group = runner._spare
    assert group is not None and len(_children() - before) == 1
    runner.close()
    assert group.proc.returncode == -signal.SIGKILL
    assert _children() == before
    with Runner(workers=1, preload=(), mode="fork") as used:  # one that ran leaves by itself
        used.run(Program((Segment("pass"),), "p.md"))
        started = used._groups[0]
    assert started.proc.returncode == 0


def test_a_program_scribbling_on_the_status_pipe_does_not_hang() -> None:
    # Every pipe of the child is read while it runs, the status pipe too: 200 KB written to
    # fd 3 (more than a pipe holds) must not block the program until its timeout.
    from twnotes.runner import Program, run_program

    code = "import os\nos.write(3, b'x' * 200_000)\nprint('done')\n"
    outcome = run_program(Program((Segment(code),), "content/p.md", timeout=10), mode="fork")
    assert (outcome.status, outcome.returncode, outcome.stdout) == ("exited", 0, "done\n")


def test_a_preload_that_starts_a_thread_is_left_out(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A server that imported it could not fork safely: the client starts one without it.
    (tmp_path / "tw_thready.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n",
        encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]))
    from twnotes.runner import Program

    with Runner(workers=1, preload=["colorsys", "tw_thready"], mode="fork") as runner:
        outcome = runner.run(Program((Segment("print('ran')"),), "content/p.md", timeout=20))
        assert runner.excluded == ["tw_thready"]
    assert (outcome.status, outcome.stdout) == ("exited", "ran\n")


@pytest.mark.parametrize(("code", "names"), [
    ("import os.path\nfrom a import b\nfrom d import *\nfrom . import c\n",
     {"os.path", "a", "a.b", "d"}),
    ("import os\ndef (\n", set()),
    ("x = 1\n", set()),
])
def test_what_a_program_imports(code: str, names: set[str]) -> None:
    from twnotes.runner import preload

    assert preload.imported_by(code) == names


@needs_proc
def test_a_large_program_waits_until_its_server_is_free() -> None:
    # Sent while the server still writes a large answer, a program larger than a pipe
    # would block both ends: it is held back until the server is free (PIPELINE_BYTES).
    from twnotes.runner import Program

    loud = Program((Segment("print('x' * 300_000)"),), "content/a.md", timeout=20)
    large = Program((Segment("# " + "y" * 200_000 + "\nprint('ok')"),), "content/b.md",
                    timeout=20)
    results: list[Any] = []
    before = _children()
    runner = Runner(workers=1, preload=(), mode="fork")
    thread = threading.Thread(target=lambda: results.extend(runner.run_all([loud, large])),
                              daemon=True)
    thread.start()
    thread.join(30)
    blocked = thread.is_alive()
    if blocked:  # end the servers, so that neither they nor the thread outlive the test
        for pid in _children() - before:  # the zygote and its servers
            _kill_tree(pid)
        thread.join(10)
    runner.close()
    assert not blocked, "the client and its server blocked each other"
    assert [len(o.stdout) for o in results] == [300_001, 3]

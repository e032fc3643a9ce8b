"""The isolated runner, with real processes: each test is one behaviour of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, as_from_a_terminal
from twnotes.runner import Outcome, Program, Runner, Segment, run_program
from twnotes.runner.preload import REACTOR_BASE

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the runner needs fork()")


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(workers=2, extra_preload=REACTOR_BASE) as shared:  # whatever runs first
        yield shared


def program(code: str, first_line: int = 1, timeout: float = 10.0,
            stop_after: float | None = None, output_limit: int = 1 << 20) -> Program:
    return Program((Segment(code, first_line),), "content/page.md", timeout=timeout,
                   stop_after=stop_after, output_limit=output_limit)


def pid_gone(pid: int, within_s: float = 10.0) -> bool:
    """True once /proc has no such process (a zombie would still be listed). The bound is
    generous for a loaded machine and still far below the leftovers' 60 s sleep."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.02)
    return False


def test_a_clean_program_exits_zero_with_its_output(runner: Runner) -> None:
    outcome = runner.run(program("print('hello')"))
    assert (outcome.status, outcome.returncode, outcome.stdout) == ("exited", 0, "hello\n")


def test_an_exception_names_the_markdown_file_and_line(runner: Runner) -> None:
    outcome = runner.run(program("x = 1\nprint(x / 0)", first_line=40))
    assert outcome.returncode == 1
    assert outcome.exception == "builtins.ZeroDivisionError"
    assert 'File "content/page.md", line 41' in outcome.stderr
    assert "print(x / 0)" in outcome.stderr  # the source line is shown, too
    assert "twnotes" not in outcome.stderr  # no frame of the machinery


def test_a_syntax_error_names_its_line_and_nothing_runs(runner: Runner) -> None:
    outcome = runner.run(program("print('ran')\ndef broken(:\n    pass", first_line=10))
    assert outcome.exception == "builtins.SyntaxError"
    assert 'File "content/page.md", line 11' in outcome.stderr
    assert outcome.stdout == ""


def test_an_infinite_loop_is_timed_out_and_killed(runner: Runner) -> None:
    outcome = runner.run(program("while True:\n    pass", timeout=0.5))
    assert outcome.status == "timed_out"
    assert outcome.returncode is not None and outcome.returncode < 0  # killed by a signal
    assert pid_gone(outcome.pid)


def test_stop_after_interrupts_a_reactor_which_then_exits_cleanly(runner: Runner) -> None:
    code = (
        "from twisted.internet import pollreactor\n"
        "pollreactor.install()\n"
        "from twisted.internet import reactor\n"
        "print(type(reactor).__name__)\n"
        "reactor.run()\n"
        "print('reactor stopped')\n"
    )
    outcome = runner.run(program(code, timeout=5, stop_after=0.3))
    assert outcome.interrupted
    assert (outcome.status, outcome.returncode) == ("exited", 0)
    assert outcome.stdout == "PollReactor\nreactor stopped\n"


def test_a_child_that_ignores_sigterm_is_gone_afterwards(runner: Runner) -> None:
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)'],"
        " stdout=subprocess.PIPE)\n"
        "child.stdout.readline()\n"  # the child has set SIG_IGN by now
        "print(child.pid)\n"
    )
    outcome = runner.run(program(code, timeout=5))
    assert outcome.returncode == 0, outcome.stderr
    assert not outcome.leftover
    assert pid_gone(int(outcome.stdout))


def test_a_flood_of_output_is_cut_at_the_limit(runner: Runner) -> None:
    code = "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 1_000_000)\n"
    outcome = runner.run(program(code, timeout=20, output_limit=64_000))
    assert outcome.status == "output_limit"
    assert outcome.truncated
    assert len(outcome.stdout) + len(outcome.stderr) <= 64_000
    assert pid_gone(outcome.pid)


def test_more_output_than_the_pipes_hold_arrives_whole(runner: Runner) -> None:
    """The server first waits for the exit alone, the output left in the pipes: a program
    that writes more than a pipe holds (64 KiB) waits until it is read, then ends."""
    code = ("import sys\nfor i in range(40):\n    sys.stdout.write(f'{i:04}' * 2500 + '\\n')\n"
            "    sys.stderr.write('e' * 10_000)\n")
    outcome = runner.run(program(code, timeout=10))
    assert (outcome.status, outcome.returncode, outcome.truncated) == ("exited", 0, False)
    assert outcome.stdout.splitlines() == [f"{i:04}" * 2500 for i in range(40)]
    assert outcome.stderr == "e" * 400_000


def test_files_written_by_a_program_appear_nowhere_in_the_repository(runner: Runner) -> None:
    marker = f"twnotes-marker-{os.getpid()}.txt"
    code = (
        "import os, tempfile\n"
        f"paths = ['{marker}', os.path.expanduser('~/{marker}'),\n"
        f"         os.path.join(tempfile.gettempdir(), '{marker}')]\n"
        "for path in paths:\n"
        "    with open(path, 'w') as handle:\n"
        "        handle.write('x')\n"
        "    print(os.path.abspath(path))\n"
    )
    before = git_status()
    outcome = runner.run(program(code))
    assert outcome.returncode == 0, outcome.stderr
    written = [Path(line) for line in outcome.stdout.splitlines()]
    assert len(written) == 3
    for path in written:
        assert not path.is_relative_to(ROOT), path
        assert not path.exists(), f"{path} left behind"
    assert not (ROOT / marker).exists()
    assert git_status() == before


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=30).stdout


def test_segments_share_one_namespace_and_split_the_output(runner: Runner) -> None:
    prog = Program((Segment("x = 1\nprint(x)", 5), Segment("x += 1\nprint(x)", 12)), "p.md")
    outcome = runner.run(prog)
    assert outcome.returncode == 0
    assert outcome.segments_stdout == ("1\n", "2\n")
    assert outcome.stdout == "1\n2\n"


def test_stdin_is_closed(runner: Runner) -> None:
    outcome = runner.run(program("import sys\nprint(repr(sys.stdin.read()))", timeout=3))
    assert outcome.stdout == "''\n"


def test_a_programs_streams_are_those_of_python_on_pipes(tmp_path: Path) -> None:
    """The servers make the programs' sys.stdin/stdout/stderr once, ahead: they must still
    be streams on /dev/null and pipes, line buffered, not on the server's own fds, which
    here are a regular file (a file's stream could seek and would buffer by its block)."""
    code = ("import sys, os\nout = sys.stdout\nprint(out.seekable(), out.line_buffering, "
            "out.encoding, sys.stderr.errors, sys.stdin.seekable(), sys.stdin.read() == '', "
            "out.buffer.raw._blksize == os.fstat(1).st_blksize, out.buffer.raw.fileno())")
    driver = ("import json, sys\nfrom twnotes.runner import Program, Segment, run_program\n"
              f"o = run_program(Program((Segment({code!r}),), 'p.md'))\n"
              "sys.stderr.write(json.dumps([o.stdout, o.stderr]))\n")
    with open(tmp_path / "out.txt", "wb") as regular_file:
        done = subprocess.run([sys.executable, "-c", driver], stdout=regular_file,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=True)
    stdout, stderr = json.loads(done.stderr)
    assert (stdout, stderr) == ("False True utf-8 backslashreplace True True True 1\n", "")


def test_each_program_runs_in_a_fresh_main_module(runner: Runner) -> None:
    first = runner.run(program("leak = 1\nprint(__name__)"))
    second = runner.run(program("print('leak' in globals())"))
    assert (first.stdout, second.stdout) == ("__main__\n", "False\n")


def test_signal_dispositions_and_mask_are_a_fresh_interpreters(runner: Runner) -> None:
    """The servers ignore SIGINT and work out once what a child resets: every program still
    starts with the handlers and the (empty) mask of `python -c`."""
    code = ("import signal\nprint(sorted((int(s), repr(signal.getsignal(s))) for s in "
            "signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)), "
            "signal.pthread_sigmask(signal.SIG_BLOCK, []))")
    # As `python -c` started where SIGINT and SIGTERM are not ignored (in a background job
    # they are; a program gets them anyway: the next test).
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=60, preexec_fn=as_from_a_terminal).stdout
    assert "default_int_handler" in fresh
    for _ in range(2):  # the first program of a server, and one after it
        assert runner.run(program(code)).stdout == fresh


SIGNALS_UNDER_NOHUP = """
import json, signal, subprocess, sys
from twnotes.runner import Program, Runner, Segment
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
code = "import signal; print([repr(signal.getsignal(s)) for s in (signal.SIGHUP, signal.SIGINT)])"
fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
with Runner() as runner:
    got = runner.run(Program((Segment(code, 1),), "page.md", timeout=10.0)).stdout
print(json.dumps([fresh, got]))
"""


def test_a_signal_ignored_when_the_servers_start_stays_ignored_in_every_program() -> None:
    """An exec keeps what its parent ignored (nohup's SIGHUP): a program keeps it ignored as
    `python -c` started from the same place would. SIGINT is the runner's own (stop_after):
    a program gets Python's handler for it even where a background job's is ignored."""
    proc = subprocess.run([sys.executable, "-c", SIGNALS_UNDER_NOHUP], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    fresh, got = json.loads(proc.stdout)
    ignored, python_s = "<Handlers.SIG_IGN: 1>", repr(signal.default_int_handler)
    assert fresh == repr([ignored, ignored]) + "\n", proc.stdout
    assert got == repr([ignored, python_s]) + "\n", proc.stdout


def test_the_fork_server_has_not_installed_a_reactor() -> None:
    code = "import sys\nprint('twisted.internet.reactor' in sys.modules)\n"
    outcome = run_program(program(code))
    assert outcome.stdout == "False\n"


def test_exec_mode_runs_a_fresh_interpreter_with_the_same_contract() -> None:
    outcome: Outcome = run_program(program("import sys\nprint(1/0)", first_line=3),
                                   mode="exec")
    assert outcome.exception == "builtins.ZeroDivisionError"
    assert 'File "content/page.md", line 4' in outcome.stderr


NEW_SESSION_SLEEP = (
    "import subprocess\n"
    "child = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
    "print(child.pid)\n"
)


def not_running(pid: int, within_s: float = 10.0) -> bool:
    """True once the process is gone or a zombie (reaped by whoever is its parent now)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            return True
        if stat[stat.rfind(b")") + 2:].startswith(b"Z"):
            return True
        time.sleep(0.02)
    return False


def test_a_process_started_in_a_new_session_is_gone_afterwards(runner: Runner) -> None:
    outcome = runner.run(program(NEW_SESSION_SLEEP, timeout=5))
    assert outcome.returncode == 0, outcome.stderr
    assert not outcome.leftover
    assert pid_gone(int(outcome.stdout))  # killed and reaped by the fork server


def test_a_forked_child_in_a_new_session_is_gone_afterwards(runner: Runner) -> None:
    # A fork without exec does not show the marker in /proc/PID/environ; the subreaper
    # still finds it among its children.
    code = (
        "import os, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(pid)\n"
    )
    outcome = runner.run(program(code, timeout=5))
    assert outcome.returncode == 0, outcome.stderr
    assert pid_gone(int(outcome.stdout))


def test_exec_mode_also_ends_a_process_in_a_new_session() -> None:
    outcome = run_program(program(NEW_SESSION_SLEEP, timeout=5), mode="exec")
    assert outcome.returncode == 0, outcome.stderr
    assert not outcome.leftover
    # Not our child in exec mode: its new parent reaps the zombie.
    assert not_running(int(outcome.stdout))


def test_a_pattern_one_program_compiled_is_compiled_ahead_for_the_next() -> None:
    """re's cache is learned by the server (see runner.patterns); a pattern that warns when
    compiled is not, so that each program still sees its warning."""
    quiet, noisy = "twnotes-[a-z]+-learned", "[[twnotes]"
    compile_both = f"import re\nre.compile({quiet!r})\nre.compile({noisy!r})\n"
    look = (f"import re, warnings\nprint((str, {quiet!r}, 0) in re._cache, "
            f"(str, {noisy!r}, 0) in re._cache)\n"
            f"with warnings.catch_warnings(record=True) as w:\n"
            f"    warnings.simplefilter('always')\n    re.compile({noisy!r})\n"
            f"print([x.category.__name__ for x in w])\n")
    with Runner(workers=1) as one:
        first = one.run(program(compile_both))
        second = one.run(program(look))
    assert first.returncode == 0 and "FutureWarning" in first.stderr
    assert second.stdout == "True False\n['FutureWarning']\n", second.stdout + second.stderr


def test_a_warning_of_the_compiler_reaches_the_program_as_in_a_fresh_interpreter(
        runner: Runner) -> None:
    """The client compiles the segments ahead (protocol.compiled_segments) only if silent:
    a SyntaxWarning is still shown by the program itself, every time, and it still runs."""
    code = "x = 1\nprint(x is 1)\n"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=60)
    assert "SyntaxWarning" in fresh.stderr
    for _ in range(2):
        outcome = runner.run(program(code, first_line=3))
        assert outcome.stdout == fresh.stdout == "True\n"
        assert 'content/page.md:4: SyntaxWarning: "is" with a literal' in outcome.stderr, \
            outcome.stderr


def test_a_program_runs_in_a_fresh_folder_only_its_user_can_enter(runner: Runner) -> None:
    """The working folder is private (mode 700, whatever the umask lets through) and empty,
    the second program's too (a clean folder is handed on, not shared)."""
    code = ("import os, stat\nfolder = os.getcwd()\n"
            "print(oct(stat.S_IMODE(os.stat(folder).st_mode)), os.listdir(folder),"
            " os.stat(folder).st_uid == os.getuid())\n"
            "open('left-behind', 'w').close()\n")
    for _ in range(2):
        assert runner.run(program(code)).stdout == "0o700 [] True\n"


def test_a_program_that_ends_without_a_report_did_not_fail_to_compile(runner: Runner) -> None:
    """os._exit skips the child's report: the outcome still says the code compiled and ran."""
    outcome = runner.run(program("import os\nprint('ran', flush=True)\nos._exit(3)"))
    assert (outcome.status, outcome.returncode) == ("exited", 3)
    assert outcome.compile_failed is False
    assert outcome.stdout == "ran\n"

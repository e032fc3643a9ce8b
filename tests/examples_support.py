"""Running the example programs like a reader would, and checking their recorded output.

Each example that starts a reactor runs in its own process (a reactor cannot be restarted,
and the pytest process must never import ``twisted.internet.reactor``: other tests fork
children that install their own reactor). Children run with ``-W error::DeprecationWarning``
in a new session, so a timeout kills the example together with any server it started.

The pages show ``examples/output/<name>.txt``, produced by a real run. The tests compare a
fresh run with it after normalising what varies (timings, ports, counts marked ``~``);
``UPDATE_EXAMPLE_OUTPUT=1 pytest tests/test_examples_output.py`` (``make example-output``)
records them again.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from conftest import ROOT

EXAMPLES = ROOT / "examples"
OUTPUT = EXAMPLES / "output"
WARNINGS = ["-W", "error::DeprecationWarning"]

# Examples import their siblings by plain name, as `python examples/x.py` lets them.
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@dataclasses.dataclass(frozen=True)
class Run:
    """One recorded run of an example program: what a page shows as its output."""

    name: str  # examples/output/<name>.txt
    script: str  # file under examples/
    args: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return " ".join(["$ python", f"examples/{self.script}", *self.args])

    @property
    def recorded(self) -> Path:
        return OUTPUT / f"{self.name}.txt"


RUNS = (
    Run("blocking_client", "blocking_client.py"),
    Run("selectors_client", "selectors_client.py"),
    Run("greenlet_switch", "greenlet_switch.py"),
    Run("gevent_client", "gevent_client.py"),
    Run("async_api", "async_api.py"),
    Run("blocking_pitfall", "blocking_pitfall.py"),
    Run("reactor_basics", "reactor_basics.py"),
    Run("reactor_thread", "reactor_thread.py"),
    Run("choose_reactor", "choose_reactor.py", ("--reactor", "poll")),
    Run("choose_reactor_too_late", "choose_reactor.py", ("--reactor", "poll", "--too-late")),
    Run("transports", "transports.py"),
    Run("per_connection", "per_connection.py"),
    Run("poetry_client", "poetry_client.py"),
    Run("failures", "failures.py"),
    Run("timeouts", "timeouts.py"),
)


def run_example(
    script: str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run examples/<script> from the repository root; kill its whole session on timeout."""
    with subprocess.Popen(
        [sys.executable, *WARNINGS, str(Path("examples") / script), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(f"{script} did not exit within {timeout} s:\n{out}{err}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# The examples mostly wait (slow servers, timers, sleeps): the first output a test asks for
# starts every recorded run, this many at a time, so the tests wait about as long as the
# slowest example rather than their sum. One xdist group holds every module that reads
# them (XDIST_GROUP), so each program runs once per `make test`.
CONCURRENT_RUNS = 4
XDIST_GROUP = "examples"
_pool = ThreadPoolExecutor(max_workers=CONCURRENT_RUNS, thread_name_prefix="example")
_started: dict[Run, Future[subprocess.CompletedProcess[str]]] = {}
_lock = threading.Lock()


def start_runs(runs: Iterable[Run]) -> None:
    """Start the runs not started yet, in the background (each bounded by run_example)."""
    with _lock:
        for run in runs:
            if run not in _started:
                _started[run] = _pool.submit(run_example, run.script, *run.args)


def result_of(run: Run) -> subprocess.CompletedProcess[str]:
    """The finished run (started now unless start_runs started it already)."""
    start_runs([run])
    return _started[run].result()


def output_of(run: Run) -> str:
    """The stdout of one run, which must exit 0 and write nothing to stderr. Behaviour tests
    share the run the output test made; asking for one starts all of RUNS (start_runs)."""
    start_runs(RUNS)
    result = result_of(run)
    assert result.returncode == 0, f"{run.command} exited {result.returncode}:\n{result.stderr}"
    assert result.stderr == "", f"{run.command} wrote to stderr:\n{result.stderr}"
    return result.stdout


def transcript(run: Run) -> str:
    """What the page shows: the command line, then the program's output."""
    return f"{run.command}\n{output_of(run)}"


_VARIES = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])"), "<float>"),  # measured: timings, CPU
    (re.compile(r"~\d+"), "~<n>"),  # counts that depend on timing
    (re.compile(r"[ \t]+$", re.MULTILINE), ""),
]


def normalise(text: str) -> str:
    """Blank out what legitimately changes between two runs of the same program."""
    for pattern, replacement in _VARIES:
        text = pattern.sub(replacement, text)
    return text


def measured(pattern: str, text: str) -> list[float]:
    """Every float captured by the regex's first group, in order (for behaviour checks)."""
    return [float(m.group(1)) for m in re.finditer(pattern, text)]

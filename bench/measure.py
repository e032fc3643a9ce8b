"""Run one command and measure it: wall time and peak memory of its whole process tree.

Two memory figures, because the stages differ in shape. `max_rss` comes from wait4(2) on
the command: the kernel folds in every descendant that was waited for, so it is the peak
resident set of the *largest single process* in the tree (what `/usr/bin/time -v` prints).
Parallel stages (sanitize workers, snippet fork servers) hold several processes at once, so
`tree_rss` adds up the resident sets of every live process of the tree, sampled every
20 ms from /proc: a lower bound on the true peak of the sum (a spike shorter than the
interval can be missed), the figure to read for the parallel stages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")
SAMPLE_INTERVAL: Final = 0.02


class CommandFailed(RuntimeError):
    """A measured command exited with a code the stage does not expect."""


@dataclasses.dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    max_rss: int  # bytes, largest single process (wait4)
    tree_rss: int  # bytes, largest sampled sum over the live tree
    output: str  # stdout + stderr, for checks on what the command said
    cpu: float = 0.0  # seconds of user + system time of the command and its waited children


@dataclasses.dataclass(frozen=True)
class Timing:
    """Median of repeated samples (memory: the largest seen)."""

    runs: int
    wall: float
    max_rss: int
    tree_rss: int
    walls: tuple[float, ...]
    cpu: float = 0.0  # median user + system seconds: steadier than wall on a shared machine

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Timing:
        return cls(len(samples), statistics.median(s.wall for s in samples),
                   max(s.max_rss for s in samples), max(s.tree_rss for s in samples),
                   tuple(s.wall for s in samples), statistics.median(s.cpu for s in samples))


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                kids += [int(k) for k in handle.read().split()]
    except OSError:
        pass
    return kids


def tree_rss(root: int) -> int:
    """Summed resident set of `root` and all its descendants, now (bytes)."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
        stack += _children(pid)
    return total


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
        ok: Sequence[int] = (0,), timeout: float = 1800) -> Sample:
    """Run argv once (its own session, output to a temp file), measured."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env else None,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_INTERVAL):
                peak[0] = max(peak[0], tree_rss(proc.pid))

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        timer = threading.Timer(timeout, kill)
        sampler.start()
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        kill()  # nothing of the tree may outlive the measurement
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    if code not in ok:
        tail = "\n".join(output.splitlines()[-15:])
        raise CommandFailed(f"{' '.join(argv)}: exit {code} (expected {list(ok)})\n{tail}")
    # Linux reports ru_maxrss in KiB.
    return Sample(wall, usage.ru_maxrss * 1024, max(peak[0], usage.ru_maxrss * 1024), output,
                  usage.ru_utime + usage.ru_stime)


def repeat(times: int, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
           ok: Sequence[int] = (0,), before: Callable[[], None] | None = None,
           check: Callable[[Sample], None] | None = None) -> Timing:
    """Median of `times` runs; `before` resets state before each run, `check` judges each."""
    samples = []
    for _ in range(times):
        if before is not None:
            before()
        sample = run(argv, cwd=cwd, env=env, ok=ok)
        if check is not None:
            check(sample)
        samples.append(sample)
    return Timing.of(samples)


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, kernel: what a reader needs to compare figures."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0))
    return {"CPU": model, "cores": f"{os.cpu_count()} (usable here: {usable})", "RAM": ram,
            "kernel": f"{platform.system()} {platform.release()}",
            "Python": platform.python_version()}


def load_average_1() -> float:
    return os.getloadavg()[0]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"

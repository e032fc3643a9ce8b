"""Exec mode: a fresh interpreter per program, started from the caller's thread: the
fallback where fork() is unavailable or unwanted (`TWNOTES_RUNNER_MODE=exec`). Slower, the
same isolation minus the subreaper (a descendant that both leaves the session and clears
its environment escapes the sweep)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, NoReturn

from twnotes.runner.child import run_in_child
from twnotes.runner.protocol import MARKER_ENV
from twnotes.runner.supervise import Child, Workdirs, supervise

_BOOTSTRAP = (
    "import sys\nfrom twnotes.runner.execmode import exec_child_main\n"
    "exec_child_main(int(sys.argv[1]), int(sys.argv[2]))\n"
)


def exec_child_main(status_fd: int, program_fd: int) -> NoReturn:
    """Entry point in the fresh interpreter: read the program from a pipe, then run it."""
    with os.fdopen(program_fd, "rb") as handle:
        data = json.loads(handle.read())
    os.set_inheritable(status_fd, False)
    run_in_child(data["program"], data["workdir"], status_fd)


def spawn_exec(program: dict[str, Any], workdir: str) -> Child:
    token = os.urandom(16).hex()
    st_r, st_w = os.pipe()
    prog_r, prog_w = os.pipe()
    env = dict(os.environ, HOME=workdir, TMPDIR=workdir, PYTHONDONTWRITEBYTECODE="1")
    env[MARKER_ENV] = token
    proc = subprocess.Popen(
        [sys.executable, "-c", _BOOTSTRAP, str(st_w), str(prog_r)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=workdir, env=env, start_new_session=True, pass_fds=(st_w, prog_r),
    )
    os.close(st_w)
    os.close(prog_r)
    with os.fdopen(prog_w, "wb") as handle:
        handle.write(json.dumps({"program": program, "workdir": workdir}).encode())
    assert proc.stdout is not None and proc.stderr is not None
    out, err = os.dup(proc.stdout.fileno()), os.dup(proc.stderr.fileno())
    proc.stdout.close()
    proc.stderr.close()
    return Child(proc.pid, out, err, st_r, proc.poll, reap_others=False, token=token)


def run_exec(program: dict[str, Any]) -> dict[str, Any]:
    """One program in exec mode, start to finish (its outcome's wire form)."""
    workdirs = Workdirs(tempfile.gettempdir())
    try:
        return supervise(program, spawn_exec, workdirs)
    finally:
        workdirs.close()

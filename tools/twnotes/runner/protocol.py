"""What both ends of the runner agree on: limits, markers, and the wire (one JSON object a
line each way between a client and its fork server).

Imported by the fork server and every program it forks, so it imports next to nothing: a
smaller server forks faster (the kernel copies its page tables for every program).
"""

from __future__ import annotations

import contextlib
import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

# Written by the child between two segments so one run can be split per segment afterwards.
SEGMENT_MARK = "\x00\x1etwnotes-segment\x1e\x00\n"
DEFAULT_OUTPUT_LIMIT = 1 << 20  # bytes of stdout + stderr kept; past it the program is killed
TERM_GRACE_S = 0.5  # SIGTERM to SIGKILL
KILL_WAIT_S = 2.0  # after SIGKILL, how long to wait for the processes to vanish
STATUS_FD = 3  # in the child: where it reports how the program ended
MARKER_ENV = "TWNOTES_SNIPPET"  # value: a fresh token per program, inherited by descendants


COMPILED = "compiled"  # a program's key: each segment's code object, marshalled, base64


class RunnerError(RuntimeError):
    """The machinery itself failed (not the program)."""


def send(pipe: BinaryIO, data: dict[str, Any]) -> None:
    pipe.write(json.dumps(data).encode() + b"\n")
    pipe.flush()


def receive(pipe: BinaryIO) -> dict[str, Any]:
    line = pipe.readline()
    if not line:
        raise RunnerError("fork server exited")
    data: dict[str, Any] = json.loads(line)
    return data


def error_outcome(message: str) -> dict[str, Any]:
    """The wire form of an Outcome for a program the machinery could not run."""
    return {"status": "error", "returncode": None, "stdout": "", "stderr": "",
            "segments_stdout": [], "exception": None, "interrupted": False,
            "truncated": False, "leftover": False, "duration_s": 0.0, "pid": 0,
            "message": message}


def padded(segment: dict[str, Any]) -> str:
    """A segment's code after blank lines, so that compile() numbers its lines as the
    Markdown file does."""
    return "\n" * max(int(segment["first_line"]) - 1, 0) + str(segment["code"])


def compiled_segments(program: dict[str, Any]) -> list[str] | None:
    """In the client, before the wire: every segment's code object, compiled there and
    marshalled (the servers and programs run the client's own interpreter), so that neither
    the fork server (where compiling copied some 40 pages per program) nor the child
    compiles; the child only unmarshals. None unless every segment compiles without an
    error or any warning: the child then compiles them itself and reports what compile()
    said, under its own warning policy."""
    import binascii
    import marshal
    import warnings

    filename = str(program["filename"])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            codes = [compile(padded(seg), filename, "exec", dont_inherit=True)
                     for seg in program["segments"]]
    except Exception:
        return None
    if caught:
        return None
    return [binascii.b2a_base64(marshal.dumps(code), newline=False).decode("ascii")
            for code in codes]


def expand(wire: dict[str, Any]) -> dict[str, Any]:
    """An outcome as a fork server sends it (supervise: the output whole, the child's report
    as text) made into every field of an Outcome: the output split per segment, the
    exception, segment, findings and compile failure read from the report."""
    data = dict(wire)
    count = int(data.pop("segments"))
    report: Any = {}
    with contextlib.suppress(ValueError):
        report = json.loads(data.pop("report") or "{}")
    if not isinstance(report, dict):
        report = {}
    parts = _split(data["stdout"], count)
    err_parts = _split(data["stderr"], count)
    # Without a final report (killed, timed out) the marks tell which segment was running.
    segment = report.get("segment", max(len(data["stdout"].split(SEGMENT_MARK)) - 1, 0))
    data.update(stdout="".join(parts), stderr="".join(err_parts), segments_stdout=parts,
                segments_stderr=err_parts, exception=report.get("exception"), message="",
                segment=int(segment), findings=list(report.get("findings", ())),
                compile_failed=bool(report.get("compile_failed", False)))
    return data


def _split(text: str, count: int) -> list[str]:
    parts = text.split(SEGMENT_MARK)
    return parts + [""] * (count - len(parts))

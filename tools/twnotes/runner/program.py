"""What to run and how it ended: the runner's data, frozen, as its callers see it.

On the wire (and inside the fork server) these travel as the plain dicts that `to_json`
gives, so the server never imports this module (or dataclasses).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from twnotes.runner.protocol import (
    COMPILED,
    DEFAULT_OUTPUT_LIMIT,
    compiled_segments,
    error_outcome,
    expand,
)

Status = Literal["exited", "timed_out", "output_limit", "error"]


@dataclasses.dataclass(frozen=True)
class Segment:
    """Source code that starts on line `first_line` (1-based) of the program's file."""

    code: str
    first_line: int = 1
    errors_allowed: bool = False  # Twisted's logged error/critical events do not fail it
    deprecations_allowed: bool = False  # DeprecationWarning is not an error while it runs

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "first_line": self.first_line,
                "errors_allowed": self.errors_allowed,
                "deprecations_allowed": self.deprecations_allowed}


@dataclasses.dataclass(frozen=True)
class Program:
    """What to run. Segments share one namespace and run in order, like one script."""

    segments: tuple[Segment, ...]
    filename: str = "<snippet>"
    timeout: float = 10.0
    stop_after: float | None = None  # send SIGINT after this many seconds (like Ctrl-C)
    output_limit: int = DEFAULT_OUTPUT_LIMIT

    def to_json(self) -> dict[str, Any]:
        return {"segments": [seg.to_json() for seg in self.segments],
                "filename": self.filename, "timeout": self.timeout,
                "stop_after": self.stop_after, "output_limit": self.output_limit}

    def wire(self) -> dict[str, Any]:
        """What travels to a fork server or a fresh interpreter: to_json(), plus the code
        objects compiled here when that is silent (see protocol.compiled_segments)."""
        data = self.to_json()
        compiled = compiled_segments(data)
        if compiled is not None:
            data[COMPILED] = compiled
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Program:
        data = dict(data)
        segments = tuple(Segment(**seg) for seg in data.pop("segments"))
        return cls(segments=segments, **data)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a program ended. Interpreting it (pass or fail) is the caller's business."""

    status: Status
    returncode: int | None  # exit code, or -N for death by signal N; None if never reaped
    stdout: str
    stderr: str
    segments_stdout: tuple[str, ...]  # stdout split at segment boundaries
    exception: str | None  # "module.QualName" of an uncaught exception, if any
    interrupted: bool  # SIGINT was sent (stop_after)
    truncated: bool  # output went past the limit
    leftover: bool  # some process of the group could not be made to go away
    duration_s: float
    pid: int
    message: str = ""
    segments_stderr: tuple[str, ...] = ()  # stderr split at segment boundaries
    segment: int = 0  # index of the segment that was running when the program ended
    # Twisted's logged error/critical events: {"segment": i, "level": ..., "text": ...}
    findings: tuple[dict[str, Any], ...] = ()
    compile_failed: bool = False  # a syntax error: no segment ran

    def to_json(self) -> dict[str, Any]:
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for key in ("segments_stdout", "segments_stderr", "findings"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        """From to_json()'s form, or from a fork server's (see protocol.expand)."""
        data = expand(data) if "report" in data else dict(data)
        for key in ("segments_stdout", "segments_stderr", "findings"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)

    @classmethod
    def error(cls, message: str) -> Outcome:
        """A program the machinery could not run (the message says why)."""
        return cls.from_json(error_outcome(message))

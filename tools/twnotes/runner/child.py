"""The child side: run one program in this already isolated process, report, and exit.

Called in a freshly forked child (fork mode) or in a fresh interpreter (exec mode), with
fds 0-2 already redirected and the status fd open for the final report (a JSON object:
the exception, the segment that was running, Twisted's findings). The program arrives as
the dict `Program.to_json()` gives; this module imports only what a fork server has anyway.
"""

from __future__ import annotations

import atexit
import binascii
import builtins
import contextlib
import json
import linecache
import marshal
import os
import signal
import sys
import traceback
import types

from twnotes.runner import child_checks, patterns
from twnotes.runner.protocol import COMPILED, SEGMENT_MARK, STATUS_FD, padded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

_KEEP: list[object] = []  # the server's stdio objects: kept alive so GC never closes fds 0-2
# What a fresh interpreter ignores at startup: what CPython sets to SIG_IGN (SIGPIPE,
# SIGXFSZ), and what the parent ignored, which an exec keeps (nohup's SIGHUP). Read when
# this module is first imported, which in a fork server is before it changes any handler.
# Not SIGINT and SIGTERM, which the runner sends its programs (stop_after, the clean-up): a
# background job starts with them ignored, and a program must get them all the same.
_IGNORED_AT_START = {getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ")
                     if hasattr(signal, name)} | {
    sig for sig in signal.valid_signals()
    if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGINT, signal.SIGTERM)
    and signal.getsignal(sig) is signal.SIG_IGN}


def _differing() -> tuple[bool, list[tuple[int, Any]]]:
    """Whether signals are blocked, and (signal, the handler a fresh interpreter has) for
    each signal whose handler differs from that."""
    blocked = bool(signal.pthread_sigmask(signal.SIG_BLOCK, []))
    resets: list[tuple[int, Any]] = []
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        wanted: Any
        if sig in _IGNORED_AT_START:
            wanted = signal.SIG_IGN
        else:
            wanted = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        if signal.getsignal(sig) is not wanted:
            resets.append((sig, wanted))
    return blocked, resets


# Set by a fork server once its own handlers are final (prepare_signals): a child inherits
# them as they are, so what it has to reset is known before the fork.
_PREPARED: list[tuple[bool, list[tuple[int, Any]]]] = []


def prepare_signals() -> None:
    """In the fork server, after its last change of a signal handler: what each child resets
    is worked out once here (looking at 64 signals in every child cost about 0.7 ms)."""
    _PREPARED[:] = [_differing()]


def reset_signals() -> None:
    """Default dispositions, as a fresh interpreter has them; only the signals whose handler
    differs are touched (one system call each, not one per signal).

    SIGINT gets Python's default_int_handler: Twisted installs its own SIGINT handler (which
    stops the reactor) only when it finds that one in place.
    """
    blocked, resets = _PREPARED[0] if _PREPARED else _differing()
    if blocked:
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for sig, wanted in resets:
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            signal.signal(sig, wanted)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)


def _open_stdio() -> list[Any]:
    """Text streams on fds 0-2 as a program's sys.stdin, stdout, stderr; line buffered, so
    that a killed program still shows what it printed before the kill."""
    return [
        open(0, encoding="utf-8", closefd=False),
        open(1, "w", encoding="utf-8", closefd=False, buffering=1),
        open(2, "w", encoding="utf-8", errors="backslashreplace",
             closefd=False, buffering=1),
    ]


_STDIO: list[Any] = []  # made once by a fork server (prepare_stdio), used by each child


def prepare_stdio() -> None:
    """In the fork server: fd 0 on /dev/null for good (every child inherits it as its
    stdin), and the children's text streams, made once here instead of in every child
    (three open() calls there copied some 50 of the server's pages, about 0.1 ms).

    A stream notes what its fd was when it was made (block size, whether it can seek): the
    output streams are made while a pipe stands in for fds 1 and 2, as in a child, not on
    the server's own fds (which may be a terminal or a file). The server never uses them,
    so every child starts from the same untouched streams."""
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0)
        os.close(null)
    read_end, write_end = os.pipe()
    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        for fd in (1, 2):
            os.dup2(write_end, fd)
        _STDIO[:] = _open_stdio()
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(read_end)
        os.close(write_end)


def _fresh_stdio() -> None:
    _KEEP.extend([sys.stdin, sys.stdout, sys.stderr])
    sys.stdin, sys.stdout, sys.stderr = _STDIO or _open_stdio()


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _fresh_main(filename: str, workdir: str) -> types.ModuleType:
    """The process state a fresh `python FILE` would start with, as far as a program sees."""
    reset_signals()
    _fresh_stdio()
    if os.environ.get("HOME") != workdir or os.environ.get("TMPDIR") != workdir:
        os.environ["HOME"] = os.environ["TMPDIR"] = workdir  # (a fork server set them)
    if "PYTHONSTARTUP" in os.environ:
        del os.environ["PYTHONSTARTUP"]
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        # Forget the server's choice: re-read TMPDIR.
        tempfile.tempdir = None  # type: ignore[attr-defined]
    sys.argv = [filename]
    sys.path[0] = workdir
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=builtins, __file__=filename)
    sys.modules["__main__"] = main
    atexit._clear()
    return main


def _segment_boundary() -> None:
    child_checks.collect_garbage()  # findings of the block before: its own
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, SEGMENT_MARK.encode())
    os.write(2, SEGMENT_MARK.encode())


def _code_objects(program: dict[str, Any], report: dict[str, Any]) -> list[types.CodeType]:
    """The segments' code objects: unmarshalled if the client compiled them, else compiled
    here (a syntax error raises, with report["segment"] naming its segment)."""
    filename = str(program["filename"])
    given = program.get(COMPILED)
    if given is not None:
        return [marshal.loads(binascii.a2b_base64(text)) for text in given]
    compiled = []
    for index, seg in enumerate(program["segments"]):
        report["segment"] = index
        compiled.append(compile(padded(seg), filename, "exec", dont_inherit=True))
    return compiled


def _run_segments(program: dict[str, Any], main: types.ModuleType,
                  report: dict[str, Any]) -> None:
    """Compile every segment (a syntax error anywhere: nothing runs, as in a file), run them
    in order in one namespace. Exceptions propagate to the caller."""
    filename = str(program["filename"])
    segments = program["segments"]
    # Every segment in the line cache, so tracebacks (and warnings) can show source lines:
    # a lazy entry, made into lines only if something asks (most programs never do).
    linecache.cache[filename] = (lambda: "".join(padded(seg) + "\n" for seg in segments),)
    report["compile_failed"] = True
    compiled = _code_objects(program, report)
    report["segment"] = len(segments) - 1
    report["compile_failed"] = False
    child_checks.start([bool(seg["errors_allowed"]) for seg in segments])
    for index, (seg, obj) in enumerate(zip(segments, compiled, strict=True)):
        if index:
            _segment_boundary()
        report["segment"] = index
        child_checks.enter_segment(index, bool(seg["deprecations_allowed"]))
        exec(obj, main.__dict__)


def _report_exception(exc: BaseException, report: dict[str, Any]) -> int:
    kind = type(exc)
    report["exception"] = f"{kind.__module__}.{kind.__qualname__}"
    # Drop the machinery's own frames: the traceback starts in the program.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    if report.get("compile_failed"):
        tb = None
    traceback.print_exception(exc.with_traceback(tb))
    return 130 if isinstance(exc, KeyboardInterrupt) else 1


def _report_bytes(report: dict[str, Any]) -> bytes:
    """The report as JSON; the usual one (nothing raised, nothing found) without the json
    module, whose first use in a child copies pages that it would not copy otherwise."""
    if (report.get("exception") is None and not report.get("findings")
            and not report.get("compile_failed") and not report.get("patterns")
            and isinstance(report.get("segment"), int)):
        return b'{"exception": null, "segment": %d}' % report["segment"]
    return json.dumps(report).encode()


def _finish(report: dict[str, Any], status_fd: int) -> None:
    """What interpreter exit would do (non-daemon threads, atexit), then the report."""
    threading = sys.modules.get("threading")
    with contextlib.suppress(BaseException):
        if threading is not None and threading.active_count() > 1:
            threading._shutdown()  # wait for non-daemon threads, as interpreter exit does
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    child_checks.collect_garbage()
    report["findings"] = child_checks.findings()
    with contextlib.suppress(BaseException):
        learned = patterns.new_since_fork()
        if learned:
            report["patterns"] = learned
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    with contextlib.suppress(BaseException):
        os.write(status_fd, _report_bytes(report))


def run_in_child(program: dict[str, Any], workdir: str, status_fd: int = STATUS_FD
                 ) -> NoReturn:
    """Run the program in this (already isolated) process and exit; never returns."""
    code = 1
    report: dict[str, Any] = {"exception": None, "segment": 0}
    try:
        main = _fresh_main(str(program["filename"]), workdir)
        try:
            _run_segments(program, main, report)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException as exc:
            code = _report_exception(exc, report)
        _finish(report, status_fd)
    finally:
        os._exit(code & 0xFF if code >= 0 else 1)

"""Regular expressions learned from the programs: what one program compiled, the server
compiles too, so the next programs find it in `re`'s cache.

Twisted's modules compile their patterns when they are imported, and a module that imports
the reactor at its top level (twisted.mail.smtp, twisted.words.protocols.irc) is imported by
each program itself (see preload): each program compiled the same patterns again, about 2 ms
of every such program. A compiled pattern is immutable and `re.compile` returns the cached
one either way, so a program cannot tell (its module bodies still run, in the program).
A pattern that warns when compiled is never kept: each program must see that warning.

The child side (`new_since_fork`) runs in every program: it only compares a length, unless
the program compiled something. The server side (`learn`) runs between two programs.
"""

from __future__ import annotations

import contextlib
import itertools
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LEARN_LIMIT = 256  # the server's cache stops growing here (re keeps 512, oldest dropped)
PER_PROGRAM = 64  # patterns one program reports at most
MAX_CHARS = 10_000  # a longer pattern is not learned
_AT_FORK = [0]  # len(re._cache) in the server when it forked the program


def _cache() -> dict[Any, Any] | None:
    cache = getattr(sys.modules.get("re"), "_cache", None)
    return cache if isinstance(cache, dict) else None


def new_since_fork() -> list[list[Any]]:
    """In the child: the patterns compiled since the fork, as [is_bytes, text, flags]."""
    cache = _cache()
    known = _AT_FORK[0]
    if cache is None or len(cache) <= known:
        return []
    found: list[list[Any]] = []
    with contextlib.suppress(Exception):  # a program may have replaced re's cache
        for kind, pattern, flags in itertools.islice(cache, known, known + PER_PROGRAM):
            if kind is str and isinstance(pattern, str) and type(flags) is int:
                found.append([0, pattern, flags])
            elif kind is bytes and isinstance(pattern, bytes) and type(flags) is int:
                found.append([1, pattern.decode("latin-1"), flags])
    return found


def mark_fork() -> None:
    """In the server, before it forks: what the child's cache holds already (once the
    server has learned all it will, children need not report anything)."""
    cache = _cache()
    known = len(cache) if cache is not None else 0
    _AT_FORK[0] = sys.maxsize if known >= LEARN_LIMIT else known


def learn(patterns: object) -> None:
    """In the server: compile what a program reported (valid entries only, warning-free)."""
    cache = _cache()
    if cache is None or not isinstance(patterns, list):
        return
    import re
    import warnings

    for entry in patterns[:PER_PROGRAM]:
        if len(cache) >= LEARN_LIMIT:
            return
        with contextlib.suppress(Exception):
            is_bytes, text, flags = entry
            if (not isinstance(text, str) or len(text) > MAX_CHARS or type(flags) is not int
                    or flags & re.DEBUG):  # DEBUG prints, and re never caches it
                continue
            pattern: str | bytes = text.encode("latin-1") if is_bytes else text
            key = (type(pattern), pattern, flags)
            if key in cache:
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    re.compile(pattern, flags)
                finally:
                    if caught:
                        cache.pop(key, None)

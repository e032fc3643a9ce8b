"""Which modules a fork server imports before it forks the programs about to run.

A child forked from a server that has already imported a module gets it for free; a fresh
import of Twisted's mail or web modules costs a quarter of a second or more per program.
So the server imports what the programs import (found with `ast`, never by running them),
the site's `preload` setting, and, when a program imports the reactor (itself, or through a
module that imports it when imported, such as twisted.mail.smtp), what importing the reactor
brings in without installing it (REACTOR_BASE). Nothing more: a server grows with each
module, and every megabyte makes each fork slower. Nothing of Twisted is imported for
programs that never touch it. A module that imports the reactor when imported is imported
with a stand-in for the reactor and kept out of sys.modules until a program imports it
(see deferred).

NEVER is the one list of what must not be imported ahead: anything that installs a reactor
(a program must still be able to choose its own, and a reactor cannot be shared or
restarted) or that patches the standard library on import (gevent's and eventlet's
monkey-patching). The server also checks after each import that none of them crept in,
that no thread was started, and that no DeprecationWarning was hidden (import_ahead).
"""

from __future__ import annotations

import _thread
import os
import re
import sys
import warnings

from twnotes.runner import codecache
from twnotes.runner.deferred import DEFERRALS, REACTOR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

NEVER = (
    "twisted.internet.reactor",  # importing it installs the default reactor
    "twisted.internet.gireactor", "twisted.internet.gtk3reactor",
    "twisted.internet.glib2reactor", "twisted.internet.gtk2reactor",
    "twisted.internet.wxreactor", "twisted.internet.wxsupport", "twisted.internet.tksupport",
    "twisted.internet.cfreactor", "twisted.internet.iocpreactor",
    "twisted.internet.win32eventreactor", "twisted.internet._threadedselect",
    "gevent", "eventlet", "greenlet",  # monkey-patching, and their own hubs and threads
    "__main__", "__mp_main__",
)

# What `from twisted.internet import reactor` imports besides installing the reactor (the
# default reactor's module and what it needs, TLS among it), plus the other reactors' modules
# a program may install instead: preloaded only for programs that will import the reactor.
REACTOR_BASE = (
    "twisted.internet.default",
    "twisted.internet.epollreactor",
    "twisted.internet.pollreactor",
    "twisted.internet.selectreactor",
    "twisted.internet.defer",
    "twisted.internet.protocol",
    "twisted.internet.task",
    "twisted.internet.error",
    "twisted.internet.interfaces",
    "twisted.internet.threads",
    "twisted.python.failure",
    "twisted.python.log",
    "twisted.logger",
)


def never(name: str) -> bool:
    """Whether `name` (or a package it is in) is on the NEVER list."""
    return any(name == bad or name.startswith(bad + ".") for bad in NEVER)


def imports_reactor(name: str) -> bool:
    """Whether importing `name` installs a Twisted reactor (a NEVER module of Twisted's)."""
    return name.startswith("twisted.") and never(name)


def imported_by(code: str) -> set[str]:
    """Absolute module names the code imports, and for `from m import x`, also `m.x` (it may
    be a submodule; the server skips what does not import). Unparsable code: nothing."""
    if "import" not in code:
        return set()  # most snippets of a large site: no parse needed
    import ast

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if alias.name != "*")
    return found


def _names_rx(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


# A module-level (column 0) import of a NEVER module, `from twisted.internet import reactor`
# included (also inside parentheses over several lines). A text search, not a parse: the
# server checks every module it is about to import, and most never mention these.
_NEVER_AT_TOP = re.compile(
    rf"^(?:import\s+(?:{_names_rx(NEVER)})\b|from\s+(?:{_names_rx(NEVER)})\b"
    r"|from\s+twisted\.internet\s+import\s+(?:\([^)]*|[^\n]*)\breactor\b)",
    re.MULTILINE)


def imports_never_at_top(source: str) -> bool:
    """Whether importing a module with this source would import a NEVER module itself
    (found at column 0; one that does so indirectly is caught by the server's check)."""
    return _NEVER_AT_TOP.search(source) is not None


def top_level_imports(source: str, package: str) -> list[str]:
    """The modules a module imports when it is imported (its top-level statements, also in
    top-level if/try blocks), relative imports resolved against `package`: what the server
    imports instead of a module it must not import itself (NEVER modules left out)."""
    return [name for name in _top_level_names(source, package) if not never(name)]


def _resolved(module: str | None, level: int, package: str) -> str:
    """The absolute name of `from <level dots><module> import ...` inside `package`."""
    base = module or ""
    if level:
        parts = package.split(".")[: len(package.split(".")) - level + 1]
        base = ".".join([*parts, base] if base else parts)
    return base


def _top_level_names(source: str, package: str) -> list[str]:
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    statements = list(tree.body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, ast.If | ast.Try):
            statements[:0] = [*node.body, *getattr(node, "orelse", []),
                              *[s for h in getattr(node, "handlers", []) for s in h.body]]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolved(node.module, node.level, package)
            found += [base] + [f"{base}.{a.name}" for a in node.names if a.name != "*"]
    return [name for name in dict.fromkeys(found) if name]


def preload_for(codes: Iterable[str], configured: Iterable[str] = ()) -> tuple[str, ...]:
    """What a server should import before running programs made of `codes`."""
    wanted: set[str] = set()
    for code in codes:
        wanted |= imported_by(code)
    if any(imports_reactor(name) for name in wanted):
        wanted.update(REACTOR_BASE)
    chosen = sorted(name for name in wanted if not never(name))
    return tuple(chosen) + tuple(n for n in configured if n not in wanted and not never(n))


# ---------------------------------------------------------------------------- in the zygote


def _polluted(before: set[str], threads_before: int,
              caught: Sequence[warnings.WarningMessage]) -> str:
    """Why the last import left the server unfit to fork programs from ('' if it did not)."""
    bad = sorted(m for m in set(sys.modules) - before if never(m))
    if bad:
        return f"it imported {bad[0]}"
    if _thread._count() > threads_before:
        return "it started a thread"
    if any(issubclass(w.category, DeprecationWarning) for w in caught):
        return "it warned of a deprecation (a program must see that warning itself)"
    return ""


def import_ahead(names: Sequence[str]) -> tuple[str, str]:
    """Import what the programs will import; ("", "") or (module, why) for the first one
    that made the server unfit (the client then starts a server without it).

    Anything it prints goes to stderr: stdout is the wire to the client. The working
    directory is off sys.path, as it is for the programs (theirs is a fresh temp dir).
    """
    saved_path = sys.path[:]
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    saved_fd = os.dup(1)
    os.dup2(2, 1)
    queue_ = list(names)
    seen: set[str] = set()
    try:
        with DEFERRALS.collecting_imports():
            while queue_:
                name = queue_.pop(0)
                if name in seen or name in sys.modules or never(name):
                    continue
                seen.add(name)
                instead = _instead_of(name)
                if instead is not None:
                    queue_[:0] = instead
                    codecache.read_ahead(name)  # its code at least (each program runs it)
                    continue
                why = _import_one(name)
                if why:
                    return name, why
                if DEFERRALS.set_aside():  # the programs will import the reactor
                    queue_ += [n for n in REACTOR_BASE if n not in seen]
    finally:
        sys.stdout.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        sys.path[:] = saved_path
    return "", ""


def _instead_of(name: str) -> list[str] | None:
    """For a module that imports a NEVER module other than the reactor when imported (one
    that patches, another reactor's module): what to preload instead (what it imports, and
    what the reactor's import brings if it imports that too); None for a module that may be
    imported itself, the reactor's importers included (they are deferred: see deferred)."""
    source = _source_of(name)
    if source is None or not imports_never_at_top(source):
        return None
    package = name if _is_package(name) else name.rpartition(".")[0]
    names = _top_level_names(source, package)
    if all(n == REACTOR or not never(n) for n in names):  # its importers are deferred
        return None
    reactor = REACTOR_BASE if any(map(imports_reactor, names)) else ()
    return [n for n in names if not never(n)] + list(reactor)


def _import_one(name: str) -> str:
    """Import `name`; why that left the server unfit ('' if it did not, or if `name` does
    not import: the program will say)."""
    import importlib

    threads, before = _thread._count(), set(sys.modules)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            importlib.import_module(name)
        except Exception:
            return ""
        finally:
            touched, DEFERRALS.touched = DEFERRALS.touched, ""
    if touched:
        return f"it used the reactor while being imported (reactor.{touched})"
    return _polluted(before, threads, caught)


def _spec(name: str) -> Any:
    import importlib.util

    try:
        return importlib.util.find_spec(name)  # imports the parent packages (safe: checked)
    except (ImportError, ValueError, AttributeError):
        return None


def _source_of(name: str) -> str | None:
    spec = _spec(name)
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not origin.endswith(".py"):
        return None
    try:
        with open(origin, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _is_package(name: str) -> bool:
    return getattr(_spec(name), "submodule_search_locations", None) is not None

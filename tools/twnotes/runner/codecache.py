"""Code objects read ahead for the modules each program must import itself.

A module that imports a NEVER module other than the reactor at its top level (one that
patches, say; see preload) is never imported by a fork server: every program runs its
module body again, as it must (the reactor's importers are deferred instead: see
deferred). What it need not do again is read and unmarshal the module's compiled file
(for twisted.mail.smtp, before it was deferred, about a third of its import's CPU). The
server reads the code once; a finder first on sys.meta_path hands it to the import system
in each program, which then creates and runs the module exactly as a fresh interpreter
does (same file, same spec, same loader class). If the source changed since, or the
program's sys.path finds another file, the usual path runs.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import importlib.machinery
    import types
    from collections.abc import Sequence


def stamp(path: str) -> tuple[int, int] | None:
    """What tells that a file changed (its mtime and size); None if it cannot be read."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class CodeFinder:
    """Finds nothing itself: for a module it holds the code of, it takes the spec that the
    path finder gives and, if that is the same unchanged file, lets its loader return the
    code read ahead (not an importlib.abc subclass: that import would weigh on the server)."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, tuple[int, int], types.CodeType]] = {}

    def add(self, name: str) -> None:
        """Read `name`'s code now (in the server), if it is a module from a .py file."""
        if name in self.codes:
            return
        import importlib.util
        import warnings

        with contextlib.suppress(Exception):
            spec = importlib.util.find_spec(name)
            origin = getattr(spec, "origin", None)
            loader = getattr(spec, "loader", None)
            if not isinstance(origin, str) or not origin.endswith(".py") or loader is None:
                return
            read_at = stamp(origin)
            # Without a valid .pyc the source is compiled here: a warning of the compiler
            # (an invalid escape is a DeprecationWarning) must reach each program instead.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                code = loader.get_code(name)
            if code is not None and not caught and read_at is not None:
                self.codes[name] = (origin, read_at, code)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        entry = self.codes.get(fullname)
        if entry is None:
            return None
        import importlib.machinery

        origin, read_at, code = entry
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin != origin or spec.loader is None:
            return spec
        if stamp(origin) == read_at:
            spec.loader.get_code = lambda name: code  # type: ignore[attr-defined]
        return spec


FINDER = CodeFinder()


def read_ahead(name: str) -> None:
    """In the server: keep `name`'s code for the programs (installs the finder once)."""
    if FINDER not in sys.meta_path:
        sys.meta_path.insert(0, FINDER)
    FINDER.add(name)

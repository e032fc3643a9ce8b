"""Modules that import the reactor when they are imported, preloaded with the reactor left out.

twisted.mail.smtp, twisted.words.protocols.irc and many more do `from twisted.internet
import reactor` at their top level: importing one installs the default reactor, which a
fork server must never do (see preload). Left to the programs, each program ran their
module bodies again: most of the cost of a snippet that imports them.

So the server imports them while a stand-in holds the place of `twisted.internet.reactor`:
their bodies run once, in the server, and bind the stand-in where they would bind the
reactor. Every module that was being imported when the reactor, or a module already found
to import it, was imported (seen by a hook on `__import__`: it also sees the imports of
modules already loaded) depends on the reactor; once the server's import is over, these are
taken out of sys.modules again and kept aside. They are the *deferred* modules.

In a program, the first import of a deferred module (`Deferrals.find_spec`) first imports
the real reactor, installing the default one unless the program installed its own, as a
fresh interpreter would at that point; the stand-in is then replaced by the reactor in the
deferred modules' namespaces, class dicts and default arguments (anything that still holds
it forwards to the reactor), and they all go back into sys.modules. A module that touched
the stand-in while it was imported is refused (`touched`): its state may depend on the
reactor, so the server is unfit and the client leaves it out. If a deferred module's
source changed since the server imported it, nothing is restored and the program imports
everything itself.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import sys
import types

from twnotes.runner.codecache import stamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    import importlib.machinery
    from collections.abc import Iterator, Sequence
    from typing import Any

REACTOR = "twisted.internet.reactor"


class StandIn(types.ModuleType):
    """What the deferred modules bind as `reactor` in the server. Touching it there is
    noted (and fails); in a program, once released, it forwards to the installed reactor."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system looks for __path__, __file__, ...
            raise AttributeError(name)
        if not DEFERRALS.released:
            DEFERRALS.touched = DEFERRALS.touched or name
            raise AttributeError(f"the reactor is not installed yet (reactor.{name})")
        return getattr(sys.modules[REACTOR], name)


def _initializing() -> list[str]:
    """The modules being imported right now (the import stack)."""
    return [name for name, module in list(sys.modules.items())
            if getattr(getattr(module, "__spec__", None), "_initializing", False)]


def _unlink(name: str, module: object) -> None:
    """Take `name` out of sys.modules and off its parent package, as if never imported."""
    if sys.modules.get(name) is module:
        del sys.modules[name]
    parent, _, child = name.rpartition(".")
    package = sys.modules.get(parent)
    if package is not None and getattr(package, child, None) is module:
        with contextlib.suppress(AttributeError):
            delattr(package, child)


def _stamp(module: types.ModuleType) -> tuple[int, int] | None:
    origin = getattr(getattr(module, "__spec__", None), "origin", None)
    return stamp(origin) if isinstance(origin, str) else None


class Deferrals:
    """The deferred modules, their files' stamps, and the finder (first on sys.meta_path)
    that restores them in a program (not an importlib.abc subclass: see child_checks)."""

    def __init__(self) -> None:
        self.stand_in = StandIn(REACTOR)
        self.modules: dict[str, types.ModuleType] = {}
        self.stamps: dict[str, tuple[int, int] | None] = {}
        self.depends: set[str] = set()  # found to import the reactor when imported
        self.holders: list[tuple[str, Any, Any]] = []  # where they hold the stand-in
        self.touched = ""  # an attribute of the stand-in asked for while collecting
        self.collecting = False
        self.released = False

    # ------------------------------------------------------------------ in the server

    @contextlib.contextmanager
    def collecting_imports(self) -> Iterator[None]:
        """The server's imports: the stand-in in place, every import statement watched."""
        original = builtins.__import__
        had_reactor = REACTOR in sys.modules
        if not had_reactor:
            sys.modules[REACTOR] = self.stand_in
        self.collecting = True
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

        def watched(name: str, globals: Any = None, locals: Any = None,
                    fromlist: Sequence[str] | None = (), level: int = 0) -> Any:
            self._note(name, globals, fromlist or (), level)
            return original(name, globals, locals, fromlist or (), level)

        builtins.__import__ = watched
        try:
            yield
        finally:
            builtins.__import__ = original
            self.collecting = False
            if not had_reactor:
                _unlink(REACTOR, self.stand_in)
            if not self.modules:
                sys.meta_path.remove(self)

    def _note(self, name: str, globals: Any, fromlist: Sequence[str], level: int) -> None:
        if level:  # `from ..name import x`: resolved as the import system will
            with contextlib.suppress(ImportError, ValueError):
                name = importlib.util.resolve_name(
                    "." * level + name, (globals or {}).get("__package__") or "")
        targets = [name, *(f"{name}.{item}" for item in fromlist)]
        if any(t == REACTOR or t in self.depends for t in targets):
            self.depends.update(_initializing())

    def set_aside(self) -> list[str]:
        """After one import in the server: take every module that depends on the reactor out
        of sys.modules (the stand-in stays until the collection ends). Their names."""
        found = []
        for name in sorted(self.depends):
            module = sys.modules.get(name)
            if module is None or module is self.stand_in:
                continue
            self.modules[name] = module
            self.stamps[name] = _stamp(module)
            _holders(vars(module), self.stand_in, name, set(), self.holders)
            _unlink(name, module)
            found.append(name)
        return found

    # ------------------------------------------------------------------ in a program

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        module = self.modules.get(fullname)
        if module is not None and self.collecting:  # a later import of the server's:
            self.depends.update(_initializing())  # what imports it depends on the reactor
            return _Restore.spec(fullname, module)
        if module is None or not self._release(fullname):
            return None
        # Not in sys.modules yet: given a spec for a module already there, the import
        # system would use that module's own spec, and run its file again.
        return _Restore.spec(fullname, module)

    def _release(self, importing: str) -> bool:
        """Import the real reactor and put every deferred module back (but `importing`,
        which the import system puts in), rebound to it; False (and nothing restored) if
        one of their files changed since."""
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        modules, self.modules = self.modules, {}
        for name, module in modules.items():
            if _stamp(module) != self.stamps.get(name):
                return False
        self.released = True
        reactor = importlib.import_module(REACTOR)
        _rebind(self.holders, self.stand_in, reactor)
        for name, module in sorted(modules.items()):  # a package before its modules
            parent, _, child = name.rpartition(".")
            if name != importing:
                sys.modules[name] = module
                if parent in sys.modules:
                    setattr(sys.modules[parent], child, module)
        return True


class _Restore:
    """The loader of a deferred module: hands the import system the module as it is."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.original = getattr(module, "__spec__", None)

    @classmethod
    def spec(cls, name: str, module: types.ModuleType) -> importlib.machinery.ModuleSpec:
        import importlib.machinery

        loader: Any = cls(module)  # a loader by protocol (create_module, exec_module)
        return importlib.machinery.ModuleSpec(name, loader)

    def create_module(self, spec: object) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.original  # the import system set its own: the original again
        if self.original is not None and self.original.loader is not None:
            module.__loader__ = self.original.loader


def _holders(namespace: dict[str, Any], old: object, module: str, seen: set[int],
             found: list[tuple[str, Any, Any]]) -> None:
    """Where a module's or class's namespace holds `old`: its own entries, its functions'
    default arguments, and the same within the classes it defines (each class once)."""
    for key, value in namespace.items():
        if value is old:
            found.append(("item", namespace, key))
            continue
        function = getattr(value, "__func__", value)
        if isinstance(function, types.FunctionType) and function.__module__ == module:
            _in_defaults(function, old, found)
        elif (isinstance(value, type) and value.__module__ == module
              and id(value) not in seen):
            seen.add(id(value))
            attrs = dict(vars(value))
            found.extend(("attr", value, name) for name, attr in attrs.items() if attr is old)
            _holders(attrs, old, module, seen, found)


def _in_defaults(function: types.FunctionType, old: object,
                 found: list[tuple[str, Any, Any]]) -> None:
    if function.__defaults__ and any(v is old for v in function.__defaults__):
        found.append(("defaults", function, None))
    for name, default in (function.__kwdefaults__ or {}).items():
        if default is old:
            found.append(("item", function.__kwdefaults__, name))


def _rebind(holders: Sequence[tuple[str, Any, Any]], old: object, new: object) -> None:
    """Write `new` where `old` was found: a few writes, so that a program copies only the
    pages that hold them (walking the modules there copied every page it looked at)."""
    for kind, holder, key in holders:
        if kind == "item":
            holder[key] = new
        elif kind == "attr":
            setattr(holder, key, new)
        else:
            holder.__defaults__ = tuple(new if v is old else v for v in holder.__defaults__)


DEFERRALS = Deferrals()

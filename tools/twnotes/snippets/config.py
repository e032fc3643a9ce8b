"""`[tool.twnotes]` in pyproject.toml: the settings that make the tool serve any Hugo site.

The nearest pyproject.toml at or above the working directory is read; paths in it are
relative to its folder. Without the file or the table, the defaults are this site's own
layout, so nothing changes for it. A key or value that is not understood is bad input
(`pyproject.toml: [tool.twnotes] …`), never silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twnotes.runner import Program
from twnotes.runner.preload import never
from twnotes.snippets.normalise import Normaliser

FILE = "pyproject.toml"
DEFAULT_TIMEOUT: float = Program.timeout  # the runner's default: one number for both
KEYS = ("content", "results", "timeout", "normalisers", "ellipsis", "preload", "fence_keys")


class ConfigError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    """`[tool.twnotes]` read and checked (DEFAULTS without it)."""

    root: Path = Path(".")  # the folder the paths are relative to
    content: tuple[Path, ...] = (Path("content"),)
    results: Path | None = Path("data/generated/snippets.json")
    timeout: float = DEFAULT_TIMEOUT
    normalisers: tuple[Normaliser, ...] = ()
    ellipsis: bool = False
    preload: tuple[str, ...] = ()
    fence_keys: frozenset[str] = frozenset()

    def content_paths(self) -> list[Path]:
        return [self.root / p for p in self.content]

    def results_path(self) -> Path | None:
        return None if self.results is None else self.root / self.results


DEFAULTS = Settings()


def find(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / FILE).is_file():
            return folder / FILE
    return None


def load(start: Path | None = None) -> Settings:
    """The settings for the project around `start` (default: the working directory)."""
    path = find(start)
    if path is None:
        return DEFAULTS
    import tomllib  # only when there is a file to read

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    table = data.get("tool", {}).get("twnotes", {})
    try:
        return from_table(table, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: [tool.twnotes] {exc}") from None


def _strings(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key} must be a list of non-empty strings, not {value!r}")
    return tuple(value)


def _normalisers(value: object) -> tuple[Normaliser, ...]:
    if not isinstance(value, list):
        raise ConfigError("normalisers must be an array of tables {pattern, replacement}")
    found = []
    for n, item in enumerate(value):
        if (not isinstance(item, dict) or set(item) != {"pattern", "replacement"}
                or not all(isinstance(v, str) for v in item.values()) or not item["pattern"]):
            raise ConfigError(f"normalisers[{n}] must have exactly a non-empty string "
                              f"'pattern' and a string 'replacement', not {item!r}")
        try:
            pattern = re.compile(item["pattern"], re.MULTILINE)
            pattern.sub(item["replacement"], "")  # a bad group reference fails here
        except (re.error, IndexError) as exc:
            raise ConfigError(f"normalisers[{n}]: {exc}") from None
        found.append((pattern, item["replacement"]))
    return tuple(found)


def _results(value: object) -> Path | None:
    if not isinstance(value, str):
        raise ConfigError(f"results must be a path, or \"\" for none, not {value!r}")
    return Path(value) if value else None


def _timeout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, not {value!r}")
    return float(value)


def _ellipsis(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"ellipsis must be true or false, not {value!r}")
    return value


def _preload(value: object) -> tuple[str, ...]:
    names = _strings("preload", value)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name):
            raise ConfigError(f"preload: {name!r} is not a module name")
        if never(name):
            raise ConfigError(f"preload: {name!r} is never preloaded (it installs a "
                              "reactor or patches the standard library when imported)")
    return names


# How each key's value is read (ConfigError names what is wrong with it).
_READERS: dict[str, Callable[[object], object]] = {
    "content": lambda value: tuple(Path(p) for p in _strings("content", value)),
    "results": _results,
    "timeout": _timeout,
    "normalisers": _normalisers,
    "ellipsis": _ellipsis,
    "preload": _preload,
    "fence_keys": lambda value: frozenset(_strings("fence_keys", value)),
}


def from_table(table: dict[str, Any], root: Path) -> Settings:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    fields: dict[str, Any] = {"root": root}
    for key in KEYS:  # in KEYS order, as the checks always ran
        if key in table:
            fields[key] = _READERS[key](table[key])
    return Settings(**fields)

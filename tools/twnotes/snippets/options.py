"""The fence attributes that steer a run: which keys are ours, what values they take."""

from __future__ import annotations

import dataclasses
import re

from twnotes.snippets import config
from twnotes.snippets.config import Settings

DEFAULT_TIMEOUT = config.DEFAULT_TIMEOUT
OUR_KEYS = frozenset({"test", "timeout", "stop_after", "raises", "continues", "allow",
                      "ellipsis", "setup"})
ALLOW = ("errors", "deprecations")  # allow="errors": logged error/critical events pass
SETUP_KINDS = ("hidden", "collapsed")
SETUP_KEYS = frozenset({"setup", "timeout", "allow"})  # what a setup block may carry
# Keys Hugo itself understands on a code fence: passed to the highlighter (.Options) or
# rendered as the block's class and id. Case-insensitive, as in Hugo.
HUGO_KEYS = frozenset(k.lower() for k in (
    "anchorLineNos", "guessSyntax", "hl_Lines", "hl_inline", "lineAnchors", "lineNos",
    "lineNoStart", "lineNumbersInTable", "noClasses", "nohl", "style", "tabWidth",
    "class", "id",
))


@dataclasses.dataclass(frozen=True)
class Options:
    """The fence attributes that steer a run (see README, 代码片段测试)."""

    skip: bool = False
    timeout: float = DEFAULT_TIMEOUT
    stop_after: float | None = None
    raises: str | None = None
    continues: bool = False
    allow: tuple[str, ...] = ()  # of ALLOW: what Twisted reports that does not fail it
    ellipsis: bool | None = None  # `...` in the expected output; None: the site's setting
    setup: str | None = None  # "hidden" or "collapsed": runs before the next block, no verdict

    def as_dict(self) -> dict[str, object]:
        """`dataclasses.asdict(self)` without its deep copies (each value is a number, a
        string, None or a tuple of strings): part of every cache key, made for every case."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{key} must be a positive number of seconds, not {value!r}")
    return float(value)


def _allow(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if (not isinstance(items, list) or not items
            or not all(isinstance(v, str) and v in ALLOW for v in items)):
        raise ValueError(f'allow must be "errors", "deprecations" or a list of them, '
                         f"not {value!r}")
    return tuple(sorted(set(items)))


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return value


def _check_keys(attrs: dict[str, object], settings: Settings) -> None:
    passthrough = {k.lower() for k in settings.fence_keys} | HUGO_KEYS
    unknown = sorted(k for k in attrs if k not in OUR_KEYS and k.lower() not in passthrough)
    if unknown:
        raise ValueError(f"unknown fence attribute {unknown[0]!r} "
                         f"(known: {', '.join(sorted(OUR_KEYS))}, and Hugo's highlighting keys"
                         f"{' and fence_keys of [tool.twnotes]' if settings.fence_keys else ''})")


def _test(value: object) -> bool:
    if value is not None and value != "skip":
        raise ValueError(f'test must be "skip", not {value!r}')
    return value == "skip"


def _times(attrs: dict[str, object], settings: Settings) -> tuple[float, float | None]:
    """(timeout, stop_after): stop_after, when given, comes before the timeout."""
    timeout = _number("timeout", attrs["timeout"]) if "timeout" in attrs else settings.timeout
    stop_after = _number("stop_after", attrs["stop_after"]) if "stop_after" in attrs else None
    if stop_after is not None and stop_after >= timeout:
        raise ValueError(f"stop_after ({stop_after:g}) must be less than timeout ({timeout:g})")
    return timeout, stop_after


def _raises(value: object) -> str | None:
    if value is not None and (not isinstance(value, str)
                              or not re.fullmatch(r"[A-Za-z_][\w.]*", value)):
        raise ValueError(f'raises must be an exception name like "ValueError", not {value!r}')
    return value


def _setup(attrs: dict[str, object]) -> str | None:
    setup = attrs.get("setup")
    if setup is None:
        return None
    if setup not in SETUP_KINDS:
        raise ValueError(f'setup must be "hidden" or "collapsed", not {setup!r}')
    clash = sorted(k for k in attrs if k in OUR_KEYS - SETUP_KEYS)
    if clash:
        raise ValueError(f"{clash[0]} cannot be used on a setup block (it has no verdict "
                         "of its own: put it on the block the setup comes before)")
    return str(setup)


def options_from(attrs: dict[str, object], settings: Settings = config.DEFAULTS) -> Options:
    """Validate our keys; ValueError names the first problem. Hugo's own keys, and the keys
    the site's render hooks read (`fence_keys`), pass through without affecting a run."""
    _check_keys(attrs, settings)
    skip = _test(attrs.get("test"))
    timeout, stop_after = _times(attrs, settings)
    raises = _raises(attrs.get("raises"))
    setup = _setup(attrs)
    return Options(
        skip=skip, timeout=timeout, stop_after=stop_after, raises=raises,
        continues=_flag("continues", attrs.get("continues", False)),
        allow=_allow(attrs["allow"]) if "allow" in attrs else (),
        ellipsis=_flag("ellipsis", attrs["ellipsis"]) if "ellipsis" in attrs else None,
        setup=setup)

"""What the fork servers learn from the programs, in-process against values written out by
hand: the regular expressions of re's cache (runner.patterns) and the code objects read
ahead for the modules each program imports itself (runner.codecache). Survivors of
`make mutation` over the merged runner."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import py_compile
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twnotes.runner import codecache, patterns

# ------------------------------------------------------------------------- runner.patterns


@pytest.fixture
def cache() -> Iterator[dict[Any, Any]]:
    """re's own cache, emptied for the test and given back as it was (with the fork mark)."""
    held = re._cache  # type: ignore[attr-defined]
    saved, mark = dict(held), patterns._AT_FORK[0]
    held.clear()
    try:
        yield held
    finally:
        held.clear()
        held.update(saved)
        patterns._AT_FORK[0] = mark


def test_a_child_reports_what_it_compiled_after_the_fork(cache: dict[Any, Any]) -> None:
    for number in range(64):  # 64 known: the window is [64, 128), not [64, 64 | 64)
        re.compile(f"known{number}")
    patterns.mark_fork()
    assert patterns._AT_FORK[0] == 64
    assert patterns.new_since_fork() == []
    re.compile("a+")
    re.compile(b"\xe9+")  # bytes travel as latin-1 text, with a 1 in front
    re.compile("c+", re.IGNORECASE)
    assert patterns.new_since_fork() == [[0, "a+", 0], [1, "\xe9+", 0], [0, "c+", 2]]


def test_a_child_reports_64_patterns_at_most_the_first_ones(cache: dict[Any, Any]) -> None:
    patterns.mark_fork()
    assert patterns._AT_FORK[0] == 0
    for number in range(70):
        re.compile(f"new{number}")
    assert patterns.new_since_fork() == [[0, f"new{n}", 0] for n in range(64)]


def test_once_the_server_knows_256_patterns_children_report_none(
        cache: dict[Any, Any]) -> None:
    for number in range(255):
        re.compile(f"known{number}")
    patterns.mark_fork()
    assert patterns._AT_FORK[0] == 255
    re.compile("one-more")
    patterns.mark_fork()
    assert patterns._AT_FORK[0] == sys.maxsize
    re.compile("after-the-limit")
    assert patterns.new_since_fork() == []


def test_a_server_past_the_limit_by_its_own_imports_learns_nothing(
        cache: dict[Any, Any]) -> None:
    for number in range(300):  # re keeps 512: the server's own modules may pass 256
        re.compile(f"own{number}")
    patterns.mark_fork()
    assert patterns._AT_FORK[0] == sys.maxsize
    patterns.learn([[0, "not learned", 0]])
    assert len(cache) == 300


class _EqualToAll:
    """A key part that claims to equal anything (`is` tells it from a class, `==` cannot)."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class _Claims(type):
    def __eq__(cls, other: object) -> bool:
        return True

    __hash__ = type.__hash__


class _OddInt(int, metaclass=_Claims):
    """Flags whose class says it is int."""


def test_only_entries_of_res_own_form_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # A program may fill re's cache with anything; only (str, str, int) and
    # (bytes, bytes, int) keys are patterns, and only plain values go into the report.
    fake = {(str, b"bytes text", 0): 1, (bytes, "str text", 0): 2, (str, "bool", True): 3,
            (_EqualToAll(), b"liar", 0): 4, (_EqualToAll(), "liar", 0): 9,
            (str, "odd", _OddInt(0)): 5, (bytes, b"odd", _OddInt(0)): 6,
            (str, "kept", 8): 7, (bytes, b"kept", 0): 8}
    monkeypatch.setattr(patterns, "_AT_FORK", [0])
    with monkeypatch.context() as inside:  # pytest itself needs the real re meanwhile
        inside.setitem(sys.modules, "re", types.SimpleNamespace(_cache=fake))
        found = patterns.new_since_fork()
    assert found == [[0, "kept", 8], [1, "kept", 0]]


def test_without_a_cache_of_its_own_re_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "_AT_FORK", [7])
    with monkeypatch.context() as inside:  # pytest itself needs the real re meanwhile
        inside.setitem(sys.modules, "re", types.SimpleNamespace(_cache=None))
        patterns.mark_fork()
        found = patterns.new_since_fork()
        patterns.learn([[0, "x", 0]])  # nothing to learn into: no error either
    assert (patterns._AT_FORK[0], found) == (0, [])


def test_the_server_compiles_only_valid_silent_cached_patterns(
        cache: dict[Any, Any], capsys: pytest.CaptureFixture[str]) -> None:
    patterns.learn([
        [0, "q+", 0], [1, "\xe9+", 2], [0, "debug+", 128], [0, "s" * 10_001, 0],
        [0, "t" * 10_000, 0], [0, "[[x]", 0], [0, "(", 0], [0, "flag", re.IGNORECASE],
        [0, 5, 0], [0, "flags", "2"], [0, "short"], [0, "bool", True], [0, "odd", _OddInt(0)],
        [0, "u+", 2], [0, "ascii", 256]])  # 128 is re.DEBUG, 256 re.ASCII; a RegexFlag no int
    assert list(cache) == [(str, "q+", 0), (bytes, b"\xe9+", 2), (str, "t" * 10_000, 0),
                           (str, "u+", 2), (str, "ascii", 256)]
    assert capsys.readouterr().out == ""  # DEBUG would have printed the parse tree


def test_the_server_learns_64_per_program_and_256_in_all(cache: dict[Any, Any]) -> None:
    patterns.learn([[0, f"first{n}", 0] for n in range(70)])
    assert list(cache) == [(str, f"first{n}", 0) for n in range(64)]
    patterns.learn("not a list")
    patterns.learn([[0, "first0", 0], [0, "after a known one", 0]])
    assert len(cache) == 65 and (str, "after a known one", 0) in cache
    for number in range(190):
        re.compile(f"more{number}")
    patterns.learn([[0, "room for one", 0], [0, "no room", 0]])
    assert len(cache) == 256
    assert (str, "room for one", 0) in cache
    assert (str, "no room", 0) not in cache


# ------------------------------------------------------------------------ runner.codecache


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A module of a fresh name on sys.path (name, file)."""
    folder = tmp_path / "mods"
    folder.mkdir()
    name = f"twnotes_cc_{tmp_path.name.replace('-', '_')}"
    source = folder / f"{name}.py"
    source.write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    return name, source


def test_the_code_read_ahead_is_what_the_unchanged_file_imports_with(
        module: tuple[str, Path]) -> None:
    name, source = module
    finder = codecache.CodeFinder()
    finder.add(name)
    origin, stamp, code = finder.codes[name]
    info = source.stat()
    assert (origin, stamp) == (str(source), (info.st_mtime_ns, info.st_size))
    assert code.co_filename == str(source)
    spec = finder.find_spec(name, None)
    assert spec is not None and spec.origin == str(source)
    assert spec.loader.get_code(name) is code  # type: ignore[union-attr]


def test_a_changed_file_is_read_again(module: tuple[str, Path]) -> None:
    name, source = module
    finder = codecache.CodeFinder()
    finder.add(name)
    code = finder.codes[name][2]
    source.write_text("VALUE = 22\n", encoding="utf-8")  # another size, another mtime
    spec = finder.find_spec(name, None)
    assert spec is not None and spec.origin == str(source)
    assert "get_code" not in vars(spec.loader)
    fresh = spec.loader.get_code(name)  # type: ignore[union-attr]
    assert fresh is not code and 22 in fresh.co_consts


def test_an_older_file_put_back_is_read_again(module: tuple[str, Path]) -> None:
    name, source = module
    finder = codecache.CodeFinder()
    finder.add(name)
    stamp = finder.codes[name][1]
    source.write_text("VALUE = 3\n", encoding="utf-8")  # same size, an older mtime
    os.utime(source, ns=(stamp[0] - 10**9, stamp[0] - 10**9))
    spec = finder.find_spec(name, None)
    assert spec is not None and "get_code" not in vars(spec.loader)


def test_a_file_gone_after_the_path_finder_saw_it_is_left_to_the_loader(
        module: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    name, source = module
    finder = codecache.CodeFinder()
    finder.add(name)
    seen = importlib.util.spec_from_file_location(name, source)
    source.unlink()
    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec",
                        lambda fullname, path=None, target=None: seen)
    spec = finder.find_spec(name, None)
    assert spec is seen and "get_code" not in vars(spec.loader)


def test_another_file_or_none_found_is_left_to_the_path_finder(
        module: tuple[str, Path], tmp_path: Path) -> None:
    name, _ = module
    finder = codecache.CodeFinder()
    finder.add(name)
    for folder in ("aaa", "zzz"):  # paths before and after the one read ahead
        elsewhere = tmp_path / folder
        elsewhere.mkdir()
        other = elsewhere / f"{name}.py"
        other.write_text("VALUE = 3\n", encoding="utf-8")
        spec = finder.find_spec(name, [str(elsewhere)])
        assert spec is not None and spec.origin == str(other)
        assert "get_code" not in vars(spec.loader)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert finder.find_spec(name, [str(empty)]) is None
    assert finder.find_spec("twnotes_cc_never_added", None) is None


def test_only_silent_python_source_is_read_ahead(module: tuple[str, Path]) -> None:
    name, source = module
    (source.parent / "twnotes_cc_escapes.py").write_text('P = "\\d"\n', encoding="utf-8")
    compiled = source.parent / "twnotes_cc_compiled.py"
    compiled.write_text("VALUE = 4\n", encoding="utf-8")
    py_compile.compile(str(compiled), cfile=str(compiled.with_suffix(".pyc")))
    compiled.unlink()  # a .pyc alone: no source file to check it against
    finder = codecache.CodeFinder()
    for each in ("sys", "twnotes_cc_escapes", "twnotes_cc_missing", "twnotes_cc_compiled",
                 name):
        finder.add(each)
    assert list(finder.codes) == [name]


def test_the_finder_goes_first_on_meta_path_once(module: tuple[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    name, _ = module
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(codecache, "FINDER", codecache.CodeFinder())
    codecache.read_ahead(name)
    codecache.read_ahead(name)
    assert sys.meta_path[0] is codecache.FINDER
    assert sys.meta_path.count(codecache.FINDER) == 1
    assert list(codecache.FINDER.codes) == [name]


def test_the_code_cache_imports_nothing_for_its_type_names() -> None:
    # The fork server imports it: its annotations' modules stay out of the server.
    code = ("import sys, twnotes.runner.codecache\n"
            "print([m for m in ('importlib.machinery', 'typing') if m in sys.modules])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert proc.stdout == "[]\n"

"""The size limits every module of tools/twnotes keeps, so a newcomer can read each piece whole.

No file over 400 lines, no function over 60, no block of cyclomatic complexity 15 or more
(radon's measure: one plus a branch, a loop, a boolean operator, a comprehension's `if` or
an `except`). A module that grows past one of them is split along its jobs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

from conftest import ROOT

PACKAGE = ROOT / "tools" / "twnotes"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 14
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_the_package_has_modules() -> None:
    assert len(MODULES) > 20, MODULES


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_file_is_at_most_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{_name(path)} has {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_functions_are_at_most_60_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [f"{f.name} (line {f.lineno}): {(f.end_lineno or f.lineno) - f.lineno + 1} lines"
            for f in _functions(tree)
            if (f.end_lineno or f.lineno) - f.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_blocks_have_complexity_below_15(path: Path) -> None:
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    found = [block for block in blocks for block in [block, *getattr(block, "methods", [])]]
    complex_ = sorted({f"{b.name} (line {b.lineno}): {b.complexity}" for b in found
                       if b.complexity > MAX_COMPLEXITY})
    assert complex_ == []


def test_the_limits_catch_an_oversized_function(tmp_path: Path) -> None:
    # The checks above must be able to fail: a 61-line function with 15 branches.
    body = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(15))
    source = "def big(x):\n" + body + "    y = 0\n" * 30 + "    return y\n"
    tree = ast.parse(source)
    (function,) = _functions(tree)
    assert (function.end_lineno or 0) - function.lineno + 1 > MAX_FUNCTION_LINES
    assert max(b.complexity for b in cc_visit(source)) > MAX_COMPLEXITY

"""Hidden setup: a block with setup="hidden" or "collapsed" runs first, in the same program
as the block after it, and has no verdict of its own (real runs)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from snippets_support import page

from twnotes.snippets import command

pytestmark = pytest.mark.usefixtures("snippet_dir")


def cli(list_only: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command([Path("p.md")], json_path=Path("r.json"), list_only=list_only,
                   out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def entries() -> list[tuple[int, str, str]]:
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    return [(s["line"], s["status"], s["stdout"]) for s in data]


@pytest.mark.parametrize("kind", ["hidden", "collapsed"])
def test_setup_runs_before_the_next_block_in_the_same_program(kind: str) -> None:
    page(f'```python {{setup="{kind}"}}\nimport os\nprint("setup output is not shown")\n'
         "BASE = 40\nSETUP_PID = os.getpid()\n```\n\n"
         "```python\nimport os\nprint(BASE + 2, SETUP_PID == os.getpid())\n```\n\n"
         "```output\n42 True\n```\n")
    code, out, _ = cli()
    assert code == 0, out
    assert entries() == [(12, "passed", "42 True\n")]  # one block counted, its own output
    assert out.startswith("1 passed, 0 failed, 0 skipped")


def test_setup_is_not_listed() -> None:
    page('```python {setup="hidden"}\nx = 1\n```\n\n```python\nprint(x)\n```\n')
    assert cli(list_only=True)[1] == "p.md::L9\tpython\n"


def test_an_error_in_setup_fails_the_block_it_sets_up_pointing_at_the_setup() -> None:
    page('```python {setup="hidden"}\nx = 1\nraise RuntimeError("setup broke")\n```\n\n'
         "```python\nprint(x)\n```\n")
    code, out, _ = cli()
    assert code == 1
    assert out.splitlines()[0] == "p.md:7: raised RuntimeError"
    assert "setup broke" in out
    assert [e[:2] for e in entries()] == [(10, "failed")]


def test_setup_before_a_continued_block_joins_the_chain() -> None:
    page("```python\nx = 1\n```\n\n"
         '```python {setup="hidden"}\nx += 10\n```\n\n'
         "```python {continues=true}\nprint(x)\n```\n\n```output\n11\n```\n")
    assert cli()[0] == 0
    assert [e[:2] for e in entries()] == [(5, "passed"), (13, "passed")]


def test_each_block_gets_only_its_own_setup() -> None:
    page('```python {setup="hidden"}\nonly_first = 1\n```\n\n```python\nprint(only_first)\n```\n\n'
         "```python\nprint('only_first' in globals())\n```\n\n```output\nFalse\n```\n")
    assert cli()[0] == 0


@pytest.mark.parametrize(("body", "line", "reason"), [
    ('```python {setup="hidden"}\nx = 1\n```\n', 5, "needs a Python block after it"),
    ('```python {setup="hidden"}\nprint(1)\n```\n\n```output\n1\n```\n\n```python\npass\n```\n',
     9, "a setup block has no output of its own"),
    ('```python {setup="hidden", test="skip"}\nx = 1\n```\n\n```python\npass\n```\n', 5,
     "test cannot be used on a setup block"),
    ('```python {setup="hidden", continues=true}\nx = 1\n```\n\n```python\npass\n```\n', 5,
     "continues cannot be used on a setup block"),
])
def test_a_setup_block_that_cannot_work_is_bad_input(body: str, line: int, reason: str) -> None:
    page(body)
    code, out, err = cli()
    assert (code, out) == (2, "")
    assert err.startswith(f"p.md:{line}: ") and reason in err, err

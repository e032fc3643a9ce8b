"""Selection and counting, with real runs: -k takes exact ids (globs only with `*`), a chain
runs whole, nothing selected exits 5; each block of a chain has its own verdict, and the
console, the JSON, pytest and --update's cache agree; a bad attribute is always bad input."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from snippets_support import page

from twnotes.snippets import command

TWNOTES = str(Path(sys.executable).parent / "twnotes")


pytestmark = pytest.mark.usefixtures("snippet_dir")


def cli(*args: str, update: bool = False, list_only: bool = False,
        pattern: list[str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command([Path(a) for a in args], json_path=Path("r.json"), update=update,
                   list_only=list_only, pattern=pattern, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def listed(*patterns: str, path: str = "p.md") -> list[str]:
    code, out, _ = cli(path, list_only=True, pattern=list(patterns))
    assert code == 0
    return [line.split("\t")[0] for line in out.splitlines()]


def many_blocks(count: int) -> str:
    """`count` one-line blocks, each 4 lines long: fences at L5, L9, L13, ..."""
    return "".join(f"```python\nprint({n})\n```\n\n" for n in range(count))


# ---------------------------------------------------------------- -k


def test_k_matches_an_id_exactly_not_as_a_prefix() -> None:
    page(many_blocks(40))  # L13 and L133 both exist
    assert listed("p.md::L13") == ["p.md::L13"]
    assert "p.md::L133" in listed("p.md::L*")
    assert listed("p.md::L13*") == ["p.md::L13", "p.md::L133", "p.md::L137"]


def test_k_takes_the_path_from_any_folder_on() -> None:
    page(many_blocks(2), "content/notes/deferred.md")
    for pattern in ("content/notes/deferred.md::L5", "notes/deferred.md::L5",
                    "deferred.md::L5"):
        assert listed(pattern, path="content") == ["content/notes/deferred.md::L5"]
    assert listed("*/deferred.md::L9", path="content") == ["content/notes/deferred.md::L9"]
    assert cli("content", list_only=True, pattern=["ferred.md::L5"])[0] == 5  # not a suffix


def test_k_with_several_patterns_takes_each() -> None:
    page(many_blocks(4))
    assert listed("p.md::L5", "p.md::L17") == ["p.md::L5", "p.md::L17"]


def test_any_member_of_a_chain_selects_the_whole_chain() -> None:
    page("```python\nx = 1\n```\n\n```python {continues=true}\nprint(x)\n```\n\n"
         "```output\n1\n```\n\n```python\nprint('other')\n```\n")
    assert listed("p.md::L9") == ["p.md::L5", "p.md::L9"]
    code, out, _ = cli("p.md", pattern=["p.md::L9"])
    assert code == 0
    assert out.startswith("2 passed, 0 failed, 0 skipped")


@pytest.mark.parametrize("list_only", [False, True])
def test_nothing_selected_exits_5_saying_so(list_only: bool) -> None:
    page(many_blocks(2))
    code, out, err = cli("p.md", list_only=list_only, pattern=["p.md::L6"])
    assert (code, out) == (5, "")
    assert err.startswith("no snippet selected by -k p.md::L6")


def test_the_command_line_exits_5_as_pytest_does() -> None:
    page(many_blocks(1))
    proc = subprocess.run([TWNOTES, "snippets", "-k", "nope", "p.md"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 5, proc.stderr
    assert "no snippet selected" in proc.stderr


# ---------------------------------------------------------------- verdicts per block


CHAIN = ("```python\nprint('one')\n```\n\n```output\none\n```\n\n"  # L5, output L9
         "```python {continues=true}\nprint('two')\n```\n\n```output\nTWO\n```\n\n"  # L13, L17
         "```python {continues=true}\nprint('three')\n```\n\n```output\nthree\n```\n")  # L21


def test_in_a_chain_each_block_has_its_own_verdict() -> None:
    page(CHAIN)
    code, out, _ = cli("p.md")
    assert code == 1
    reports = [line for line in out.splitlines() if re.match(r"p\.md:[0-9]+: ", line)]
    assert reports == ["p.md:17: output differs from the expected output:"]
    assert out.splitlines()[-1].startswith("2 passed, 1 failed, 0 skipped")
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert [(s["line"], s["status"]) for s in data] == [
        (5, "passed"), (13, "failed"), (21, "passed")]
    assert "-TWO" in data[1]["message"] and data[0]["message"] == ""


def test_blocks_after_the_one_that_raised_did_not_run() -> None:
    page("```python\nprint('one')\n```\n\n```python {continues=true}\nraise KeyError(1)\n```\n\n"
         "```python {continues=true}\nprint('never')\n```\n")
    code, out, _ = cli("p.md")
    assert code == 1
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert [(s["status"], s["message"]) for s in data] == [
        ("passed", ""), ("failed", "raised KeyError"),
        ("skipped", "not run: the program ended in the block at line 9")]
    assert "1 passed, 1 failed, 1 skipped" in out


def test_a_syntax_error_in_a_later_block_means_no_block_ran() -> None:
    page("```python\nprint('one')\n```\n\n```output\none\n```\n\n"
         "```python {continues=true}\nif True print(2)\n```\n")
    assert cli("p.md")[0] == 1
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert [(s["status"], s["message"][:16]) for s in data] == [
        ("skipped", "not run: the pro"), ("failed", "raised SyntaxErr")]


@pytest.mark.slow
def test_pytest_counts_what_the_command_counts() -> None:
    page(CHAIN + "\n```python\nprint('alone')\n```\n", "content/p.md")
    Path("pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "-rA", "content"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert "1 failed, 3 passed in" in proc.stdout, proc.stdout
    assert "content/p.md:17: output differs from the expected output:" in proc.stdout
    code, out, _ = cli("content")
    assert code == 1 and out.splitlines()[-1].startswith("3 passed, 1 failed, 0 skipped")


def test_update_stores_what_it_ran_in_the_cache() -> None:
    path = page("```python\nprint('a')\n```\n\n```output\nold\n```\n\n"
                "```python\nprint('b')\n```\n\n```output\nb\n```\n")
    code, out, _ = cli("p.md", update=True)
    assert code == 0 and "updated p.md" in out
    assert "```output\na\n```" in path.read_text(encoding="utf-8")
    code, out, _ = cli("p.md")
    assert code == 0
    assert out.startswith("2 passed, 0 failed, 0 skipped (2 from cache)"), out


def test_update_writes_the_json_for_the_page_as_it_now_reads() -> None:
    page("```python\nprint('a')\nprint('b')\n```\n\n```output\nold\n```\n\n"
         "```python\nprint('c')\n```\n")
    assert cli("p.md", update=True)[0] == 0
    data = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert [(s["line"], s["status"]) for s in data] == [(5, "passed"), (15, "passed")]


# ---------------------------------------------------------------- bad attributes


@pytest.mark.parametrize(("info", "reason"), [
    ("python {timout=3}", "unknown fence attribute 'timout'"),
    ("python {Test=\"skip\"}", "unknown fence attribute 'Test'"),
    ('python {test="skp"}', 'test must be "skip"'),
    ('python test="skip"', "after the language is not read as attributes"),
    ('python {test="skip"} timeout=3', "after '}' is ignored"),
    ("python {timeout=1, timeout=2}", "attribute 'timeout' is given twice"),
    ("python {timeout=0}", "timeout must be a positive number"),
    ('python {continues="yes"}', "continues must be true or false"),
    ("python {stop_after=10}", "stop_after (10) must be less than timeout (10)"),
    ("python {timeout=3", "no closing '}'"),
    ("python {x}", "has no '=value'"),
    ("Python {timout=3}", "unknown fence attribute 'timout'"),
    ("py {ellipsis=1}", "ellipsis must be true or false"),
    ('python3 {setup="shown"}', 'setup must be "hidden" or "collapsed"'),
])
def test_a_malformed_or_misspelt_attribute_is_bad_input(info: str, reason: str) -> None:
    page(f"Text.\n\n```{info}\nraise SystemExit('must not run')\n```\n")
    code, out, err = cli("p.md")
    assert (code, out) == (2, "")
    assert err.startswith("p.md:7: ") and reason in err, err


def test_the_same_mistakes_on_other_languages_are_left_to_hugo() -> None:
    page('```sh test="skip"\necho\n```\n\n```text {a=1, a=2}\nx\n```\n\n'
         "```python\nprint(1)\n```\n")
    assert cli("p.md")[0] == 0

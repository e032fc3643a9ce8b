"""What `twnotes snippets` imports before it hands its first program to the runner.

Every module imported on the way is paid for by every run, before any snippet starts; those
that only some runs need (a diff for a failure, TOML for a config file, the Markdown
extensions a page does not use, hashes for a cache that is off) are imported where they are
used. Each test runs the real command line in a fresh interpreter and stops it at
`Runner.run_all`, where the programs are handed over.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from snippets_support import FRONT_MATTER

from twnotes.cli import COMMANDS, build_parser

# The command up to the first run_all, then what of WATCHED it has imported by then (what
# the runner and the command line module import themselves is theirs, not the snippets').
PROBE = """
import json, sys
from twnotes.runner import pool
from twnotes.cli import main

before = set(sys.modules)

def run_all(self, programs):
    print(json.dumps([name for name in WATCHED if name in set(sys.modules) - before]))
    raise SystemExit(0)

pool.Runner.run_all = run_all
main(ARGV)
"""
WATCHED = ["difflib", "tomllib", "hashlib", "platform", "uuid", "mdit_py_plugins",
           "mdit_py_plugins.footnote", "mdit_py_plugins.deflist", "mdit_py_plugins.tasklists"]
PLAIN = "".join(f"```python\nprint({n})\n```\n\n```output\n{n}\n```\n\n" for n in range(3))


def _imported(folder: Path, argv: list[str]) -> list[str]:
    script = PROBE.replace("WATCHED", repr(WATCHED)).replace("ARGV", repr(argv))
    proc = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    found: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return found


def test_a_plain_page_without_a_cache_imports_none_of_the_extras(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text(FRONT_MATTER + PLAIN, encoding="utf-8")
    assert _imported(tmp_path, ["snippets", "--no-cache", "page.md"]) == []


def test_with_the_cache_only_the_hash_is_imported(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWNOTES_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "page.md").write_text(FRONT_MATTER + PLAIN, encoding="utf-8")
    # platform: the Python version is part of every cache key.
    assert _imported(tmp_path, ["snippets", "page.md"]) == ["hashlib", "platform"]


def test_what_a_page_and_a_project_need_is_imported(tmp_path: Path) -> None:
    """A footnote and a task list on the page bring their extensions (and only those); a
    pyproject.toml brings the TOML reader."""
    (tmp_path / "pyproject.toml").write_text("[tool.twnotes]\ntimeout = 5\n",
                                             encoding="utf-8")
    body = "Text[^1].\n\n[^1]: A note.\n\n- [ ] a task\n\n" + PLAIN
    (tmp_path / "page.md").write_text(FRONT_MATTER + body, encoding="utf-8")
    found = _imported(tmp_path, ["snippets", "--no-cache", "page.md"])
    assert "difflib" not in found and "mdit_py_plugins.deflist" not in found
    assert {"tomllib", "mdit_py_plugins.footnote", "mdit_py_plugins.tasklists"} <= set(found)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("args", [["--help"], ["--no-such-option"]])
def test_a_subcommand_built_alone_says_what_it_says_among_all(
        name: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`main` builds only the parser of the subcommand it is given: its help and its errors
    are those of the whole command line."""
    said = []
    for parser in (build_parser(), build_parser(name)):
        with pytest.raises(SystemExit) as stop:
            parser.parse_args([name, *args])
        said.append((stop.value.code, capsys.readouterr()))
    assert said[0] == said[1]

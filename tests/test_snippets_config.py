"""`[tool.twnotes]` in pyproject.toml, each key with a real run of the command or pytest."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from snippets_support import pyproject

from conftest import ROOT
from twnotes.snippets import command, config

pytestmark = pytest.mark.usefixtures("snippet_dir")


def page(path: str, body: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('+++\ntitle = "t"\n+++\n\n' + body, encoding="utf-8")
    return target


def cli(*paths: str, pattern: list[str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command([Path(p) for p in paths] or None, pattern=pattern, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def results_at(path: str) -> list[tuple[str, int, str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["snippets"]
    return [(s["file"], s["line"], s["status"]) for s in data]


def test_the_repositorys_own_settings_are_the_defaults() -> None:
    """This site's table spells out the defaults, but for the key its code-block hook reads
    (title=): without the table, nothing else changes."""
    ours = config.load(ROOT)
    assert ours == config.Settings(root=ROOT, fence_keys=frozenset({"title"}))
    assert config.load(Path.cwd()) == config.DEFAULTS  # no pyproject.toml up from tmp


def test_content_folders_are_what_runs_without_a_path() -> None:
    pyproject('content = ["docs", "more"]')
    page("docs/a.md", "```python\nprint(1)\n```\n")
    page("more/b.md", "```python\nprint(2)\n```\n")
    page("content/ignored.md", "```python\nraise SystemExit(1)\n```\n")
    code, out, _ = cli()
    assert code == 0 and out.startswith("2 passed"), out


def test_pytest_collects_the_content_folders_too() -> None:
    pyproject('content = ["docs"]')
    page("docs/a.md", "```python\nprint(1)\n```\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           "--collect-only", "docs"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert "docs/a.md::L5" in proc.stdout, proc.stdout + proc.stderr


def test_results_are_merged_into_the_results_file() -> None:
    pyproject('results = "out/results.json"')
    page("content/a.md", "```python\nprint(1)\n```\n\n```python\nprint(2)\n```\n")
    page("content/b.md", "```python\nprint(3)\n```\n")
    assert cli()[0] == 0
    every = [("content/a.md", 5, "passed"), ("content/a.md", 9, "passed"),
             ("content/b.md", 5, "passed")]
    assert results_at("out/results.json") == every
    assert cli(pattern=["a.md::L9"])[0] == 0  # one block run: the others stay
    assert results_at("out/results.json") == every
    Path("content/b.md").unlink()
    page("content/a.md", "```python\nprint('changed')\n```\n\n```python\nprint(2)\n```\n")
    assert cli(pattern=["a.md::L9"])[0] == 0
    # b.md is gone, and a.md:5 now holds other code: both entries go.
    assert results_at("out/results.json") == [("content/a.md", 9, "passed")]


def test_the_results_file_keeps_chinese_as_written() -> None:
    """The file the pages read (and a reviewer diffs) holds the text, not \\u escapes."""
    pyproject('results = "out/results.json"')
    page("content/a.md", "```python\nprint('反应器')\n```\n\n```output\n反应器\n```\n")
    assert cli()[0] == 0
    raw = Path("out/results.json").read_text(encoding="utf-8")
    assert '"stdout": "反应器\\n"' in raw


def test_an_empty_results_path_writes_nothing() -> None:
    pyproject('results = ""')
    page("content/a.md", "```python\nprint(1)\n```\n")
    assert cli()[0] == 0
    assert not Path("data").exists()


def test_the_default_results_path_is_this_sites() -> None:
    page("content/a.md", "```python\nprint(1)\n```\n")
    assert cli()[0] == 0
    assert results_at("data/generated/snippets.json") == [("content/a.md", 5, "passed")]


def test_the_default_timeout_is_configurable() -> None:
    pyproject("timeout = 0.5")
    page("content/a.md", "```python\nimport time\ntime.sleep(30)\n```\n")
    code, out, _ = cli()
    assert code == 1 and "content/a.md:5: timed out after 0.5 s" in out


def test_fence_keys_pass_through_and_do_not_affect_the_run() -> None:
    body = '```python {file="server.py", title="A server", copy=false}\nprint(1)\n```\n'
    page("content/a.md", body)
    code, _, err = cli()
    assert code == 2 and "unknown fence attribute 'copy'" in err
    pyproject('fence_keys = ["file", "title", "copy"]')
    code, out, _ = cli()
    assert code == 0, out


@pytest.mark.parametrize(("table", "reason"), [
    ("content = 'content'", "content must be a list of non-empty strings"),
    ("results = 1", "results must be a path"),
    ("preload = ['not a module']", "is not a module name"),
    ("preload = ['gevent']", "'gevent' is never preloaded"),
    ("preload = ['twisted.internet.reactor']", "is never preloaded"),
    ("fence_keys = [1]", "fence_keys must be a list"),
    ("[tool.twnotes.extra]", "unknown key 'extra'"),
])
def test_bad_settings_are_bad_input(table: str, reason: str) -> None:
    pyproject(table)
    page("content/a.md", "```python\nprint(1)\n```\n")
    code, out, err = cli()
    assert (code, out) == (2, "")
    assert reason in err, err


def test_a_broken_pyproject_is_bad_input() -> None:
    Path("pyproject.toml").write_text("[tool.twnotes\n", encoding="utf-8")
    code, _, err = cli("x.md")
    assert code == 2 and err.startswith(str(Path.cwd().resolve() / "pyproject.toml"))


def test_bad_settings_close_the_runner_the_command_line_started_early() -> None:
    """`twnotes snippets` spawns the fork servers before it reads the settings: bad settings
    still end them (the zygote, which has forked nothing yet, is killed) and run nothing."""
    from twnotes.runner import Runner

    pyproject("results = 1")
    runner = Runner(workers=1)
    runner.prestart()
    assert runner._spare is not None
    zygote = runner._spare.proc
    code = command([Path("x.md")], runner=runner, out=io.StringIO(), err=io.StringIO())
    assert code == 2
    assert zygote.wait(timeout=30) == -signal.SIGKILL

"""CI's snippet shards: pytest's `--snippets-shard I/N` picks the same snippets as
`twnotes snippets --shard I/N`, so each matrix job's JUnit XML and results JSON agree.

pytest collects a folder's files and sub-folders in one name order, the command walks files
before sub-folders; the fixture has both so that a partition by position would differ.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TWNOTES = str(Path(sys.executable).parent / "twnotes")


def page(count: int) -> str:
    fences = "".join(f"```python\nprint({i})\n```\n\n" for i in range(count))
    return f'+++\ntitle = "x"\n+++\n\n{fences}'


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "content" / "m").mkdir(parents=True)
    (tmp_path / "content" / "a.md").write_text(page(3), encoding="utf-8")
    (tmp_path / "content" / "m" / "x.md").write_text(page(3), encoding="utf-8")
    (tmp_path / "content" / "z.md").write_text(page(2), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return tmp_path


def run(cwd: Path, *args: str) -> str:
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def pytest_shard(site: Path, shard: str) -> set[str]:
    out = run(site, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only",
              "-q", "--snippets-shard", shard, "content")
    return {line for line in out.splitlines() if "::" in line}


def command_shard(site: Path, shard: str) -> set[str]:
    out = run(site, TWNOTES, "snippets", "--list", "--shard", shard)
    return {line.split("\t")[0] for line in out.splitlines()}


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_pytest_shards_match_the_command_and_cover_every_snippet_once(
    site: Path, count: int
) -> None:
    shards = [pytest_shard(site, f"{i}/{count}") for i in range(1, count + 1)]
    assert shards == [command_shard(site, f"{i}/{count}") for i in range(1, count + 1)]
    every = command_shard(site, "1/1")
    assert len(every) == 8
    assert set().union(*shards) == every
    assert sum(len(s) for s in shards) == len(every)


def test_bad_shard_is_a_usage_error(site: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--collect-only", "--snippets-shard", "3/2", "content"],
                          cwd=site, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 4  # pytest's usage-error exit code
    assert "3/2" in proc.stderr

"""`--dist loadgroup` keeps an xdist_group on one worker (tests/conftest.py LoadGroupIds).

A small suite runs in a pytest of its own with two workers: the grouped tests come first, so
that without the group every one of them would be handed out on its own (one to each worker
in turn). Each test writes down the worker it ran on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# The project's conftest, loaded under another name (this suite's own is `conftest`).
CONFTEST = f"""
import importlib.util
import sys

spec = importlib.util.spec_from_file_location("project_conftest", {str(TESTS / "conftest.py")!r})
project = sys.modules["project_conftest"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(project)


def pytest_configure(config):
    config.pluginmanager.register(project.LoadGroupIds(), "twnotes-loadgroup-ids")
"""

SUITE = """
import os
from pathlib import Path

import pytest

OUT = Path(__file__).parent / "ran"


def note(name):
    with open(OUT, "a", encoding="utf-8") as out:
        out.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")


@pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.xdist_group("g"))
                               for n in range(4)])
def test_grouped(n):
    note(f"grouped{n}")


@pytest.mark.parametrize("n", range(8))
def test_free(n):
    note(f"free{n}")
"""


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
         "-p", "no:cacheprovider", "-p", "no:twnotes", "test_suite.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = dict(line.split() for line in (tmp_path / "ran").read_text().splitlines())
    assert len(ran) == 12, ran
    grouped = {worker for name, worker in ran.items() if name.startswith("grouped")}
    assert len(grouped) == 1, ran
    assert set(ran.values()) == {"gw0", "gw1"}, "the run did not use both workers"

"""The output shown on each example page is what the example really prints.

Set UPDATE_EXAMPLE_OUTPUT=1 (or run `make example-output`) to record the outputs again
after changing an example; the comparison ignores timings, ports and counts marked ``~``.
"""

from __future__ import annotations

import difflib
import os
import re

import pytest
from examples_support import EXAMPLES, OUTPUT, RUNS, XDIST_GROUP, Run, normalise, transcript

from twnotes.util import atomic_write

pytestmark = [pytest.mark.filterwarnings("error::DeprecationWarning"),
              pytest.mark.xdist_group(XDIST_GROUP)]

UPDATE = os.environ.get("UPDATE_EXAMPLE_OUTPUT") == "1"
CONTENT = EXAMPLES.parent / "content" / "examples"
# Helpers that other examples import; they have no page of their own.
LIBRARIES = {"slow_servers.py", "log_observer.py"}


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.name)
def test_recorded_output_matches_a_fresh_run(run: Run) -> None:
    fresh = transcript(run)
    if UPDATE:
        atomic_write(run.recorded, fresh.encode("utf-8"))
        pytest.skip(f"UPDATE_EXAMPLE_OUTPUT=1: recorded {run.recorded.name}, compared nothing")
    assert run.recorded.is_file(), f"{run.recorded} is missing: run `make example-output`"
    recorded = run.recorded.read_text(encoding="utf-8")
    if normalise(fresh) != normalise(recorded):
        diff = "\n".join(difflib.unified_diff(
            normalise(recorded).splitlines(), normalise(fresh).splitlines(),
            str(run.recorded), "fresh run", lineterm="",
        ))
        pytest.fail(f"{run.command}: output changed (record it with `make example-output`)\n{diff}")


def test_every_recorded_output_belongs_to_a_run() -> None:
    assert {p.name for p in OUTPUT.glob("*.txt")} == {run.recorded.name for run in RUNS}


def included_files() -> dict[str, set[str]]:
    """Which example files each page includes through the example shortcode."""
    found: dict[str, set[str]] = {}
    for page in CONTENT.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        found[page.name] = set(re.findall(r'\{\{<\s*example\s+"([^"]+)"', text))
    return found


def test_every_example_program_and_output_is_shown_on_a_page() -> None:
    shown = set().union(*included_files().values())
    programs = {p.name for p in EXAMPLES.glob("*.py")} - LIBRARIES
    outputs = {f"output/{run.recorded.name}" for run in RUNS}
    assert programs - shown == set(), "example programs without a page"
    assert outputs - shown == set(), "recorded outputs that no page shows"

"""The CI configuration is valid and safe before it ever reaches GitHub.

GitHub only tells you a workflow is broken after a push; these checks say it here, offline:
each workflow against GitHub's schema (check-jsonschema's vendored copy), the workflows and the
pre-commit config through zizmor's static security audits (0 findings), and pre-commit's own
config validation. This test file is where `make test` runs them (no separate Makefile target).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PRE_COMMIT_CONFIG = ROOT / ".pre-commit-config.yaml"
BIN = Path(sys.executable).parent
# `uses: owner/repo@<40 hex> # vX.Y.Z`: a commit cannot be moved the way a tag can, and the
# comment says which release it is for whoever bumps it.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():  # pragma: no cover - every tool is pinned in requirements.txt
        pytest.fail(f"{name} is not installed next to {sys.executable}; run `make venv`")
    return str(path)


def load(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps_uses(workflow: dict[str, object]) -> list[str]:
    """Every `uses:` of the workflow, in steps and in jobs that call a reusable workflow."""
    found: list[str] = []
    jobs = workflow.get("jobs")
    assert isinstance(jobs, dict)
    for job in jobs.values():
        if "uses" in job:
            found.append(job["uses"])
        found.extend(step["uses"] for step in job.get("steps", []) if "uses" in step)
    return found


def test_there_are_workflows_to_check() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"test.yml", "deploy.yml"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_schema(workflow: Path) -> None:
    proc = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
               str(workflow))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    # --offline: no GitHub API calls (and no token); the audits that need one are skipped.
    proc = run(tool("zizmor"), "--offline", "--no-progress", "--format", "json", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
    audited = proc.stderr
    for path in [*WORKFLOWS, PRE_COMMIT_CONFIG]:
        assert path.relative_to(ROOT).as_posix() in audited, f"zizmor did not audit {path}"


def test_pre_commit_config_is_valid() -> None:
    proc = run(tool("pre-commit"), "validate-config", str(PRE_COMMIT_CONFIG))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_hooks_are_local_and_run_the_project_tools() -> None:
    # Local hooks need no download, so they work offline and use the pinned versions.
    config = load(PRE_COMMIT_CONFIG)
    repos = config["repos"]
    assert isinstance(repos, list)
    assert [repo["repo"] for repo in repos] == ["local"]
    entries = {hook["id"]: hook["entry"] for hook in repos[0]["hooks"]}
    assert entries["twnotes-sanitize"].split()[1:] == ["sanitize"]
    assert entries["twnotes-snippets"].split()[1:] == ["snippets"]
    assert "check" in entries["ruff"].split()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_remote_actions_are_pinned_to_a_commit(workflow: Path) -> None:
    lines = workflow.read_text(encoding="utf-8").splitlines()
    uses = [line.split("uses:", 1)[1].strip() for line in lines if "uses:" in line]
    remote = [u for u in uses if not u.startswith(("./", "$/"))]
    assert remote, "no remote action found: the check would pass vacuously"
    assert [u for u in remote if not PINNED.match(u)] == []
    assert len(remote) == len([u for u in steps_uses(load(workflow))
                               if not u.startswith(("./", "$/"))])


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_grants_no_permission_by_default(workflow: Path) -> None:
    # Least privilege: nothing at the top, each job asks for what it needs.
    data = load(workflow)
    assert data["permissions"] == {}
    jobs = data["jobs"]
    assert isinstance(jobs, dict)
    for name, job in jobs.items():
        assert "permissions" in job, f"job {name} does not state its permissions"


def test_snippet_shards_cover_every_index_once() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "test.yml")["jobs"]
    assert isinstance(jobs, dict)
    matrix = jobs["snippets"]["strategy"]["matrix"]
    (total,) = matrix["shards"]
    assert sorted(matrix["shard"]) == list(range(1, total + 1))

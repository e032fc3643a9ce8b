"""Quality gate: the Nu HTML Checker (vnu) finds no error in any built page.

One JVM checks the whole build folder at once (starting Java per page would cost seconds each).
vnu.jar comes from npm's `vnu-jar` (pinned in package-lock.json, installed by `make node`);
warnings are printed, errors fail the test as `page:line: message`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, BuiltSite

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def run_vnu(site: Path) -> list[dict[str, object]]:
    """vnu's JSON messages for every .html file under site."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is missing: install a JRE (.ci/run installs default-jre-headless)")
    if not VNU_JAR.is_file():
        pytest.skip(f"{VNU_JAR.relative_to(ROOT)} is missing: run `make node` (npm ci)")
    proc = subprocess.run(
        [java, "-Xss2m", "-jar", str(VNU_JAR), "--format", "json", "--skip-non-html",
         "--exit-zero-always", str(site)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"vnu failed to run ({proc.returncode}):\n{proc.stderr[-2000:]}")
    messages: list[dict[str, object]] = json.loads(proc.stderr or '{"messages": []}')["messages"]
    return messages


def where(site: Path, message: dict[str, object]) -> str:
    """`page:line:` with the page relative to the build folder."""
    path = Path(unquote(urlsplit(str(message.get("url", ""))).path))
    try:
        page = path.relative_to(site.resolve()).as_posix()
    except ValueError:
        page = path.as_posix()
    return f"{page}:{message.get('lastLine', '?')}"


def test_vnu_reports_no_errors(built_site: BuiltSite) -> None:
    site = built_site.public
    pages = sorted(site.rglob("*.html"))
    assert pages, "the build has no HTML pages"
    messages = run_vnu(site)
    errors: list[str] = []
    for message in messages:
        # Minified pages are one long line: the column and an extract locate the problem.
        line = (
            f"{where(site, message)}: {message.get('message')} "
            f"(column {message.get('firstColumn', '?')}: {message.get('extract', '')!r})"
        )
        if message.get("type") == "error" or message.get("subType") == "fatal":
            errors.append(line)
        else:
            print("vnu warning:", line)
    print(f"vnu checked {len(pages)} pages: {len(errors)} errors")
    assert not errors, "\n".join(errors)

"""Results -> JSON: the file the code-block render hook reads (whole, or merged per page)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twnotes import util
from twnotes.snippets.cases import Case, versions
from twnotes.snippets.verdicts import Result


def report_json(results: Sequence[Result]) -> dict[str, Any]:
    ver = versions()
    return {"python": ver.python, "twisted": ver.twisted,
            "snippets": [r.to_json() for r in results]}


def write_json(path: Path, results: Sequence[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report_json(results), ensure_ascii=False, indent=1) + "\n"
    util.atomic_write(path, data.encode("utf-8"))


def merge_results(path: Path, results: Sequence[Result], current: Sequence[Case]) -> None:
    """Update the page results file with this run's results, keeping the others that are
    still right: an entry of a page this run read stays only while a block with that line
    and code is still there; an entry of a page that no longer exists goes."""
    known = {(s.file, s.line): s.code_sha256 for c in current for s in c.snippets}
    read_files = {file for file, _ in known}
    fresh = {(r.file, r.line) for r in results}
    kept: list[dict[str, Any]] = []
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        for entry in json.loads(path.read_text(encoding="utf-8")).get("snippets", []):
            where = (entry["file"], entry["line"])
            if where in fresh:
                continue
            if entry["file"] in read_files:
                if known.get(where) == entry.get("code_sha256"):
                    kept.append(entry)
            elif Path(entry["file"]).is_file():
                kept.append(entry)
    entries = kept + [r.to_json() for r in results]
    entries.sort(key=lambda e: (e["file"], e["line"]))
    ver = versions()
    data = json.dumps({"python": ver.python, "twisted": ver.twisted, "snippets": entries},
                      ensure_ascii=False, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not fsynced: every run writes it again (the rename still writes it whole or not at
    # all); an fsync took from 1 to 200 ms here, on every run.
    util.atomic_write(path, data.encode("utf-8"), durable=False)

"""The cache key's Twisted version, read from the installed metadata file without importing
Twisted or importlib.metadata (both cost the CLI a fixed start-up time on every run)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from twnotes.snippets import cases


def test_the_installed_twisted_version_matches_importlib_metadata() -> None:
    assert cases.versions().twisted == metadata.version("Twisted")


def test_a_missing_distribution_is_not_installed() -> None:
    assert cases._installed_version("no-such-distribution-here") == "not installed"


def test_the_first_dist_info_on_the_path_wins_whatever_its_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, name, version in ((first, "Demo_pkg-1.2.dist-info", "1.2"),
                                  (second, "demo_pkg-9.9.dist-info", "9.9")):
        (folder / name).mkdir(parents=True)
        (folder / name / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: demo_pkg\nVersion: {version}\n", encoding="utf-8")
    (first / "unrelated").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path / "absent"), str(first), str(second)])
    assert cases._installed_version("demo_pkg") == "1.2"


def test_loading_the_snippet_command_imports_neither_twisted_nor_metadata() -> None:
    code = ("import sys, twnotes.snippets.cases as c; c.versions(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'twisted' "
            "or m == 'importlib.metadata'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"

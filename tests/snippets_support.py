"""Helpers shared by the snippet tests: a page in the working directory."""

from __future__ import annotations

from pathlib import Path

FRONT_MATTER = '+++\ntitle = "t"\n+++\n\n'  # 4 lines: a page's first fence is on line 5


def page(body: str, name: str = "p.md") -> Path:
    """A page with front matter, written relative to the working directory."""
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FRONT_MATTER + body, encoding="utf-8")
    return path


def pyproject(table: str) -> None:
    """A pyproject.toml in the working directory with this [tool.twnotes] table."""
    Path("pyproject.toml").write_text(f"[tool.twnotes]\n{table}\n", encoding="utf-8")

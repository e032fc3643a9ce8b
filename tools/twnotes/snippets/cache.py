"""The result cache: a passed run is kept by the hash of what it ran, so it is not run again."""

from __future__ import annotations

import json
import os
from pathlib import Path

from twnotes import util
from twnotes.runner import Outcome


def default_cache_dir() -> Path:
    """$TWNOTES_CACHE_DIR, else $XDG_CACHE_HOME/twnotes, else .cache/twnotes in the repo root."""
    if env := os.environ.get("TWNOTES_CACHE_DIR"):
        return Path(env)
    if env := os.environ.get("XDG_CACHE_HOME"):
        return Path(env) / "twnotes" / "snippets"
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists() or (folder / "config.toml").is_file():
            return folder / ".cache" / "twnotes" / "snippets"
    return here / ".cache" / "twnotes" / "snippets"


class Cache:
    """Passed runs only, one small JSON file per key: a failure is always run again."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @property
    def enabled(self) -> bool:
        """Whether runs are kept (no folder: nothing is read or written)."""
        return self.folder is not None

    def get(self, key: str) -> Outcome | None:
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Outcome.from_json(data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, outcome: Outcome) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Not fsynced (one fsync per passed snippet): an entry a crash loses or empties is
        # unreadable JSON, i.e. a miss, and the snippet simply runs again.
        util.atomic_write(self.folder / f"{key}.json", json.dumps(outcome.to_json()).encode(),
                          durable=False)

"""Browser results kept by the bytes they judged, the snippet cache's rule applied to pages:
a result that passed every check is reused while the page, every file the visit requested
and the tools that judged it are unchanged; anything with a problem is never kept.

An entry holds the SHA-256 of each file the visit asked the server for (the page itself,
its CSS, scripts, images; the whole Pagefind folder when it touched Pagefind, whose worker
fetches on its own) and what the visit reported. It is valid only while every one of those
files hashes the same and the tools' digest (browser version, the checking code, axe, the
installed fonts) is the one it was made under. The site is served on a new port each run,
and built for it: the address is {base} in the hashes and the stored result, and put back on
the way out.

Whole interaction tests (PassedTests) are kept by coarser inputs: the bytes of every file of
the served site (tree_digest) and every source the browser tests run. Such a test passes from
the cache only while nothing it could have looked at has changed.

$TWNOTES_BROWSER_CACHE names the folder (default .cache/twnotes/browser, gitignored); `off`
judges everything afresh. A clean clone (CI) has no cache, so it always judges everything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conftest import ROOT
from twnotes.util import atomic_write

CACHE_ENV = "TWNOTES_BROWSER_CACHE"
BASE = "{base}"
PAGEFIND = "pagefind"
# An entry made by another layout of this module is simply not found.
FORMAT = "1"


def cache_folder() -> Path | None:
    """Where results are kept, or None (TWNOTES_BROWSER_CACHE=off)."""
    value = os.environ.get(CACHE_ENV, "")
    if value == "off":
        return None
    return Path(value) if value else ROOT / ".cache" / "twnotes" / "browser"


def digest(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed (no two lists of parts collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def tools_digest(*sources: Path, extra: Iterable[str] = ()) -> str:
    """The judging side of a key: these source files' bytes, the extra facts (versions) and
    the fonts the browser lays text out with (a new font can wrap a line differently)."""
    return digest(FORMAT, *(path.read_bytes() for path in sources), *extra, fonts())


@functools.cache
def fonts() -> str:
    """Every installed font file and its version, as fontconfig lists them."""
    try:
        listed = subprocess.run(["fc-list", "--format", "%{file} %{fontversion}\n"],
                                capture_output=True, text=True, timeout=60, check=False).stdout
    except OSError:
        return "no fontconfig"
    return "\n".join(sorted(listed.splitlines()))


def for_checks(checker: Path, public: Path, base: str, extra: Iterable[str],
               folder: Path | None = None) -> VisitCache:
    """The cache of one kind of check on a served site: keyed by the checker's source, this
    module's, both conftests' (the server, the browser and its flags) and `extra` (versions);
    in `folder`, else cache_folder()."""
    here = Path(__file__).parent
    tools = tools_digest(checker, here / "visitcache.py", here / "conftest.py",
                         ROOT / "tests" / "conftest.py", extra=[checker.stem, *extra])
    return VisitCache(folder if folder is not None else cache_folder(), public, base, tools)


class VisitCache:
    """Results of one served site, by (tools, context, path); `folder` None keeps nothing."""

    def __init__(self, folder: Path | None, public: Path, base: str, tools: str) -> None:
        self.folder, self.public, self.base, self.tools = folder, public, base, tools
        self._hashes: dict[tuple[str, int, int], str] = {}

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def _entry(self, context: str, path: str) -> Path:
        assert self.folder is not None
        key = digest(self.tools, context, path)
        return self.folder / key[:2] / f"{key}.json"

    def file_hash(self, rel: str) -> str:
        """SHA-256 of a file of the site with the site's address as {base} (`-` when there is
        no file), memoised by size and mtime; `pagefind` stands for that whole folder."""
        if rel == PAGEFIND:
            return self.folder_hash(self.public / PAGEFIND)
        path = self.public / rel
        if path.is_dir():
            path = path / "index.html"
        try:
            stat = path.stat()
        except OSError:
            return "-"
        memo = (str(path), stat.st_mtime_ns, stat.st_size)
        if memo not in self._hashes:
            data = path.read_bytes().replace(self.base.encode(), BASE.encode())
            self._hashes[memo] = hashlib.sha256(data).hexdigest()
        return self._hashes[memo]

    def folder_hash(self, folder: Path) -> str:
        """Every file under a folder of the site, by path (from the site's root) and hash."""
        files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        names = [p.relative_to(self.public).as_posix() for p in files]
        return digest(*(f"{name}\0{self.file_hash(name)}" for name in names))

    def files_of(self, urls: Iterable[str]) -> dict[str, str]:
        """The site files these requests were for, with their hashes (off-site and data:
        URLs name no file; a visit that made an off-site request is not clean anyway)."""
        names: set[str] = set()
        for url in urls:
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.base:
                continue
            rel = unquote(parts.path).lstrip("/")
            names.add(PAGEFIND if rel.split("/", 1)[0] == PAGEFIND else rel)
        return {name: self.file_hash(name) for name in sorted(names)}

    def get(self, context: str, path: str) -> dict[str, Any] | None:
        """The stored result of this visit if every file it depended on is unchanged."""
        if self.folder is None:
            return None
        try:
            entry = json.loads(self._entry(context, path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        files: Mapping[str, str] = entry.get("files", {})
        if not files or any(self.file_hash(name) != sha for name, sha in files.items()):
            return None
        result: dict[str, Any] = self._rebase(entry["result"], BASE, self.base)
        return result

    def put(self, context: str, path: str, result: Mapping[str, Any],
            requests: Iterable[str]) -> None:
        """Keep a clean result; the caller decides what clean is."""
        if self.folder is None:
            return
        files = self.files_of([self.base + path, *requests])
        entry = {"files": files, "result": self._rebase(dict(result), self.base, BASE)}
        target = self._entry(context, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, json.dumps(entry, ensure_ascii=False).encode("utf-8"),
                     durable=False)

    @staticmethod
    def _rebase(value: Any, old: str, new: str) -> Any:
        if isinstance(value, str):
            return value.replace(old, new)
        if isinstance(value, list | tuple):
            return [VisitCache._rebase(item, old, new) for item in value]
        if isinstance(value, dict):
            return {key: VisitCache._rebase(item, old, new) for key, item in value.items()}
        return value


def tree_digest(public: Path, base: str) -> str:
    """Every file of a served site, by path and bytes, with the site's address as {base}."""
    return VisitCache(None, public, base, "").folder_hash(public)


class PassedTests:
    """Browser tests that passed, by test id, the tools' digest and the site's (tree_digest);
    `folder` None keeps nothing. Only a test that passed its setup, call and teardown is kept."""

    def __init__(self, folder: Path | None, tools: str, site: str) -> None:
        self.folder, self.tools, self.site = folder, tools, site

    def _entry(self, test: str) -> Path:
        assert self.folder is not None
        key = digest(self.tools, self.site, test)
        return self.folder / "tests" / key[:2] / f"{key}.json"

    def passed_before(self, test: str) -> bool:
        if self.folder is None:
            return False
        try:
            entry = json.loads(self._entry(test).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(entry, dict) and entry.get("test") == test

    def keep(self, test: str) -> None:
        if self.folder is None:
            return
        target = self._entry(test)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, json.dumps({"test": test}).encode("utf-8"), durable=False)

"""Helpers several stages share, none of which knows pages, HTML or snippets.

`parallel_map` spreads a per-file stage (sanitize, enforce, audit) over worker processes;
`atomic_write` writes a file whole or not at all; `per_thread` keeps one expensive object
(an html5lib parser) per thread (the runner's `sweep.escalate` is the one SIGTERM-then-SIGKILL
loop); `PageReport` is a line of what `enforce` and `audit` report about a built page.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Generic, TypeVar

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
_Value = TypeVar("_Value")
# Below this many files a pool costs more than it saves (starting workers, pickling).
PARALLEL_THRESHOLD = 200


def parallel_map(func: Callable[[_Item], _Result], items: Sequence[_Item], jobs: int = 0,
                 ) -> Iterator[_Result]:
    """`map(func, items)`, results in the order of `items`, over worker processes if asked.

    The per-file stages (sanitize, audit) are CPU-bound pure Python, so threads would not
    help. `jobs` 0 means: all cores (8 at most) once there are PARALLEL_THRESHOLD items,
    else this process alone; 1 or less is always this process. Workers are forked, so
    `func` (a module-level function or a partial of one) needs no re-import, and each
    worker gets a few large chunks rather than one item per round trip.
    """
    if jobs == 0:
        jobs = min(os.cpu_count() or 1, 8) if len(items) >= PARALLEL_THRESHOLD else 1
    jobs = min(jobs, len(items))
    if jobs <= 1:
        yield from map(func, items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        yield from pool.map(func, items, chunksize=max(1, len(items) // (jobs * 4)))


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write the whole file or nothing: a temp file in the same folder, then rename.

    A symlinked page is written through: the rename replaces the link's target, so the
    link stays a link (renaming over the link itself would turn it into a copy). The
    file keeps its mode. `durable` False skips the fsync: for files that are rebuilt
    anyway after a crash (the built site), where the rename's atomicity is what counts.
    """
    path = path.resolve()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class per_thread(Generic[_Value]):
    """One value per thread, made by `make` on a thread's first call, then reused.

    For parsers that are costly to build and reset themselves on each use, but that two
    threads must not share.
    """

    def __init__(self, make: Callable[[], _Value]) -> None:
        self._make = make
        self._local = threading.local()

    def __call__(self) -> _Value:
        try:
            value: _Value = self._local.value
        except AttributeError:
            value = self._local.value = self._make()
        return value


@dataclasses.dataclass(frozen=True)
class PageReport:
    """One line of a report on a built site, printed as `page: text`."""

    page: str
    text: str

    def __str__(self) -> str:
        return f"{self.page}: {self.text}"

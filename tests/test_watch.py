"""Live results while serving (`twnotes watch`, `make serve`), with real processes: a saved
page's snippets run again and the results file follows; Ctrl-C stops everything started."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import ROOT, as_from_a_terminal, copy_site_sources

TWNOTES = str(Path(sys.executable).parent / "twnotes")
# A stand-in for `hugo server`: listens on 127.0.0.1 port 0, says where, and ignores Ctrl-C,
# so only the watcher's own clean-up can end it.
FAKE_SERVER = """
import signal, socket, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
listener = socket.create_server(("127.0.0.1", 0))
print("serving on port", listener.getsockname()[1], flush=True)
time.sleep(600)
"""
PAGE = '+++\ntitle = "t"\n+++\n\n```python\nprint("one")\n```\n\n```output\n{expected}\n```\n'


def in_session(sid: int) -> list[int]:
    """Live processes (zombies aside) of the session `sid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        state, _ppid, _pgrp, session = stat[stat.rfind(b")") + 2:].split()[:4]
        if int(session) == sid and state != b"Z":
            found.append(int(name))
    return found


def wait_for(what: str, check: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {within_s} s: {what}")


class Started:
    """A command in its own session (as a terminal runs one), its output in a file."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.log = cwd / "watch.log"
        self.handle = self.log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=self.handle, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env,
                                     preexec_fn=as_from_a_terminal)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)  # what the terminal does: the whole group

    def cleanup(self) -> None:
        if self.proc.poll() is None or in_session(self.proc.pid):
            for pid in in_session(self.proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.handle.close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "p.md").write_text(PAGE.format(expected="one"), encoding="utf-8")
    (tmp_path / "server.py").write_text(FAKE_SERVER, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.twnotes]\nresults = "data/generated/snippets.json"\n', encoding="utf-8")
    monkeypatch.setenv("TWNOTES_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path


def statuses(site: Path) -> list[tuple[int, str]]:
    path = site / "data" / "generated" / "snippets.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [(s["line"], s["status"]) for s in data["snippets"]]


def test_a_saved_page_is_run_again_and_ctrl_c_stops_everything(site: Path) -> None:
    watch = Started([TWNOTES, "watch", "--", sys.executable, "server.py"], site)
    try:
        wait_for("first run and the server", lambda: "serving on port" in watch.output()
                 and "watching content" in watch.output(), 60)
        assert statuses(site) == [(5, "passed")]
        (site / "content" / "p.md").write_text(
            "A new first line.\n\n" + PAGE.format(expected="two"), encoding="utf-8")
        wait_for("the failure printed", lambda: "content/p.md:11: output differs from the "
                 "expected output:" in watch.output(), 30)
        wait_for("the results file updated", lambda: statuses(site) == [(7, "failed")], 10)
        (site / "content" / "p.md").write_text(PAGE.format(expected="one"), encoding="utf-8")
        wait_for("the badge back", lambda: statuses(site) == [(5, "passed")], 30)
        assert in_session(watch.proc.pid)  # the watcher, its servers and the fake server
        watch.ctrl_c()
        wait_for("every process of the session gone", lambda: not in_session(watch.proc.pid),
                 30)
        assert watch.proc.wait(timeout=10) == 0
    finally:
        watch.cleanup()


def test_a_bad_page_is_reported_and_the_watch_goes_on(site: Path) -> None:
    watch = Started([TWNOTES, "watch"], site)
    try:
        wait_for("watching", lambda: "watching content" in watch.output(), 60)
        (site / "content" / "p.md").write_text("```python {timout=1}\nx\n```\n",
                                               encoding="utf-8")
        wait_for("the error", lambda: "content/p.md:1: unknown fence attribute 'timout'"
                 in watch.output(), 30)
        (site / "content" / "p.md").write_text(PAGE.format(expected="one"), encoding="utf-8")
        wait_for("the page runs again", lambda: statuses(site) == [(5, "passed")], 30)
        os.killpg(watch.proc.pid, signal.SIGTERM)
        wait_for("all gone", lambda: not in_session(watch.proc.pid), 30)
    finally:
        watch.cleanup()


def test_the_watch_ends_with_its_command(site: Path) -> None:
    proc = subprocess.run([TWNOTES, "watch", "--", sys.executable, "-c", "raise SystemExit(3)"],
                          cwd=site, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr


PROBE = """+++
title = "serve probe"
date = "2026-12-01T00:00:00+08:00"
description = "探针页：make serve 的测试用。"
tags = ["Twisted"]
weight = 999
+++

探针。

```python
print("probe")
```

```output
{expected}
```
"""


def fetch(url: str, check: Callable[[str], bool], within_s: float) -> str:
    """The page at url once check(page) holds (the server rebuilds after a change)."""
    deadline = time.monotonic() + within_s
    page = ""
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(url, timeout=5) as response:
                page = response.read().decode("utf-8")
            if check(page):
                return page
        time.sleep(0.25)
    raise AssertionError(f"not within {within_s} s: {url} as expected; last:\n{page[-2000:]}")


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket inodes, looked up in /proc/net)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def badges(page: str) -> list[str]:
    return re.findall(r'class="tw-code-status tw-code-(\w+)"', page)


def test_make_serve_keeps_badges_fresh_and_ctrl_c_stops_all(tmp_path: Path) -> None:
    """The real target, on a copy of the site, with this checkout's .venv: a page fetched
    from the running server shows its badge, the badge follows an edit, Ctrl-C ends all."""
    copy_site_sources(tmp_path)
    for name in ("Makefile", "pyproject.toml", "requirements.txt"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    probe = tmp_path / "content" / "notes" / "serve-probe.md"
    probe.write_text(PROBE.format(expected="probe"), encoding="utf-8")
    env = dict(os.environ, TWNOTES_CACHE_DIR=str(tmp_path / "cache"))
    serve = Started(["make", "--no-print-directory", "serve", f"VENV={ROOT / '.venv'}",
                     "PORT=0"], tmp_path, env)
    try:
        wait_for("hugo serving and the watcher watching", lambda: "Press Ctrl+C to stop"
                 in serve.output() and "watching content" in serve.output(), 240)
        results = json.loads((tmp_path / "data" / "generated" / "snippets.json").read_text(
            encoding="utf-8"))["snippets"]
        failed = [r for r in results if r["status"] != "passed"]
        assert results and not failed, failed
        assert "Error" not in serve.output()
        # Port 0: Hugo prints the 0 it was given; the port it bound is in /proc.
        hugo = [pid for pid in in_session(serve.proc.pid) if Path(f"/proc/{pid}/comm")
                .read_text(encoding="utf-8").strip() == "hugo"]
        assert len(hugo) == 1, serve.output()[-2000:]
        ports = listening_ports(hugo[0])
        assert len(ports) == 1, ports
        url = f"http://127.0.0.1:{ports.pop()}/notes/serve-probe/"
        page = fetch(url, lambda p: badges(p) == ["passed"], 30)
        assert "serve probe" in page
        probe.write_text(PROBE.format(expected="not what it prints"), encoding="utf-8")
        wait_for("the failure printed", lambda: "content/notes/serve-probe.md:" in serve.output()
                 and "output differs" in serve.output(), 60)
        fetch(url, lambda p: badges(p) == ["failed"], 60)
        serve.ctrl_c()
        wait_for("make, the watcher, its servers and hugo all gone",
                 lambda: not in_session(serve.proc.pid), 60)
        with pytest.raises((urllib.error.URLError, OSError)):
            urllib.request.urlopen(url, timeout=5)  # nothing listens on the port any more
    finally:
        serve.cleanup()

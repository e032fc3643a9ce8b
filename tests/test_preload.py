"""What the fork servers import ahead (twnotes.runner.preload), with real servers:
what the snippets import and the configured modules, never a reactor or a monkey-patcher,
and a module that would make a server unfit is left out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from twnotes.runner import Program, Runner, Segment
from twnotes.runner.preload import (
    NEVER,
    REACTOR_BASE,
    imported_by,
    imports_never_at_top,
    never,
    preload_for,
    top_level_imports,
)

PROBE = "import sys\nprint(sorted(m for m in {names!r} if m in sys.modules))\n"


def on_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """`folder` first on the servers' and programs' path, the rest kept (a mutation run puts
    its copy of twnotes there: replacing the path would test the unmutated package)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(folder), *filter(None, [os.environ.get("PYTHONPATH")])]))


def probe(runner: Runner, names: list[str], then: str = "") -> str:
    """What of `names` a program finds imported before it imports anything itself."""
    code = PROBE.format(names=names) + then
    outcome = runner.run(Program((Segment(code),), "p.md"))
    assert outcome.returncode == 0, outcome.stderr
    return outcome.stdout.strip()


def test_imports_are_found_with_ast() -> None:
    code = ("import os.path, json as j\nfrom twisted.internet import defer, reactor\n"
            "from . import local\nfrom x import *\ndef f():\n    import fractions\n")
    assert imported_by(code) == {"os.path", "json", "twisted.internet",
                                 "twisted.internet.defer", "twisted.internet.reactor", "x",
                                 "fractions"}
    assert imported_by("this is not python") == set()


def test_the_reactors_imports_only_when_a_snippet_imports_the_reactor() -> None:
    assert preload_for(["print(1)", "import json"]) == ("json",)
    assert preload_for(["from twisted.internet import defer"]) == (
        "twisted.internet", "twisted.internet.defer")
    chosen = preload_for(["from twisted.internet import reactor"])
    assert set(REACTOR_BASE) <= set(chosen)
    assert "twisted.internet.reactor" not in chosen


@pytest.mark.parametrize("name", [
    "twisted.internet.reactor", "twisted.internet.gireactor", "gevent", "gevent.monkey",
    "eventlet", "twisted.internet.wxreactor"])
def test_the_never_list_is_never_preloaded(name: str) -> None:
    assert never(name)
    assert name not in preload_for([f"import {name}"], configured=[name])


def test_the_never_list_is_the_one_place() -> None:
    source = Path(__file__).resolve().parent.parent / "tools" / "twnotes"
    mentions = [p.relative_to(source).as_posix() for p in sorted(source.rglob("*.py"))
                if "gevent" in p.read_text(encoding="utf-8")]
    assert mentions == ["runner/preload.py"]
    assert "twisted.internet.reactor" in NEVER and "gevent" in NEVER


def test_a_server_imports_what_the_snippets_import() -> None:
    with Runner(workers=1) as runner:
        runner.plan([Program((Segment("import fractions\nimport twisted.web.template"),))])
        found = probe(runner, ["fractions", "twisted.web.template", "twisted.internet.defer"])
    assert found == "['fractions', 'twisted.internet.defer', 'twisted.web.template']"


def test_a_module_that_imports_the_reactor_is_left_to_the_program_but_not_its_imports(
) -> None:
    # twisted.mail.smtp does `from twisted.internet import reactor` at its top level.
    with Runner(workers=1) as runner:
        runner.plan([Program((Segment("import twisted.mail.smtp"),))])
        found = probe(runner, ["twisted.mail.smtp", "twisted.internet.reactor",
                               "twisted.mail._cred", "twisted.protocols.policies"],
                      "import twisted.mail.smtp\n")
    assert found == "['twisted.mail._cred', 'twisted.protocols.policies']"


@pytest.mark.parametrize(("source", "found"), [
    ("from twisted.internet import reactor\n", True),
    ("from twisted.internet import defer, protocol, reactor\n", True),
    ("from twisted.internet import (\n    defer,\n    reactor,\n)\n", True),
    ("import twisted.internet.reactor\n", True),
    ("import gevent.monkey\n", True),
    ("def f():\n    from twisted.internet import reactor\n", False),
    ("from twisted.internet import reactors\n", False),
    ("from twisted.internet import defer\n# reactor\n", False),
])
def test_a_top_level_reactor_import_is_seen_in_the_source(source: str, found: bool) -> None:
    assert imports_never_at_top(source) is found


def test_top_level_imports_resolve_relative_ones() -> None:
    source = ("import os\nfrom . import sibling\nfrom ..up import thing\n"
              "try:\n    import json\nexcept ImportError:\n    json = None\n"
              "def f():\n    import fractions\nfrom twisted.internet import reactor\n")
    assert top_level_imports(source, "pkg.sub") == [
        "os", "pkg.sub", "pkg.sub.sibling", "pkg.up", "pkg.up.thing", "json",
        "twisted.internet"]


def test_a_server_for_plain_snippets_imports_no_twisted() -> None:
    with Runner(workers=1) as runner:
        assert probe(runner, ["twisted", "twisted.internet.defer"]) == "[]"


def test_configured_modules_are_preloaded() -> None:
    with Runner(workers=1, extra_preload=["fractions"]) as runner:
        assert probe(runner, ["fractions"]) == "['fractions']"


def test_reactor_imports_stay_the_programs_own() -> None:
    with Runner(workers=1) as runner:
        runner.plan([Program((Segment("from twisted.internet import reactor\nimport gevent"),))])
        found = probe(runner, ["twisted.internet.reactor", "gevent", "gevent.monkey"],
                      "from twisted.internet import pollreactor\npollreactor.install()\n")
    assert found == "[]"


@pytest.fixture
def bad_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "starts_thread.py").write_text(textwrap.dedent("""\
        import threading, time
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    """))
    (folder / "warns_deprecated.py").write_text(
        "import warnings\nwarnings.warn('old module', DeprecationWarning)\n")
    # Not seen in its own source (the server's check of a module's text): found after import.
    (folder / "installs_reactor.py").write_text("import reactor_helper\n")
    (folder / "reactor_helper.py").write_text("from twisted.internet import reactor\n")
    (folder / "fine.py").write_text("VALUE = 1\n")
    on_path(monkeypatch, folder)
    return folder


def test_a_module_that_makes_a_server_unfit_is_left_out(bad_modules: Path) -> None:
    (bad_modules / "reads_reactor.py").write_text(
        "from twisted.internet import reactor\nRUNNING = getattr(reactor, 'running', 0)\n")
    names = ["starts_thread", "warns_deprecated", "reads_reactor", "fine"]
    with Runner(workers=1, preload=names) as runner:
        found = probe(runner, [*names, "twisted.internet.reactor"])
        assert found == "['fine']"
        assert sorted(runner.excluded) == ["reads_reactor", "starts_thread",
                                           "warns_deprecated"]
        # A left-out module still imports in the program, and its warning is seen there.
        outcome = runner.run(Program((Segment("import warns_deprecated"),), "p.md"))
        assert outcome.exception == "builtins.DeprecationWarning"
        outcome = runner.run(Program((Segment("import reads_reactor as m\nprint(m.RUNNING)"),),
                                     "p.md"))
        assert outcome.stdout == "False\n", outcome.stderr


def test_a_module_that_imports_the_reactor_indirectly_is_deferred(bad_modules: Path) -> None:
    """installs_reactor imports reactor_helper, which imports the reactor: both are imported
    by the server and kept out of sys.modules, and importing either installs the reactor."""
    code = ("import sys\nprint(sorted(m for m in sys.modules if m in ('installs_reactor', "
            "'reactor_helper', 'twisted.internet.reactor')))\n"
            "import installs_reactor, reactor_helper\nfrom twisted.internet import reactor\n"
            "print(reactor_helper.reactor is reactor, 'twisted.internet.reactor' in sys.modules)")
    with Runner(workers=1, preload=["installs_reactor", "fine"]) as runner:
        outcome = runner.run(Program((Segment(code),), "p.md"))
        assert runner.excluded == []
    assert outcome.stdout == "[]\nTrue True\n", outcome.stderr


def test_a_module_that_uses_the_reactor_while_imported_is_left_to_the_program(
        bad_modules: Path) -> None:
    (bad_modules / "schedules.py").write_text(
        "from twisted.internet import reactor\nreactor.callLater(0, print, 'scheduled')\n")
    code = ("import sys\nprint('schedules' in sys.modules)\nimport schedules\n"
            "from twisted.internet import reactor\nreactor.callLater(0.05, reactor.stop)\n"
            "reactor.run()\n")
    with Runner(workers=1, preload=["schedules"]) as runner:
        outcome = runner.run(Program((Segment(code),), "p.md"))
    assert (outcome.stdout, outcome.returncode) == ("False\nscheduled\n", 0), outcome.stderr


# Each as a fresh `python -c` would run it: the deferred module binds the reactor that is
# installed when it is imported, and a reactor installed by then cannot be replaced.
DEFERRED_CASES = {
    "smtp first": ("import sys, inspect\nfrom twisted.mail import smtp\n"
                   "from twisted.internet import reactor\n"
                   "print(type(reactor).__name__, smtp.reactor is reactor, "
                   "inspect.signature(smtp.sendmail).parameters['reactor'].default is reactor,"
                   " sys.modules['twisted.mail'].smtp is smtp)\n"),
    "own reactor first": ("from twisted.internet import pollreactor\npollreactor.install()\n"
                          "import twisted.words.protocols.irc as irc\n"
                          "print(type(irc.reactor).__name__)\n"),
    "too late to choose": ("import twisted.mail.smtp\nfrom twisted.internet import "
                           "asyncioreactor\ntry:\n    asyncioreactor.install()\n"
                           "except Exception as exc:\n    print(type(exc).__name__)\n"),
}


@pytest.mark.parametrize("case", sorted(DEFERRED_CASES))
def test_a_deferred_module_behaves_as_in_a_fresh_interpreter(case: str) -> None:
    code = DEFERRED_CASES[case]
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    with Runner(workers=1) as runner:
        runner.plan([Program((Segment(c),)) for c in DEFERRED_CASES.values()])
        check = "import sys\nprint(sorted(m for m in sys.modules if 'mail.smtp' in m " \
                "or 'protocols.irc' in m or m == 'twisted.internet.reactor'))\n"
        outcome = runner.run(Program((Segment(check + code),), "p.md"))
        assert runner.excluded == []
    assert outcome.stdout == "[]\n" + fresh, outcome.stderr
    assert fresh.split()[0] in ("EPollReactor", "PollReactor", "ReactorAlreadyInstalledError")


def test_a_deferred_module_is_imported_from_its_file_once_its_source_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that imports the reactor at its top level is imported by the server (the
    reactor left out) while unchanged; once its source changes, by the program itself."""
    folder = tmp_path / "mods"
    folder.mkdir()
    module = folder / "uses_reactor.py"
    body = "from twisted.internet import reactor\nimport os\nPID = os.getpid()\nVALUE = {}\n"
    module.write_text(body.format(1), encoding="utf-8")
    on_path(monkeypatch, folder)
    code = ("import os, sys, uses_reactor as m\n"
            "print(m.VALUE, m.PID == os.getpid(), m.reactor is sys.modules["
            "'twisted.internet.reactor'], m.__file__ == m.__spec__.origin)\n")
    with Runner(workers=1, preload=["uses_reactor"]) as runner:
        before = probe(runner, ["uses_reactor", "twisted.internet.reactor"], code)
        module.write_text(body.format(22), encoding="utf-8")
        after = probe(runner, ["uses_reactor"], code)
    assert before == "[]\n1 False True True"  # imported by the server, not by the program
    assert after == "[]\n22 True True True"


def test_a_module_whose_compiling_warns_is_compiled_by_each_program(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No code read ahead when compiling the source warned (no .pyc: the servers write
    none): the program compiles it and, under its DeprecationWarning policy, fails there
    as `python -W error::DeprecationWarning` would."""
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "escapes.py").write_text(
        'from twisted.internet import reactor\nPATTERN = "\\d+"\n', encoding="utf-8")
    on_path(monkeypatch, folder)
    with Runner(workers=1, preload=["escapes"]) as runner:
        outcome = runner.run(Program((Segment("import escapes"),), "p.md"))
    assert outcome.exception == "builtins.SyntaxError", outcome.stderr
    assert "invalid escape sequence" in outcome.stderr

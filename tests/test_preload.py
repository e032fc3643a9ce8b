"""What the fork servers import ahead (twnotes.runner.preload), with real servers:
what the snippets import and the configured modules, never a reactor or a monkey-patcher,
and a module that would make a server unfit is left out."""

from __future__ import annotations

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
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return folder


def test_a_module_that_makes_a_server_unfit_is_left_out(bad_modules: Path) -> None:
    names = ["starts_thread", "warns_deprecated", "installs_reactor", "fine"]
    with Runner(workers=1, preload=names) as runner:
        found = probe(runner, [*names, "twisted.internet.reactor"])
        assert found == "['fine']"
        assert sorted(runner.excluded) == ["installs_reactor", "starts_thread",
                                           "warns_deprecated"]
        # A left-out module still imports in the program, and its warning is seen there.
        outcome = runner.run(Program((Segment("import warns_deprecated"),), "p.md"))
        assert outcome.exception == "builtins.DeprecationWarning"


def test_a_module_left_to_the_program_has_its_code_read_ahead_while_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that imports the reactor at its top level runs in each program, from the
    code the server read ahead (runner.codecache); once its source changes, from the file."""
    folder = tmp_path / "mods"
    folder.mkdir()
    module = folder / "uses_reactor.py"
    module.write_text("from twisted.internet import reactor\nVALUE = 1\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(folder))
    code = ("import sys, uses_reactor as m\nloader = m.__spec__.loader\n"
            "print(m.VALUE, type(loader).__name__, 'get_code' in vars(loader), "
            "m.__file__ == m.__spec__.origin, 'twisted.internet.reactor' in sys.modules)\n")
    with Runner(workers=1, preload=["uses_reactor"]) as runner:
        before = probe(runner, ["uses_reactor", "twisted.internet.reactor"], code)
        module.write_text("from twisted.internet import reactor\nVALUE = 22\n",
                          encoding="utf-8")
        after = probe(runner, ["uses_reactor"], code)
    assert before == "[]\n1 SourceFileLoader True True True"
    assert after == "[]\n22 SourceFileLoader False True True"


def test_a_module_whose_compiling_warns_is_compiled_by_each_program(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No code read ahead when compiling the source warned (no .pyc: the servers write
    none): the program compiles it and, under its DeprecationWarning policy, fails there
    as `python -W error::DeprecationWarning` would."""
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "escapes.py").write_text(
        'from twisted.internet import reactor\nPATTERN = "\\d+"\n', encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(folder))
    with Runner(workers=1, preload=["escapes"]) as runner:
        outcome = runner.run(Program((Segment("import escapes"),), "p.md"))
    assert outcome.exception == "builtins.SyntaxError", outcome.stderr
    assert "invalid escape sequence" in outcome.stderr

"""Output that varies: `...` wildcards (per fence or per site), the site's normalisers, and
--update keeping the wildcards an author wrote; real runs, a real TCP server on port 0."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from snippets_support import page, pyproject

from twnotes.snippets import command
from twnotes.snippets.normalise import keep_wildcards, matches

pytestmark = pytest.mark.usefixtures("snippet_dir")


def cli(update: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command([Path("p.md")], json_path=Path("r.json"), update=update, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


SERVER = """```python{attrs}
from twisted.internet import endpoints, protocol, task

async def main(reactor):
    endpoint = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = await endpoint.listen(protocol.Factory.forProtocol(protocol.Protocol))
    address = port.getHost()
    print(f"listening on {{address.host}}:{{address.port}}")
    print(f"at {{hex(id(port))}}")
    await port.stopListening()
    print("stopped")

task.react(main)
```

```output
{expected}
```
"""


def server(expected: str, attrs: str = "") -> Path:
    return page(SERVER.format(attrs=f" {attrs}" if attrs else "", expected=expected))


# ---------------------------------------------------------------- wildcards


def test_a_server_on_port_0_passes_with_wildcards_on_the_fence() -> None:
    server("listening on 127.0.0.1:...\nat 0x...\nstopped", "{ellipsis=true}")
    code, out, _ = cli()
    assert code == 0, out


def test_without_ellipsis_the_dots_are_plain_text() -> None:
    server("listening on 127.0.0.1:...\nat 0x...\nstopped")
    code, out, _ = cli()
    assert code == 1 and "output differs" in out


def test_ellipsis_can_be_on_for_the_whole_site() -> None:
    pyproject("ellipsis = true")
    server("listening on 127.0.0.1:...\n...\nstopped")
    assert cli()[0] == 0


def test_a_fence_can_turn_the_sites_ellipsis_off() -> None:
    pyproject("ellipsis = true")
    server("listening on 127.0.0.1:...\n...\nstopped", "{ellipsis=false}")
    assert cli()[0] == 1


@pytest.mark.parametrize(("expected", "actual", "ok"), [
    ("a\n...\nb", "a\nb", True),
    ("a\n...\nb", "a\nx\ny\nb", True),
    ("a\n...\nb", "a\nx\ny\nc", False),
    ("...\nend", "end", True),
    ("start\n...", "start\n1\n2", True),
    ("took ... s", "took 0.25 s", True),
    ("took ... s", "took 0.25 ms", False),
    ("a...b...c", "aXXbYYc", True),
    ("line ...", "line 1\nline 2", False),  # inside a line, `...` stays in that line
    ("...", "", True),
    ("x", "x\ny", False),
])
def test_wildcards_match_as_documented(expected: str, actual: str, ok: bool) -> None:
    assert matches(expected, actual, ellipsis=True) is ok


# ---------------------------------------------------------------- normalisers


PORT_AND_ID = """
[[tool.twnotes.normalisers]]
pattern = '127\\.0\\.0\\.1:[0-9]+'
replacement = '127.0.0.1:PORT'

[[tool.twnotes.normalisers]]
pattern = '0x[0-9a-f]+'
replacement = '0x…'
"""


def test_normalisers_make_a_server_pass_and_the_page_show_the_placeholder() -> None:
    pyproject(PORT_AND_ID)
    server("listening on 127.0.0.1:PORT\nat 0x…\nstopped")
    code, out, _ = cli()
    assert code == 0, out
    [entry] = json.loads(Path("r.json").read_text(encoding="utf-8"))["snippets"]
    assert entry["stdout"] == "listening on 127.0.0.1:PORT\nat 0x…\nstopped\n"


def test_update_writes_normalised_output() -> None:
    pyproject(PORT_AND_ID)
    path = server("")
    code, out, _ = cli(update=True)
    assert code == 0, out
    assert "```output\nlistening on 127.0.0.1:PORT\nat 0x…\nstopped\n```" in path.read_text(
        encoding="utf-8")
    assert cli()[0] == 0


@pytest.mark.parametrize(("table", "reason"), [
    ("normalisers = [{pattern = '(', replacement = 'x'}]", "normalisers[0]: missing )"),
    ("normalisers = [{pattern = 'a'}]", "normalisers[0] must have exactly"),
    ("ellipsis = 'yes'", "ellipsis must be true or false"),
    ("timeout = -1", "timeout must be a positive number"),
    ("ellipses = true", "unknown key 'ellipses'"),
])
def test_a_bad_setting_is_bad_input(table: str, reason: str) -> None:
    pyproject(table)
    page("```python\nprint(1)\n```\n")
    code, out, err = cli()
    assert (code, out) == (2, "")
    assert "pyproject.toml: [tool.twnotes] " in err and reason in err, err


# ---------------------------------------------------------------- --update keeps wildcards


def test_update_keeps_the_wildcards_that_still_match() -> None:
    path = page("```python {ellipsis=true}\nimport os\nprint('pid', os.getpid())\n"
                "print('new line')\nprint('end')\n```\n\n"
                "```output\npid ...\nold line\nend\n```\n")
    code, out, _ = cli(update=True)
    assert code == 0, out
    assert "```output\npid ...\nnew line\nend\n```" in path.read_text(encoding="utf-8")
    assert cli()[0] == 0


def test_update_leaves_a_matching_expectation_as_written() -> None:
    body = ("```python {ellipsis=true}\nprint('took', 0.123, 's')\n```\n\n"
            "```output\ntook ... s\n```\n")
    path = page(body)
    before = path.read_bytes()
    assert cli(update=True)[0] == 0
    assert path.read_bytes() == before


@pytest.mark.parametrize(("old", "actual", "new"), [
    ("a\nport ...\nb", "a\nport 9\nc", "a\nport ...\nc"),
    ("start\n...\nend", "start\n1\n2\nend\nmore", "start\n...\nend\nmore"),
    ("x ...\ny", "z", "z"),
    ("...", "anything\nat all", "..."),
])
def test_keep_wildcards(old: str, actual: str, new: str) -> None:
    assert keep_wildcards(old, actual) == new
    assert matches(new, actual, ellipsis=True)

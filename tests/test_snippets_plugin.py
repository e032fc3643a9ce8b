"""The pytest plugin: a page's snippets are test items, with ids, xdist and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ("pytester",)

PAGE = """+++
title = "t"
+++

```python
print("ok")
```

```output
ok
```

```python
x = 1
x.missing
```

```python {test="skip"}
raise SystemExit(1)
```

```sh
not python
```
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\ntestpaths = content\n")
    (pytester.path / "content").mkdir()
    (pytester.path / "content" / "page.md").write_text(PAGE, encoding="utf-8")
    # Markdown outside the configured folders is not collected.
    (pytester.path / "README.md").write_text("```python\nraise SystemExit(1)\n```\n")
    return pytester


def test_snippets_are_items_with_file_and_line_ids(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--collect-only", "-q", ".")
    result.stdout.fnmatch_lines(["content/page.md::L5", "content/page.md::L13",
                                 "content/page.md::L18"])
    assert "README.md" not in result.stdout.str()


def test_pass_fail_and_skip_are_reported_like_tests(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "content/page.md:15: raised AttributeError",
        '*File "content/page.md", line 15, in <module>*',
        '*test="skip" on the fence*',
    ])


@pytest.mark.slow
def test_xdist_and_junit_xml_work(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-n", "2", "--junitxml=report.xml")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    cases = ET.parse(project.path / "report.xml").getroot().iter("testcase")
    names = {(case.get("classname"), case.get("name")) for case in cases}
    assert names == {("content.page.md", "L5"), ("content.page.md", "L13"),
                     ("content.page.md", "L18")}


def test_a_bad_attribute_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntestpaths = content\n")
    (pytester.path / "content").mkdir()
    (pytester.path / "content" / "bad.md").write_text("```python {nope=1}\nx\n```\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*content/bad.md:1: unknown fence attribute 'nope'*"])


def test_a_flooding_snippet_keeps_the_failure_report_bounded(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntestpaths = content\n")
    (pytester.path / "content").mkdir()
    (pytester.path / "content" / "flood.md").write_text(
        "```python\nprint('x' * 2_000_000)\n```\n", encoding="utf-8")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*content/flood.md:1: printed more than the output limit*"])
    assert len(result.stdout.str()) < 10_000


def test_a_failure_shows_the_snippets_stderr(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntestpaths = content\n")
    (pytester.path / "content").mkdir()
    (pytester.path / "content" / "p.md").write_text(
        "```python\nimport sys\nprint('the reason', file=sys.stderr)\nprint(1)\n```\n\n"
        "```output\n2\n```\n", encoding="utf-8")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["content/p.md:7: output differs from the expected output:",
                                 "-2", "+1", "    the reason"])


def test_a_chain_is_one_item_per_block(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntestpaths = content\n")
    (pytester.path / "content").mkdir()
    (pytester.path / "content" / "p.md").write_text(
        "```python\nraise KeyError(1)\n```\n\n```python {continues=true}\nprint(2)\n```\n",
        encoding="utf-8")
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*not run: the program ended in the block at line 1*"])

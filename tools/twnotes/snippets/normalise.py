"""Comparing a snippet's output with what the page expects, when some of it varies.

Three steps, all pure: `clean` (line ends, trailing spaces and blank lines), the site's
normalisers (regex -> replacement, e.g. a port number becomes `PORT`), applied to the actual
and the expected text alike, and, where enabled, doctest-style `...` wildcards in the
expected text: a line that is only `...` stands for any number of lines (none too), and
`...` inside a line for any characters of that one line.

`--update` rewrites an expectation from a run; `keep_wildcards` keeps every line of the old
expectation that still matches (wildcards included), and takes the run's lines elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

ELLIPSIS = "..."
ALIGN_LIMIT = 4_000_000  # cells of the --update alignment table; past it, the run's text wins

Normaliser = tuple["re.Pattern[str]", str]


def clean(text: str) -> str:
    """Output as compared: LF line ends, no trailing spaces, no trailing blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


def apply(normalisers: Sequence[Normaliser], text: str) -> str:
    """`clean`, then every normaliser in order."""
    text = clean(text)
    for pattern, replacement in normalisers:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=1024)
def _line_pattern(line: str) -> re.Pattern[str] | None:
    """A regex for an expected line with `...` in it (None: compare it as it is)."""
    if ELLIPSIS not in line:
        return None
    return re.compile(".*?".join(re.escape(part) for part in line.split(ELLIPSIS)))


def line_matches(expected: str, actual: str) -> bool:
    pattern = _line_pattern(expected)
    return expected == actual if pattern is None else pattern.fullmatch(actual) is not None


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def matches(expected: str, actual: str, ellipsis: bool) -> bool:
    """Whether the (cleaned, normalised) actual text is what the expected text describes."""
    if not ellipsis or ELLIPSIS not in expected:
        return expected == actual
    want, got = _lines(expected), _lines(actual)
    # Glob matching over lines, `...` lines as the star: each run of other lines matches a
    # fixed number of lines, so the leftmost place for each run is the right one.
    runs: list[list[str]] = [[]]
    for line in want:
        if line.strip() == ELLIPSIS:
            runs.append([])
        else:
            runs[-1].append(line)
    if len(runs) == 1:
        return len(want) == len(got) and all(map(line_matches, want, got))

    def at(run: list[str], pos: int) -> bool:
        return pos + len(run) <= len(got) and all(
            line_matches(w, g) for w, g in zip(run, got[pos:pos + len(run)], strict=False))

    first, *middle, last = runs
    if not at(first, 0):
        return False
    pos = len(first)
    for run in middle:
        while not at(run, pos):
            pos += 1
            if pos + len(run) > len(got):
                return False
        pos += len(run)
    return len(got) - len(last) >= pos and at(last, len(got) - len(last))


def _alignment(want: list[str], got: list[str], star: list[bool]) -> tuple[
        list[list[int]], list[list[int]]]:
    """best[i][j]: most old lines kept when aligning want[i:] with got[j:]; for a `...` line,
    reach[i][j] is the furthest k >= j where keeping it (absorbing got[j:k]) is best."""
    n, m = len(want), len(got)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    reach = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m, -1, -1):
            value = below[j]  # drop want[i]
            if star[i]:
                k = j if j == m or below[j] > below[reach[i][j + 1]] else reach[i][j + 1]
                reach[i][j] = k
                value = max(value, below[k] + 1)
            elif j < m and line_matches(want[i], got[j]):
                value = max(value, below[j + 1] + 1)
            if j < m:
                value = max(value, row[j + 1])  # got[j] is new text
            row[j] = value
    return best, reach


def _kept(want: list[str], got: list[str], star: list[bool], best: list[list[int]],
          reach: list[list[int]]) -> list[str]:
    """The lines of one best alignment, walked from the start."""
    n, m = len(want), len(got)
    out: list[str] = []
    i = j = 0
    while i < n or j < m:
        here = best[i][j]
        if i < n and star[i] and best[i + 1][reach[i][j]] + 1 == here:
            out.append(want[i])
            i, j = i + 1, reach[i][j]
        elif (i < n and j < m and not star[i] and line_matches(want[i], got[j])
                and best[i + 1][j + 1] + 1 == here):
            out.append(want[i])
            i, j = i + 1, j + 1
        elif j < m and best[i][j + 1] == here:
            out.append(got[j])
            j += 1
        else:
            i += 1  # an old line that no longer matches anything: dropped
    return out


def keep_wildcards(expected: str, actual: str) -> str:
    """The run's text, except where a line of the old expectation still matches: there the
    old line stays as written (wildcards included); a `...` line stays where it still fits.

    An alignment that keeps as many old lines as possible (an LCS where "equal" is "this
    expected line matches this actual line", and a `...` line may absorb actual lines).
    """
    want, got = _lines(expected), _lines(actual)
    if ELLIPSIS not in expected or (len(want) + 1) * (len(got) + 1) > ALIGN_LIMIT:
        return actual
    star = [line.strip() == ELLIPSIS for line in want]
    best, reach = _alignment(want, got, star)
    return "\n".join(_kept(want, got, star, best, reach))

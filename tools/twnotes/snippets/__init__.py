"""Pages -> Snippets -> Cases -> Results: every fenced Python block of the notes runs as a test.

A *snippet* is one fenced block (```` ```python ````, also `py`, `python3`), found with
markdown-it-py's tokens; its fence attributes use Hugo's own syntax (```` ```python
{stop_after=1} ````) so Hugo renders the page unchanged. An ```` ```output ```` fence right
after it is its expected stdout. A *case* is what runs as one program: a snippet, or a chain
of snippets joined with `continues=true` or set up by a setup block. `runner` runs each case
in isolation; this package knows Markdown and turns outcomes into one *result* per snippet.

The modules, in pipeline order: config (`[tool.twnotes]`), attributes (the fence attribute
grammar), options (what the keys mean), extract (pages -> snippets), cases (chains, -k,
shards), cache, running (cases -> outcomes -> results), verdicts (judging one outcome),
normalise (comparing output that varies), report (the results JSON), update (`--update`),
command (the CLI).
"""

from twnotes.snippets.attributes import AttributeSyntaxError, parse_info, read_info
from twnotes.snippets.cache import Cache, default_cache_dir
from twnotes.snippets.cases import (
    Case,
    Collected,
    Versions,
    chain,
    collect,
    id_matches,
    parse_shard,
    select,
    versions,
)
from twnotes.snippets.command import command
from twnotes.snippets.config import DEFAULT_TIMEOUT, Settings
from twnotes.snippets.extract import (
    OUTPUT_LANGUAGE,
    PYTHON_LANGUAGES,
    OutputFence,
    Snippet,
    display_path,
    extract,
)
from twnotes.snippets.options import Options, options_from
from twnotes.snippets.report import merge_results, report_json, write_json
from twnotes.snippets.running import Ran, run, run_cases
from twnotes.snippets.update import new_expectation, rejudge_updated, update_outputs
from twnotes.snippets.verdicts import Result, failure_text, judge, skipped, summary

__all__ = [
    "DEFAULT_TIMEOUT", "OUTPUT_LANGUAGE", "PYTHON_LANGUAGES", "AttributeSyntaxError", "Cache",
    "Case", "Collected", "Options", "OutputFence", "Ran", "Result", "Settings", "Snippet",
    "Versions", "chain", "collect", "command", "default_cache_dir", "display_path", "extract",
    "failure_text", "id_matches", "judge", "merge_results", "new_expectation",
    "options_from", "parse_info", "parse_shard", "read_info", "rejudge_updated",
    "report_json", "run", "run_cases", "select", "skipped", "summary", "update_outputs",
    "versions", "write_json",
]

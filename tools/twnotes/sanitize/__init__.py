"""Make the raw HTML in notes safe, in place, the way a formatter rewrites code.

markdown-it-py finds raw HTML exactly where Hugo's goldmark would (html_block tokens and
the html_inline children of inline tokens); each piece is parsed by html5lib through
beautifulsoup4 the way a browser parses it, cleaned against `policy`, serialised, checked
to parse back to the same tree, and written back over its own bytes only. Every other
byte of the file (front matter, BOM, CRLF, trailing spaces, code) stays as it was.

The modules, in pipeline order: html5 (the browser's tree), fast (the already-clean
check), fragment (cleaning one fragment), document (a page as goldmark meets it), blocks
and inline (the two kinds of raw HTML), checks (refusals), edits (what flows out),
command (the CLI).
"""

from twnotes.sanitize.command import FileOutcome, run, run_stdin, sanitize_file, sanitize_paths
from twnotes.sanitize.document import find_edits, sanitize_page, sanitize_text
from twnotes.sanitize.edits import Edit, Result, apply_edits, describe_change
from twnotes.sanitize.fragment import clean_fragment, clean_fragment_uncached

__all__ = [
    "Edit", "FileOutcome", "Result", "apply_edits", "clean_fragment", "clean_fragment_uncached",
    "describe_change", "find_edits", "run", "run_stdin", "sanitize_file", "sanitize_page",
    "sanitize_paths", "sanitize_text",
]

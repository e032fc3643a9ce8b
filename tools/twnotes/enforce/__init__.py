"""Enforce the policy on what Hugo emitted: every note region of the built site, cleaned again.

`sanitize` cleans the raw HTML it finds in the Markdown, but Hugo renders with goldmark,
and two parsers never agree on every edge. So the layouts delimit every region of a built
page whose HTML comes from a note (layouts/_partials/region-mark.html) with HTML comments
that hold a per-build random token from HUGO_TW_REGION_TOKEN, which no note can know:

    <!--#tw:TOKEN:block--> … <!--#tw:TOKEN:/block-->    a note's HTML in a block context
    <!--#tw:TOKEN:inline--> … <!--#tw:TOKEN:/inline-->  a note's HTML inside a paragraph
    <!--#tw:TOKEN:layout--> … <!--#tw:TOKEN:/layout-->  a render hook's or shortcode's own
                                                         markup inside a note region
    <!--#tw:TOKEN:page-->                                once a page: delimited by this build

Each note region is cleaned with the one policy (`sanitize.clean_fragment`, `rendered`:
goldmark's own attributes, such as a footnote's class and role, are its to keep), its layout
islands standing aside as placeholders (their markup is not the note's, but the note
regions inside them are cleaned too); then the delimiters go and the page is written back
whole. The delimiters are found as exact strings, not by parsing: whatever a note does to
the HTML around them (an unclosed comment, a `<script>` left open) cannot hide one, and a
region's bytes are replaced whole when they change.

The modules: regions (finding the delimiters), compare (is a region clean, by its tree),
page (one page cleaned), site (the command, over worker processes for a large site).

What counts as a change: the minifier writes the same tree in other bytes than the
cleaner (unquoted attributes, omitted end tags), so a region that the cleaner rewrites is
compared with its cleaned form as the trees html5lib builds from both, in the context the
cleaner uses. Equal trees: the region stays byte for byte as Hugo wrote it. Otherwise the
cleaned form replaces it and the change is reported (`page: removed <script>`): the source
sanitiser should have caught it, so `make test` fails on it.
"""

from twnotes.enforce.compare import check_fragment
from twnotes.enforce.page import enforce_text
from twnotes.enforce.regions import (
    LAYOUT,
    NOTE_KINDS,
    TOKEN_ENV,
    Change,
    DelimiterError,
    find_regions,
)
from twnotes.enforce.site import Outcome, enforce_file, enforce_site, run, site_files, token_from

__all__ = [
    "LAYOUT", "NOTE_KINDS", "TOKEN_ENV", "Change", "DelimiterError", "Outcome", "check_fragment",
    "enforce_file", "enforce_site", "enforce_text", "find_regions", "run", "site_files",
    "token_from",
]

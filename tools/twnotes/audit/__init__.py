"""Audit the built site: nothing on a page can run unless a layout put it there.

Defence in depth behind `sanitize` and `enforce`: it reads only built HTML (public/),
parsed with html5lib as a browser parses it, so a hole anywhere upstream (a note, a
shortcode, a render hook, a Hugo upgrade) shows up here. A layout's script is known by
what a note cannot copy into a working script of its own: its hash. Every page carries a
Content-Security-Policy <meta> as the first element of <head>; an inline script runs only
if the sha256 (384, 512) of its text is one of that policy's hash sources, and an
external one must be a file of the site whose bytes match its `integrity` attribute. No
script at all may sit inside the page content (`.tw-content`), and no element anywhere
may carry an event handler or a script URL, which the policy stops in a browser too.

The modules: tree (the page as html5lib builds it, in a bare node class: half the cost of
a bs4 soup), csp (the page's policy), scripts (is this script the layouts' own), page (one
page's findings), site (the command; a large site over worker processes).
"""

from twnotes.audit.csp import CSP, NO_POLICY
from twnotes.audit.page import FORBIDDEN_TAGS, SRCSET_ATTRS, URL_ATTRS, Finding, audit_html
from twnotes.audit.scripts import HASHES
from twnotes.audit.site import audit_file, audit_site, run, site_pages
from twnotes.audit.tree import CONTENT_CLASS

__all__ = [
    "CONTENT_CLASS", "CSP", "FORBIDDEN_TAGS", "HASHES", "NO_POLICY", "SRCSET_ATTRS",
    "URL_ATTRS", "Finding", "audit_file", "audit_html", "audit_site", "run", "site_pages",
]

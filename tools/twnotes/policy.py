"""The one allow-list: which tags, attributes and URLs raw HTML in a note may keep.

`sanitize` applies it to content and `audit` reuses the URL test on the built site, so
what counts as dangerous is decided here and nowhere else. The Hugo render hooks apply
the same URL rule to Markdown links, the same id prefix and the same `rel`, reading them
from data/twnotes.json, which `twnotes.sitedata` writes from this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# Phrasing content: what may appear inside a paragraph, so inline HTML never breaks one.
INLINE_TAGS: Final = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "del", "dfn", "em", "i", "img",
    "ins", "kbd", "mark", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strong",
    "sub", "sup", "time", "u", "var", "wbr",
})

# Everything a note may use in an HTML block: the inline set plus block structure.
BLOCK_TAGS: Final = INLINE_TAGS | frozenset({
    "blockquote", "caption", "col", "colgroup", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
    "pre", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})

# Elements whose content is code, raw text, markup or another document: removing only the
# tag would turn that content into visible (or live) markup, so they go whole.
DROP_WHOLE: Final = frozenset({
    "script", "style", "template", "noscript", "textarea", "title", "xmp", "noembed",
    "noframes", "iframe", "object", "embed", "applet", "frame", "frameset", "plaintext",
    "svg", "math", "select", "option", "optgroup", "datalist", "head", "canvas", "audio",
    "video", "portal", "fencedframe", "meta", "link", "base", "param", "source", "track",
    "input", "button", "form", "dialog", "slot", "search",
})

GLOBAL_ATTRS: Final = frozenset({"id", "title", "lang", "dir"})

TAG_ATTRS: Final[dict[str, frozenset[str]]] = {
    "a": frozenset({"href", "name", "hreflang", "rel"}),
    "img": frozenset({"src", "alt", "width", "height", "loading"}),
    "td": frozenset({"colspan", "rowspan", "align"}),
    "th": frozenset({"colspan", "rowspan", "align", "scope", "abbr"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "ol": frozenset({"start", "reversed", "type"}),
    "li": frozenset({"value"}),
    "details": frozenset({"open"}),
    "time": frozenset({"datetime"}),
    "del": frozenset({"cite", "datetime"}),
    "ins": frozenset({"cite", "datetime"}),
    "q": frozenset({"cite"}),
    "blockquote": frozenset({"cite"}),
}

URL_ATTRS: Final = frozenset({"href", "src", "cite"})
SAFE_SCHEMES: Final = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES: Final = frozenset({"http", "https"})

# Ids and names share the page with the layout's own ids and with `window`/`document`
# properties (DOM clobbering: <img name=cookie> shadows document.cookie). Rather than a
# list of dangerous names, which is never complete, every id and name gets this prefix,
# as GitHub does; a Markdown link to a raw-HTML anchor writes `#user-content-x`.
ID_PREFIX: Final = "user-content-"

EXTERNAL_REL: Final = "noopener noreferrer"

# Browsers drop ASCII tab and newline anywhere in a URL and C0 controls and space at
# its ends; removing every control and space is stricter, so no spelling of a scheme hides.
# (Code point ranges, so that the templates' copy of the rule is generated from them.)
INVISIBLE_RANGES: Final = ((0x00, 0x20), (0x7F, 0x9F), (0xAD, 0xAD), (0x200B, 0x200F),
                           (0x2028, 0x2029), (0xFEFF, 0xFEFF))
# A Markdown destination with one of these (after its references are decoded) is no link
# at all in the render hooks (layouts/_partials/url-is-safe.html), whatever it spells.
CONTROL_RANGES: Final = ((0x00, 0x1F), (0x7F, 0x7F))
SCHEME_PATTERN: Final = r"([A-Za-z][A-Za-z0-9+.\-]*):"
# What ends the part of a relative URL where a colon would be read as a scheme's.
PATH_START: Final = "/?#"


def char_class(ranges: Iterable[tuple[int, int]], *, go: bool = False) -> str:
    """A regex character class for code point ranges, in Python's syntax or Go's (RE2)."""
    def char(point: int) -> str:
        return f"\\x{{{point:x}}}" if go else f"\\U{point:08x}"

    return "[" + "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}"
                         for lo, hi in ranges) + "]"


_INVISIBLE = re.compile(char_class(INVISIBLE_RANGES))
_CONTROL = re.compile(char_class(CONTROL_RANGES))
_SCHEME = re.compile(SCHEME_PATTERN)


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see (lower case), '' for a relative URL, None if unclear.

    `url` must already be entity-decoded (attribute values from html5lib are). A colon
    before the first `/`, `?` or `#` that is not a well-formed scheme is "unclear", and
    unclear is treated as dangerous.
    """
    squeezed = _INVISIBLE.sub("", url)
    match = _SCHEME.match(squeezed)
    if match:
        return match.group(1).lower()
    head = re.split(f"[{re.escape(PATH_START)}]", squeezed, maxsplit=1)[0]
    return None if ":" in head else ""


def is_safe_url(url: str, *, image: bool = False) -> bool:
    """True for http(s), mailto (links only), relative paths and `#fragment` URLs."""
    scheme = url_scheme(url)
    if scheme is None:
        return False
    if scheme == "":
        return True
    return scheme in (IMAGE_SCHEMES if image else SAFE_SCHEMES)


def is_safe_destination(url: str, *, image: bool = False) -> bool:
    """The render hooks' rule for a Markdown link or image destination (decoded already):
    is_safe_url, and no control character anywhere (url-is-safe.html applies it)."""
    return _CONTROL.search(url) is None and is_safe_url(url, image=image)


def is_external(url: str) -> bool:
    """A link that leaves the site: an absolute http(s) URL or a scheme-relative one."""
    squeezed = _INVISIBLE.sub("", url).replace("\\", "/")
    return url_scheme(url) in ("http", "https") or squeezed.startswith("//")


def is_dangerous_url(url: str) -> bool:
    """The audit's test: a URL that runs code or renders a document when followed."""
    scheme = url_scheme(url)
    if scheme is None:
        return True
    if scheme in ("javascript", "vbscript", "livescript"):
        return True
    if scheme == "data":
        # data:text/html (and XML or SVG documents) render markup that runs script;
        # data:image/png and the like are inert.
        media = _INVISIBLE.sub("", url).split(":", 1)[1].split(",", 1)[0].lower()
        return any(word in media for word in ("html", "xml", "svg", "script"))
    return False


def is_safe_comment(text: str) -> bool:
    """A comment kept as written: one that reads back as the same comment in any parser.

    Hugo's `<!--more-->` summary divider and notes' own remarks stay; text that would end
    the comment early or open another (`-->`, `--!>`, `<!--`), a leading `>` or `->`, a
    trailing `<!-` or `-`, legacy conditional comments (`[if …]`) and comments that start
    with `#` (the form the layouts' region delimiters take, and the minifier keeps) do not.
    """
    return not (text.startswith((">", "->", "[", "#")) or text.endswith(("<!-", "-"))
                or any(bad in text for bad in ("-->", "--!>", "<!--", "\x00")))


_ALLOWED_ATTRS: Final = {tag: GLOBAL_ATTRS | TAG_ATTRS.get(tag, frozenset())
                         for tag in BLOCK_TAGS}


def allowed_attrs(tag: str) -> frozenset[str]:
    found = _ALLOWED_ATTRS.get(tag)
    return found if found is not None else GLOBAL_ATTRS | TAG_ATTRS.get(tag, frozenset())


# What goldmark's own Markdown output carries in a note's region of the built page, beyond
# what raw HTML may keep: classes (`{.name}` attribute lists, footnotes), the ARIA roles of
# footnotes, the ids Markdown makes (`{#id}`, `fn:1`) as written, and table cell alignment.
# `twnotes enforce` cleans the built regions with `rendered=True`; the source sanitiser,
# which sees raw HTML only, never does.
RENDERED_ROLES: Final = frozenset({"doc-noteref", "doc-endnotes", "doc-backlink"})
_CLASS_RE: Final = re.compile(r"[A-Za-z_][\w-]*")
_ALIGN_RE: Final = re.compile(r"text-align:\s*(?:left|right|center);?")


# The layouts' own ids and classes: `main`, and everything `tw-…` (the site's CSS and script
# key on them); content must not take them.
LAYOUT_IDS: Final = frozenset({"main"})
LAYOUT_PREFIX: Final = "tw-"


def is_layout_class(value: str) -> bool:
    """A class of the layouts' own (`tw-…`): the site's CSS and script key on them."""
    return value.lower().startswith(LAYOUT_PREFIX)


def _rendered_value(tag: str, key: str, value: str) -> str | None:
    """The value a rendered-only attribute keeps (None: it goes)."""
    if key == "class":
        names = value.split()
        ok = names and all(_CLASS_RE.fullmatch(n) and not is_layout_class(n) for n in names)
        return " ".join(names) if ok else None
    if key == "role":
        return value if value in RENDERED_ROLES else None
    if key == "style" and tag in ("td", "th"):
        return value if _ALIGN_RE.fullmatch(value.strip()) else None
    return None


def clean_attrs(tag: str, attrs: Iterable[tuple[str, str]], *, rendered: bool = False,
                ) -> list[tuple[str, str]]:
    """The attributes (decoded, in source order) an allowed `tag` keeps, and their values.

    Disallowed names and unsafe URLs go; ids and names get the prefix (`rendered`: only
    those that take a layout id); any source `rel` goes, and an external link gets ours,
    last. The tree path and the already-clean check both call this, so they cannot
    disagree on what clean attributes are.
    """
    allowed = allowed_attrs(tag)
    kept: list[tuple[str, str]] = []
    href: str | None = None
    for key, value in attrs:
        kept_value = (_allowed_value(tag, key, value, rendered) if key in allowed
                      else _rendered_value(tag, key, value) if rendered else None)
        if key == "rel" or kept_value is None:
            continue
        if key == "href":
            href = kept_value
        kept.append((key, kept_value))
    if tag == "a" and href is not None and is_external(href):
        kept.append(("rel", EXTERNAL_REL))
    return kept


def _allowed_value(tag: str, key: str, value: str, rendered: bool) -> str | None:
    """The value an allowed attribute keeps: an unsafe URL or an empty id goes (None), an
    id or name gets the prefix (`rendered`: only one that takes a layout id)."""
    if key in URL_ATTRS and not is_safe_url(value, image=tag == "img"):
        return None
    if key in ("id", "name"):
        if not value.strip():
            return None
        return value.strip() if rendered and not is_layout_id(value) else prefixed_id(value)
    return value


def is_layout_id(value: str) -> bool:
    """An id the layouts use themselves (`main`, `tw-…`): content must not take it."""
    value = value.strip().lower()
    return value in LAYOUT_IDS or value.startswith(LAYOUT_PREFIX)


def prefixed_id(value: str) -> str:
    """An id or name that cannot clobber a DOM global or a layout id; idempotent."""
    value = value.strip()
    return value if value.startswith(ID_PREFIX) else ID_PREFIX + value

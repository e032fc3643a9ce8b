"""Whether a <script> is one of the layouts' own: known by its hash, or by its file's digest.

A layout's script is known by what a note cannot copy into a working script of its own: an
inline script runs only if the sha256 (384, 512) of its text is one of the page policy's
hash sources, and an external one must be a file of the site whose bytes match its
`integrity` attribute.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import posixpath
import re
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from twnotes.audit.tree import Node

# Hash sources a policy may name, and the hashlib name of each.
HASHES: Final = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_SPACES: Final = re.compile(r"\s+")


def short(value: str) -> str:
    """A value as a finding quotes it: spaces folded, at most 60 characters."""
    value = _SPACES.sub(" ", value)
    return value if len(value) <= 60 else value[:57] + "..."


def _digest(algorithm: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(HASHES[algorithm], data).digest()).decode("ascii")


@functools.lru_cache(maxsize=256)
def _file_digest(path: Path, algorithm: str) -> str:
    return _digest(algorithm, path.read_bytes())


def _site_file(root: Path, page: str, src: str) -> Path | None:
    """The file of the built site that a same-site script URL names, or None.

    A site published under a sub-path (baseURL /notes-site/) has its files at the root of
    public/: leading path segments are dropped until a file is found.
    """
    parts = urlsplit(src.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        path = posixpath.join(posixpath.dirname("/" + page), path)
    segments = [segment for segment in posixpath.normpath(path).split("/") if segment]
    for i in range(len(segments)):
        candidate = root.joinpath(*segments[i:])
        if candidate.is_file():
            return candidate
    return None


def _inline_problem(node: Node, hashes: frozenset[str]) -> str | None:
    data = "".join(node.script).encode("utf-8", errors="surrogatepass")
    for source in hashes:
        algorithm, _, value = source.partition("-")
        if algorithm in HASHES and _digest(algorithm, data) == value:
            return None
    return (f"inline <script> not allowed by the page's Content-Security-Policy "
            f"(sha256-{_digest('sha256', data)})")


def _external_problem(node: Node, src: str, root: Path | None, page: str) -> str | None:
    parts = urlsplit(src.strip())
    foreign = bool(parts.scheme or parts.netloc)
    file = _site_file(root, page, src) if root is not None and not foreign else None
    if foreign or (root is not None and file is None):
        return f"<script src> {short(src)!r} is not a file of this site"
    for spec in node.attributes.get("integrity", "").split():
        algorithm, _, value = spec.partition("-")
        if algorithm in HASHES and (file is None or _file_digest(file, algorithm) == value):
            return None
    return f"<script src> {short(src)!r} has no integrity matching the site's file"


def script_problem(node: Node, hashes: frozenset[str], root: Path | None,
                   page: str) -> str | None:
    """Why a <script> is not one of the layouts' own, or None if it is.

    Inline: the hash of its text must be a hash source of the page's policy (a copy of a
    layout script's text is that layout script again). External: a file of the site whose
    digest is the one its `integrity` attribute names (with `root`; see audit_html).
    """
    src = node.attributes.get("src")
    if src is None:
        return _inline_problem(node, hashes)
    return _external_problem(node, src, root, page)

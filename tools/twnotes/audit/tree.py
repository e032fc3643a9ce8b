"""The built page's tree as html5lib's tree construction places it, in a bare node class.

Speed: html5lib's tree construction (the HTML standard's algorithm, so the tree is the
browser's) builds into the node class below instead of a bs4 soup, which halves the parse:
the audit reads element names, attributes and ancestry, and text only of scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import html5lib
from html5lib.treebuilders import base as treebuilder_base

from twnotes.util import per_thread

CONTENT_CLASS: Final = "tw-content"


class Node(treebuilder_base.Node):
    """An element, comment or doctype as html5lib's tree construction places it.

    Only what the audit reads is kept: name, namespace, attributes (html5lib's own dict:
    plain names, or (prefix, local name, namespace) for adjusted foreign attributes such
    as xlink:href) and children. Text is not kept, only whether there was some
    (hasContent decides whether a newline after <pre> is dropped).
    """

    def __init__(self, name: str, namespace: str | None = None, element: bool = True) -> None:
        self.name = name
        self.namespace = namespace
        self.nameTuple = (namespace, name)
        self.element = element
        self.parent: Node | None = None
        self.value = None
        self.attributes: dict[Any, str] = {}
        self.childNodes: list[Node] = []
        self._flags: list[str] = []
        self.text = False
        self.script: list[str] = []  # a script's text, the one text the audit reads

    def appendChild(self, node: Node) -> None:
        self.childNodes.append(node)
        node.parent = self

    def insertText(self, data: str, insertBefore: Node | None = None) -> None:
        self.text = True
        if self.name == "script":
            self.script.append(data)

    def insertBefore(self, node: Node, refNode: Node) -> None:
        self.childNodes.insert(self.childNodes.index(refNode), node)
        node.parent = self

    def removeChild(self, node: Node) -> None:
        self.childNodes.remove(node)
        node.parent = None

    def reparentChildren(self, newParent: Node) -> None:
        for child in self.childNodes:
            newParent.appendChild(child)
        self.childNodes = []

    def cloneNode(self) -> Node:  # type: ignore[override]  # (the stub says None)
        clone = Node(self.name, self.namespace, self.element)
        clone.attributes = dict(self.attributes)
        return clone

    def hasContent(self) -> bool:  # type: ignore[override]  # (the stub says None)
        return bool(self.childNodes) or self.text


def _document() -> Node:
    return Node("#document", element=False)


def _comment(data: str) -> Node:
    return Node("#comment", element=False)


def _doctype(name: str, publicId: str | None, systemId: str | None) -> Node:
    return Node("#doctype", element=False)


class _TreeBuilder(treebuilder_base.TreeBuilder):
    documentClass = staticmethod(_document)
    elementClass = Node
    commentClass = staticmethod(_comment)
    doctypeClass = staticmethod(_doctype)
    fragmentClass = staticmethod(_document)


_parser: Final = per_thread(lambda: html5lib.HTMLParser(tree=_TreeBuilder))


def parse(text: str) -> Node:
    """The page's document node; one html5lib parser per thread (it resets on each parse)."""
    document: Node = _parser().parse(text)
    return document


def attr_name(key: str | tuple[str | None, str, str]) -> str:
    """An attribute's name as written: `xlink:href` for html5lib's adjusted foreign ones."""
    if isinstance(key, str):
        return key
    prefix, local, _namespace = key
    return f"{prefix}:{local}" if prefix else local


def attrs(node: Node) -> list[tuple[str, str]]:
    # Plain names first, adjusted foreign names after, in parse order within each (the
    # order bs4 gave them, which this audit used before; it fixes the order of findings).
    items = node.attributes.items()
    return ([(key, value) for key, value in items if isinstance(key, str)]
            + [(attr_name(key), value) for key, value in items if not isinstance(key, str)])


def elements(document: Node) -> Iterator[tuple[Node, bool]]:
    """Every element in document order, and whether it sits inside the page content."""
    stack: list[tuple[Node, bool]] = [(document, False)]
    while stack:
        node, inside = stack.pop()
        if node.element:
            yield node, inside
            if not inside:
                inside = CONTENT_CLASS in node.attributes.get("class", "").split()
        stack.extend((child, inside) for child in reversed(node.childNodes))

"""Goldmark's attribute grammar, as Hugo applies it to a code fence's `{...}`.

Only the syntax: which keys mean what is the business of the module that reads them.
`read_info` also reports what Hugo accepts but a careful author did not mean (a key given
twice, words outside the braces), so that a Python fence can refuse them.
"""

from __future__ import annotations

import re


class AttributeSyntaxError(ValueError):
    pass


_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.\-]*")
_SHORTHAND = re.compile(r"[A-Za-z0-9_:.\-]+")
_ESCAPES = {'"': '"', "/": "/", "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _AttributeParser:
    """Goldmark's attribute grammar, as Hugo applies it to a fence's `{...}`.

    Values: "double-quoted" strings with JSON-like escapes, numbers, true/false, [arrays], and
    bare words. What Hugo refuses (single quotes, `{x}`, `{x=}`, `{ }`) is refused here too, so a
    page that passes this check also builds.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.repeated: list[str] = []

    def fail(self, what: str) -> AttributeSyntaxError:
        return AttributeSyntaxError(f"bad fence attributes {self.text!r}: {what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def parse(self) -> dict[str, object]:
        if self.peek() != "{":
            raise self.fail("expected '{'")
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
            return {}
        attrs: dict[str, object] = {}
        while True:
            self.skip_spaces()
            if self.peek() == "}" and attrs:
                self.pos += 1
                return attrs
            if not self.peek():
                raise self.fail("no closing '}'")
            name, value = self.attribute()
            if name in attrs:
                self.repeated.append(name)
            attrs[name] = value  # a repeated key: the last one wins, as in Hugo
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1

    def attribute(self) -> tuple[str, object]:
        char = self.peek()
        if char in (".", "#"):
            self.pos += 1
            match = _SHORTHAND.match(self.text, self.pos)
            if not match:
                raise self.fail(f"empty {char!r} shorthand")
            self.pos = match.end()
            return ("class" if char == "." else "id"), match.group()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.fail(f"expected a name at {self.text[self.pos:]!r}")
        self.pos = match.end()
        self.skip_spaces()
        if self.peek() != "=":
            raise self.fail(f"{match.group()!r} has no '=value' (quote the value)")
        self.pos += 1
        self.skip_spaces()
        return match.group(), self.value()

    def value(self) -> object:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == "[":
            return self.array()
        if char and (char in "+-" or char.isdigit()):
            match = _NUMBER.match(self.text, self.pos)
            end = match.end() if match else self.pos
            if not match or (end < len(self.text) and self.text[end] not in " \t,}]"):
                raise self.fail(f"bad number at {self.text[self.pos:]!r}")
            self.pos = end
            number = float(match.group())
            return int(number) if number.is_integer() else number
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.fail(f"bad value at {self.text[self.pos:]!r} (use double quotes)")
        self.pos = match.end()
        word = match.group()
        if word == "null":
            raise self.fail("null is not supported")
        return {"true": True, "false": False}.get(word, word)

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    self.pos += 2
                    continue
                out.append("\\")
                self.pos += 1
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")

    def array(self) -> list[object]:
        self.pos += 1
        items: list[object] = []
        while True:
            self.skip_spaces()
            if self.peek() == "]":
                self.pos += 1
                return items
            if items:
                if self.peek() != ",":
                    raise self.fail("expected ',' in array")
                self.pos += 1
                self.skip_spaces()
            items.append(self.value())


def read_info(info: str) -> tuple[str, dict[str, object], list[str]]:
    """The language, the attributes, and what Hugo would silently ignore (for a strict reader).

    The language is the first word before `{`; Hugo ignores other words before the braces and
    text after the closing `}`, and lets a repeated key's last value win.
    """
    head, brace, _ = info.partition("{")
    words = head.split()
    language = words[0] if words else ""
    ignored = [f"text {' '.join(words[1:])!r} after the language is not read as attributes "
               "(write them in {…})"] if len(words) > 1 else []
    if not brace:
        return language, {}, ignored
    parser = _AttributeParser(info[len(head):].rstrip())
    attrs = parser.parse()
    rest = parser.text[parser.pos:].strip()
    if rest:
        ignored.append(f"text {rest!r} after '}}' is ignored")
    ignored += [f"attribute {name!r} is given twice" for name in parser.repeated]
    return language, attrs, ignored


def parse_info(info: str) -> tuple[str, dict[str, object]]:
    """The language and attributes of a fence's info string, the way Hugo reads them."""
    language, attrs, _ = read_info(info)
    return language, attrs

"""The `twnotes` command line: a thin face over the library modules.

Each subcommand parses its arguments here and calls one library function that returns
an exit code: 0 clean, 1 findings or failures, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twnotes",
        description="Keep the Twisted notes site safe (sanitize) and correct (snippets).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_sanitize(sub)
    add_snippets(sub)
    add_audit(sub)
    return parser


# Subcommand registrations. Each adds its parser and sets `func` to a callable
# taking the parsed namespace and returning the exit code.


def add_sanitize(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pass


def add_snippets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pass


def add_audit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.error(f"unknown command {args.command!r}")
    code: int = func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

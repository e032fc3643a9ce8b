"""The `twnotes` command line: a thin face over the library modules.

Each subcommand parses its arguments here and calls one library function that returns
an exit code: 0 clean, 1 findings or failures, 2 bad input (`snippets`: 5 when -k selects
nothing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only`, just that subcommand's parser under it (what `main`
    builds when the arguments name one: no message of a subcommand names the others, and
    their help texts would cost every run a millisecond or two)."""
    parser = argparse.ArgumentParser(
        prog="twnotes",
        description="Keep the Twisted notes site safe (sanitize, enforce, audit) and correct "
        "(snippets).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in COMMANDS.items():
        if only in (None, name):
            add(sub)
    return parser


# Subcommand registrations. Each adds its parser and sets `func` to a callable
# taking the parsed namespace and returning the exit code.


def add_sanitize(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sanitize", help="make the raw HTML in content pages safe (in place, like a formatter)",
        description="Clean the raw HTML of Markdown pages against the allow-list; only those "
        "bytes change. `-` reads one HTML fragment on stdin and writes it clean to stdout.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and list file:line when a page is not clean")
    parser.add_argument("--diff", action="store_true",
                        help="change nothing; print what would change as a unified diff")
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="worker processes (default: all cores for large trees)")
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["content"],
                        help="pages or folders (default: content/), or - for stdin")
    parser.set_defaults(func=_sanitize)


def _sanitize(args: argparse.Namespace) -> int:
    from twnotes import sanitize

    if args.paths == ["-"]:
        return sanitize.run_stdin(sys.stdin.buffer.read(), sys.stdout, sys.stderr,
                                  check=args.check)
    return sanitize.run([Path(p) for p in args.paths], check=args.check, diff=args.diff,
                        jobs=args.jobs, out=sys.stdout, err=sys.stderr)


def add_snippets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def shard(text: str) -> tuple[int, int]:
        from twnotes.snippets import parse_shard

        try:
            return parse_shard(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser = sub.add_parser(
        "snippets", help="run every Python code block of the pages as a test",
        description="Run every ```python block under PATH (default: the content folders of "
        "[tool.twnotes], else content/) in isolation; exit 0 all pass, 1 any failure, 2 bad "
        "input, 5 when -k selects nothing.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.add_argument("--list", action="store_true", help="list the snippets, run nothing")
    parser.add_argument("--update", action="store_true",
                        help="rewrite ```output blocks from what the snippets print")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write results as JSON")
    parser.add_argument("-k", dest="pattern", metavar="ID", action="append",
                        help="only the snippet with this id (file::Lline, as --list shows it; "
                        "the path may start at any folder), with its whole continues chain; "
                        "`*` matches any text; repeatable. Nothing selected: exit 5")
    parser.add_argument("--shard", type=shard, metavar="I/N", help="run shard I of N")
    parser.add_argument("--no-cache", action="store_true", help="run even unchanged snippets")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="programs run at once (default: CPU count)")

    def run(args: argparse.Namespace) -> int:
        runner = None
        if not args.list:
            from twnotes.runner import Runner

            # The fork servers' interpreter starts now, while this one imports the snippet
            # modules (Markdown parsing, judging) and reads the pages.
            runner = Runner(workers=args.jobs)
            runner.prestart()
        from twnotes.snippets import command

        return command(
            args.paths or None, list_only=args.list, update=args.update,
            json_path=args.json, pattern=args.pattern, shard=args.shard,
            use_cache=not args.no_cache, jobs=args.jobs, runner=runner,
        )

    parser.set_defaults(func=run)


def add_enforce(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "enforce", help="clean every note region of the built site again (after hugo)",
        description="Clean each region the layouts delimited with the build's token, remove "
        "the delimiters, write each page back. Exit 1 with one `page: what was removed` line "
        "per change, 2 on a missing, repeated or unbalanced delimiter.")
    parser.add_argument("site", nargs="?", default="public", metavar="SITE",
                        help="the built site (default: public/)")
    parser.add_argument("--token", default=None,
                        help="the region token the site was built with "
                        "(default: $HUGO_TW_REGION_TOKEN)")
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="worker processes (default: all cores for large sites)")
    parser.set_defaults(func=_enforce)


def _enforce(args: argparse.Namespace) -> int:
    from twnotes import enforce

    return enforce.run(Path(args.site), enforce.token_from(args.token), sys.stdout,
                       sys.stderr, jobs=args.jobs)


def add_watch(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "watch", help="rerun a page's snippets whenever it is saved (make serve)",
        usage="twnotes watch [-j N] [PATH ...] [-- COMMAND ...]",
        description="Run every snippet, then start COMMAND (e.g. hugo server) and rerun the "
        "snippets of each page when it is saved, updating the results file of "
        "[tool.twnotes] that Hugo watches. Ctrl-C stops everything.")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="programs run at once (default: CPU count)")

    def run(args: argparse.Namespace) -> int:
        from twnotes.snippets.config import ConfigError, load
        from twnotes.watch import watch

        try:
            settings = load()
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        return watch(args.paths or None, args.then, out=sys.stdout, jobs=args.jobs,
                     settings=settings)

    parser.set_defaults(func=run, then=[])


def add_audit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "audit", help="check the built site: no script or handler the layouts did not put there",
        description="Exit 1 with one `page: reason` line per finding.")
    parser.add_argument("site", nargs="?", default="public", metavar="SITE",
                        help="the built site (default: public/)")
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="worker processes (default: all cores for large sites)")
    parser.set_defaults(func=_audit)


def _audit(args: argparse.Namespace) -> int:
    from twnotes import audit

    return audit.run(Path(args.site), sys.stdout, sys.stderr, jobs=args.jobs)


# The subcommands in the order `twnotes --help` lists them.
COMMANDS: dict[str, Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = {
    "sanitize": add_sanitize, "snippets": add_snippets, "enforce": add_enforce,
    "watch": add_watch, "audit": add_audit,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv[:1] and argv[0] in COMMANDS else None)
    then: list[str] = []
    if argv[:1] == ["watch"] and "--" in argv:  # `twnotes watch PATH -- hugo server …`
        at = argv.index("--")
        argv, then = argv[:at], argv[at + 1:]
    args = parser.parse_args(argv)
    if then:
        args.then = then
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

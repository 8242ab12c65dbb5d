"""The `corpus-tools` command line: a thin layer that wires the API functions.

Each subcommand lives in ``corpus_tools/commands/<name>.py`` and exposes
``register(subparsers)``; this module only collects them and maps errors to exit codes:
0 success, 1 partial (some pages had errors), 2 usage error, 3 nothing could be ingested.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__

# order = order shown in --help
COMMANDS = [
    "run", "ingest", "sections", "outline", "tokenize",
    "themes", "topics", "slogans", "stats", "export", "report",
]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_NOTHING = 0, 1, 2, 3


from .errors import UsageError  # noqa: E402  (re-exported for the command modules)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="corpus-tools",
        description="Clean, structure and analyse scraped Chinese trade-union report pages.",
        epilog="Examples:\n  corpus-tools run data/raw -o build/\n  corpus-tools ingest data/raw -o corpus/\n"
        "  corpus-tools outline corpus/ DOC_ID\n\nRun `corpus-tools COMMAND --help` for each command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"corpus-tools {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name and exc.name.endswith(f"commands.{name}"):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        rc = args.func(args)
    except UsageError as exc:
        print(f"corpus-tools {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as exc:
        print(f"corpus-tools {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

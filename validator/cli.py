"""The ``release-policy`` command. The only module that prints or decides an exit code.

Exit codes: 0 clean, 1 findings, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from validator import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """Bad arguments or an unusable path: exit 2 with the message."""


def _color(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def _spec_check(args: argparse.Namespace) -> int:
    from validator import spec, speccheck
    from validator.reporters import REPORTERS, Report

    if args.path is None:
        path, display = spec.bundled_path(), f"(bundled) {spec.BUNDLED_NAME}"
    else:
        path, display = Path(args.path), args.path
    if not path.is_file():
        raise UsageError(f"{display}: no such file")
    try:
        findings = speccheck.check_file(path, display)
    except OSError as error:
        raise UsageError(f"{display}: cannot read: {error.strerror or error}") from None
    report = Report(findings, speccheck.RULE_INFO, files_checked=1, color=_color(sys.stdout))
    print(REPORTERS[args.format](report))
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="release-policy",
        description="Contract tools for LaunchDarkly's release-policies (beta) API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    spec_parser = commands.add_parser("spec", help="work with the OpenAPI document")
    spec_commands = spec_parser.add_subparsers(dest="spec_command", metavar="SUBCOMMAND", required=True)
    check = spec_commands.add_parser(
        "check",
        help="validate an OpenAPI 3.1 document (default: the bundled contract)",
        description=(
            "Validate the document with openapi-spec-validator, then check that every $ref"
            " resolves, every example fits its schema, operationIds are unique, every"
            " operation documents 400/401/403/404/500 with the error schema and every path"
            " parameter is declared."
        ),
    )
    check.add_argument("path", nargs="?", metavar="PATH", help="the document (default: the bundled spec)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    check.set_defaults(handler=_spec_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage message or the help
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"release-policy: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("release-policy: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the one place an unexpected failure becomes a message
        print(f"release-policy: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``lint`` and ``schema`` commands: their options, and the work between arguments and output.

``cli.py`` owns printing and exit codes; these functions hand it text through
``emit`` and return the exit code, raising :class:`CommandError` for a usage
error (exit 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from validator import __version__
from validator.findings import RuleInfo, Severity

Emit = Callable[[str], None]
EXIT_CLEAN, EXIT_FINDINGS = 0, 1
STDIN = "-"


class CommandError(Exception):
    """A usage error: one line, exit 2."""


def _rules(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parsers(commands: Any, formats: Sequence[str], handler: Callable[[argparse.Namespace], int]) -> None:
    """The ``lint`` and ``schema`` subcommands; ``handler`` (cli.py's) runs ``args.command_work``."""
    lint = commands.add_parser(
        "lint",
        help="lint release-policy files (JSON or YAML)",
        description=(
            "Lint release-policy request bodies: everything the API's schema rejects, fields it would"
            " silently ignore, and the lint policy's best-practice rules. A file holding an array is an"
            " order body; an object is a create body unless the configuration or --kind says otherwise."
            " The files of one directory form one project. Options come from the nearest"
            " .release-policy.toml or pyproject.toml [tool.release-policy] above the working directory."
            " PATH '-' reads one body from standard input."
        ),
    )
    lint.add_argument("paths", nargs="*", metavar="PATH", help="files, directories to search, or - for stdin")
    lint.add_argument(
        "--kind", choices=("create", "update", "order"), help="the kind of every body (overrides the config)"
    )
    lint.add_argument("--format", choices=sorted(formats), default="text", help="output format")
    lint.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    lint.add_argument("--list-rules", action="store_true", help="list every rule, as configured, and exit")
    lint.add_argument("--select", type=_rules, metavar="RULES", help="only these rules (ids or prefixes)")
    lint.add_argument("--extend-select", type=_rules, default=(), metavar="RULES", help="these rules too")
    lint.add_argument("--ignore", type=_rules, default=(), metavar="RULES", help="not these rules")
    lint.add_argument("--config", metavar="FILE", help="the configuration file (default: found upward)")
    lint.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    lint.add_argument("--fix", action="store_true", help="apply the safe fixes, then lint what is left")
    lint.add_argument("--diff", action="store_true", help="print the safe fixes as a diff; change nothing")
    lint.set_defaults(handler=handler, command_work=lint_command)

    schema = commands.add_parser(
        "schema",
        help="write the JSON Schema of policy files, for editors",
        description=(
            "Write a standalone JSON Schema (Draft 2020-12) of a policy file, made from the spec's"
            " request schema with its descriptions, for YAML and JSON language servers."
        ),
    )
    schema.add_argument(
        "--kind",
        choices=("create", "update", "order"),
        default="create",
        help="the body kind (default create)",
    )
    schema.set_defaults(handler=handler, command_work=schema_command)


def schema_command(args: argparse.Namespace, emit: Emit, stdin: BinaryIO, color: bool) -> int:
    from validator.linter.schema_export import export_schema

    emit(json.dumps(export_schema(args.kind), indent=2, ensure_ascii=False))
    return EXIT_CLEAN


def lint_command(args: argparse.Namespace, emit: Emit, stdin: BinaryIO, color: bool) -> int:
    from validator import linter
    from validator.findings import Report
    from validator.linter.config import ConfigError, Selection, resolve
    from validator.reporters import REPORTERS

    try:
        command_line = Selection(args.select, args.extend_select, args.ignore)
        config = resolve(Path.cwd(), config=args.config, isolated=args.isolated, command_line=command_line)
        rules = config.rules()
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if args.list_rules:
        emit(_rule_list(rules))
        return EXIT_CLEAN
    if not args.paths:
        raise CommandError("lint: give at least one PATH (a file, a directory, or -), or --list-rules")
    try:
        if args.paths == [STDIN]:
            raw = stdin.read()
            if args.fix or args.diff:
                raise CommandError("lint: --fix and --diff work on files, not on standard input")
            findings, files = linter.lint_bytes(raw, "<stdin>", args.kind, config), 1
        elif STDIN in args.paths:
            raise CommandError("lint: '-' (standard input) cannot be mixed with other paths")
        else:
            if args.diff or args.fix:
                changed = _fix(args, config, emit)
                if args.diff:
                    return EXIT_FINDINGS if changed else EXIT_CLEAN
            result = linter.lint(args.paths, kind=args.kind, config=config)
            findings, files = result.findings, result.files_checked
    except linter.LintPathError as error:
        raise CommandError(str(error)) from None
    effective = {rule: _with(linter.RULE_INFO[rule], level) for rule, level in rules.items() if level}
    report = Report(findings, effective, files, __version__, color)
    emit(REPORTERS[args.format](report))
    errors = sum(1 for finding in findings if finding.severity == "error")
    failed = errors > 0 or (args.strict and len(findings) > errors)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _with(info: RuleInfo, severity: Severity) -> RuleInfo:
    """The rule as this run has it: SARIF and the other formats show the configured severity."""
    return info if info.severity == severity else dataclasses.replace(info, severity=severity)


def _fix(args: argparse.Namespace, config: Any, emit: Emit) -> bool:
    """Apply (--fix) or show (--diff) the safe fixes; whether any file would change."""
    from validator.linter.fixing import fix

    changed = fix(args.paths, kind=args.kind, config=config)
    for fixed in changed:
        if args.diff:
            before = fixed.original.decode("utf-8-sig").splitlines(keepends=True)
            after = fixed.fixed.decode("utf-8-sig").splitlines(keepends=True)
            import difflib  # only for --diff: its import alone costs a cold run milliseconds

            emit("".join(difflib.unified_diff(before, after, fixed.path, fixed.path)).rstrip("\n"))
            continue
        try:
            Path(fixed.path).write_bytes(fixed.fixed)
        except OSError as error:
            raise CommandError(f"{fixed.path}: cannot write the fix: {error.strerror or error}") from None
        counts = {rule: fixed.rules.count(rule) for rule in dict.fromkeys(fixed.rules)}
        spelled = ", ".join(f"{count} {rule}" for rule, count in counts.items())
        emit(f"fixed {fixed.path}: {spelled}")
    return bool(changed)


def _rule_list(rules: dict[str, Any]) -> str:
    from validator.linter import RULES

    width = max(len(rule.info.id) for rule in RULES)
    lines = []
    for rule in RULES:
        info = rule.info
        level = rules[info.id] or "off"
        fixable = "  (fixable)" if rule.fix is not None else ""
        lines.append(f"{info.id:<{width}}  {level:<7}  {info.summary}{fixable}")
        lines.append(f"{'':<{width}}  {'':<7}  why: {info.why}")
    return "\n".join(lines)

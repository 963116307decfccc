"""The ``release-policy`` command. The only module that prints or decides an exit code.

Exit codes: 0 clean, 1 findings, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from validator import __version__

if TYPE_CHECKING:
    from validator.fuzz.run import FuzzResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """Bad arguments or an unusable path: exit 2 with the message."""


def _emit(text: str) -> None:
    """Print to stdout; a reader that went away (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
    except speccheck.MissingExtra as error:
        raise UsageError(str(error)) from None
    report = Report(findings, speccheck.RULE_INFO, 1, __version__, color=_color(sys.stdout))
    _emit(REPORTERS[args.format](report))
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _lint_or_schema(args: argparse.Namespace) -> int:
    from validator.cli_lint import CommandError

    try:
        return int(args.command_work(args, _emit, sys.stdin.buffer, _color(sys.stdout)))
    except CommandError as error:
        raise UsageError(str(error)) from None


def _serve(args: argparse.Namespace) -> int:
    try:
        from validator.server.serve import ServeOptions, prepare, usage_problem
        from validator.server.store import StoreError, redact
    except ImportError as error:
        raise UsageError(
            f"serve needs the server extra: pip install 'release-policy-validator[server]' ({error})"
        ) from None
    options = ServeOptions(
        args.host,
        args.port,
        args.db,
        args.project or [],
        args.token or [],
        args.reader_token or [],
        args.durable,
        args.workers,
        args.max_projects,
        args.rate_limit,
    )
    problem = usage_problem(options)
    if problem:
        raise UsageError(problem)
    try:
        prepared = prepare(options)
    except ImportError as error:
        raise UsageError(
            f"a PostgreSQL database needs the postgres extra:"
            f" pip install 'release-policy-validator[postgres]' ({error})"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    except (StoreError, Exception) as error:  # noqa: BLE001 - an unusable database is the user's to fix
        message = str(error).replace(args.db, redact(args.db))
        raise UsageError(f"cannot open the database {redact(args.db)}: {message}") from None
    print(prepared.banner, flush=True)  # only now: the port is open
    prepared.run()
    return EXIT_CLEAN


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port: use 1 to 65535")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def _project_key(value: str) -> str:
    from validator import spec

    if not spec.bundled().schema_validator("ResourceKey").is_valid(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a project key: 1 to 256 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return value


def _docs(args: argparse.Namespace) -> int:
    from validator.docs import DocsError, write_docs

    spec_path = Path(args.spec) if args.spec else None
    if spec_path is not None and not spec_path.is_file():
        raise UsageError(f"{args.spec}: no such file")
    try:
        paths = write_docs(Path(args.out), spec_path)
    except DocsError as error:
        print(f"release-policy: docs: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    except OSError as error:
        raise UsageError(f"cannot write to {args.out}: {error.strerror or error}") from None
    _emit(f"wrote {paths.index_html}, {paths.reference_md} and {paths.contract_md}")
    return EXIT_CLEAN


def _fuzz(args: argparse.Namespace) -> int:
    try:
        from validator.fuzz import command
    except ImportError as error:
        raise UsageError(
            f"fuzz needs the fuzz extra: pip install 'release-policy-validator[fuzz]' ({error})"
        ) from None
    try:
        request = command.Request(
            url=args.url, token=args.token, reader_token=args.reader_token,
            projects=tuple(args.project or ()),
            seed=args.seed, max_time=args.max_time, max_examples=args.max_examples, timeout=args.timeout,
            workers=args.workers, reset=args.reset, report=args.report, report_dir=args.report_dir,
            require_coverage=args.require_coverage, shard=args.shard, failures=args.failures,
            summary=args.summary, rate_limit=args.rate_limit, max_requests=args.max_requests,
            profile=args.profile, only=args.only,
        )  # fmt: skip
        plan = command.plan(request, dict(os.environ))
        if args.merge:
            if args.merge[0] != "merge":
                raise ValueError(f"fuzz takes options, or merge REPORT...; not {args.merge[0]!r}")
            outcome = command.merge_reports(tuple(args.merge[1:]), plan)
    except ValueError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot write the reports: {error.strerror or error}") from None
    if args.merge:
        _emit(outcome.summary)
        return _fuzz_exit(outcome.result, plan.require_coverage and command.uncovered(outcome.result))
    from validator.cli_progress import FuzzDisplay
    from validator.fuzz.pacing import RunStopped

    # SIGTERM (a CI job cancelled) ends the run as Ctrl-C does: the project is emptied on the way out.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with FuzzDisplay(sys.stderr) as display:
            outcome = command.execute(plan, display.progress)
    except command.TargetError as error:
        raise UsageError(str(error)) from None
    except RunStopped as stop:
        raise UsageError(f"the run stopped (its project emptied): {stop}") from None
    except OSError as error:
        raise UsageError(f"cannot write the reports: {error.strerror or error}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _emit(outcome.summary)
    return _fuzz_exit(outcome.result, plan.require_coverage and command.uncovered(outcome.result))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _per_second(text: str) -> float:
    from validator.server.ratelimit import parse_rate

    try:
        return parse_rate(text).per_second
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fuzz_exit(result: FuzzResult, incomplete: bool) -> int:
    """1 for a violation (or a gap --require-coverage refuses), 2 for a run that could not do its work."""
    if result.violations or incomplete:
        return EXIT_FINDINGS
    return EXIT_USAGE if result.errors else EXIT_CLEAN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="release-policy",
        description="Contract tools for LaunchDarkly's release-policies (beta) API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from validator.reporters import REPORTERS  # the output formats of spec check and lint

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
    check.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format")
    check.set_defaults(handler=_spec_check)

    from validator.cli_lint import add_parsers

    add_parsers(commands, sorted(REPORTERS), _lint_or_schema)

    serve = commands.add_parser(
        "serve",
        help="run the stateful reference server",
        description=(
            "Serve the release-policies API, keeping the contract to the letter, over SQLite or"
            " PostgreSQL. Tokens can also come from RELEASE_POLICY_TOKENS and"
            " RELEASE_POLICY_READER_TOKENS (comma-separated), which other users cannot read from"
            " the process list."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port, 1 to 65535 (default 8080)")
    serve.add_argument(
        "--db",
        default="release-policies.db",
        help="SQLite file, :memory:, or a postgresql:// URL (default ./release-policies.db)",
    )
    serve.add_argument(
        "--project",
        action="append",
        type=_project_key,
        metavar="KEY",
        help="a project to serve (repeatable; default: default)",
    )
    serve.add_argument("--token", action="append", metavar="TOKEN", help="a writer token (repeatable)")
    serve.add_argument("--reader-token", action="append", metavar="TOKEN", help="a reader token (repeatable)")
    serve.add_argument(
        "--durable", action="store_true", help="sync every commit to disk (survives power loss)"
    )
    serve.add_argument(
        "--workers", type=_positive, default=1, help="server processes on the one port (default 1)"
    )
    serve.add_argument(
        "--max-projects",
        type=_positive,
        metavar="N",
        help="projects on demand: any well-formed key is a project, empty on first use, up to N of them",
    )
    serve.add_argument(
        "--rate-limit",
        metavar="N/s",
        help="answer 429 (Retry-After, X-Ratelimit-Reset) to a token over N requests a second, with a"
        " small burst (default: no limit)",
    )
    serve.set_defaults(handler=_serve)

    docs = commands.add_parser(
        "docs",
        help="generate the offline API reference (index.html, reference.md, contract.md)",
        description=(
            "Write a self-contained index.html, a reference.md and a contract.md generated from the"
            " spec and the contract's rule table, with every lint rule. The spec's examples are"
            " validated first; a broken one stops the build with its position."
        ),
    )
    docs.add_argument("--out", default="docs", help="output directory (default ./docs)")
    docs.add_argument("--spec", metavar="PATH", help="the spec to document (default: the bundled one)")
    docs.set_defaults(handler=_docs)

    fuzz = commands.add_parser(
        "fuzz",
        help="prove a server keeps the contract (default: the bundled reference server, about a minute)",
        description=(
            "Fuzz a release-policies server: contract probes (auth, beta header, roles, 405, 413, bodies,"
            " isolation, concurrency), a model-based oracle that predicts every answer with the contract's"
            " state rules, and Schemathesis' four phases. Without --url it fuzzes the bundled reference"
            " server in-process. The fuzzer owns the first --project: it must be empty (or pass --reset)."
            " Tokens can also come from RELEASE_POLICY_TOKEN and RELEASE_POLICY_READER_TOKEN."
        ),
    )
    fuzz.add_argument("--url", help="the server's root, e.g. http://127.0.0.1:8080 (paths start /api/v2)")
    fuzz.add_argument("--token", help="a writer token (sent raw in Authorization)")
    fuzz.add_argument("--reader-token", help="a reader token: enables the role checks")
    fuzz.add_argument(
        "--project", action="append", metavar="KEY", help="the project to fuzz; a second one tests isolation"
    )
    fuzz.add_argument("--max-time", type=float, default=60.0, metavar="S", help="time budget (default 60)")
    fuzz.add_argument("--seed", type=int, help="the seed to reproduce a run (default: random, printed)")
    fuzz.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds one request may take, answer included (default 10); a slower one is a violation",
    )
    fuzz.add_argument("--workers", type=int, default=1, metavar="N", help="Schemathesis workers (default 1)")
    fuzz.add_argument(
        "merge",
        nargs="*",
        metavar="merge REPORT",
        help="fuzz merge REPORT...: combine shards' JSON reports into one result, in every --report format",
    )
    fuzz.add_argument(
        "--report",
        default="",
        metavar="NAMES",
        help="extra reports: junit, json, sarif, markdown (comma-separated)",
    )
    fuzz.add_argument(
        "--shard",
        metavar="I/N",
        help="do part I of N of the run (needs --seed; merge the JSON reports after)",
    )
    fuzz.add_argument(
        "--failures",
        metavar="LOCATION",
        help="a failure store (a directory, or redis://host:port): replay its failures first, store new ones",
    )
    fuzz.add_argument(
        "--summary",
        metavar="FILE",
        help="append a Markdown summary here (also to $GITHUB_STEP_SUMMARY if set)",
    )
    fuzz.add_argument(
        "--report-dir", default="fuzz-report", metavar="DIR", help="where reports go (default ./fuzz-report)"
    )
    fuzz.add_argument("--reset", action="store_true", help="delete the project's policies before fuzzing")
    fuzz.add_argument(
        "--max-examples",
        type=int,
        metavar="N",
        help="a fixed amount of work (N oracle sequences, N examples per Schemathesis phase): the same"
        " requests for the same seed on any machine; --max-time is then only a safety limit",
    )
    _add_pacing(fuzz)
    fuzz.add_argument(
        "--require-coverage",
        action="store_true",
        help="exit 1 when a documented status, a swept constraint or a state rule was never exercised",
    )
    fuzz.set_defaults(handler=_fuzz)
    return parser


def _add_pacing(fuzz: argparse.ArgumentParser) -> None:
    """How much, how fast and what a fuzz run sends: for real, shared and metered servers."""
    fuzz.add_argument(
        "--rate-limit",
        type=_per_second,
        metavar="N/s",
        help="send at most N requests a second, from every source (default: as fast as answers come)",
    )
    fuzz.add_argument(
        "--max-requests",
        type=_positive,
        metavar="N",
        help="send at most N requests in all, cleanup included; once they are spent the run cleans up and"
        " reports what it found so far (exit 1 if anything, else 2)",
    )
    fuzz.add_argument(
        "--profile",
        default="full",
        metavar="NAME",
        help="full (default), or gentle for shared and production-like servers: no burst of concurrent"
        " writes, one oversized body, 5 requests a second unless --rate-limit says otherwise",
    )
    fuzz.add_argument(
        "--only",
        metavar="SOURCES",
        help="run only these sources, comma-separated: sweep, tour, probes, oracle, schemathesis"
        " (default: all)",
    )


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

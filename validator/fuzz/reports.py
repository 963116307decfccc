"""A fuzz run's reports: for each violation a curl script and a pytest test; JUnit, JSON, SARIF and a
Markdown summary by name.

The curl script replays the exact requests with credentials masked
(``$RELEASE_POLICY_TOKEN``); the pytest test replays them through
:mod:`validator.fuzz.reproduce` against the plugin's target, so it passes on
the reference server and fails, naming the rule, on the server that broke it.
"""

from __future__ import annotations

import json
import pprint
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.probes import PROBES
from validator.fuzz.reproduce import requests_of
from validator.fuzz.run import FuzzResult
from validator.fuzz.sarif_fuzz import sarif
from validator.fuzz.summary import markdown
from validator.fuzz.target import Target
from validator.fuzz.violation import Violation

_VARIABLES = {"writer": "$RELEASE_POLICY_TOKEN", "reader": "$RELEASE_POLICY_READER_TOKEN"}


def slug(check: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", check.lower()).strip("_")


def curl_script(violation: Violation, target: Target, seed: int) -> str:
    lines = [
        "#!/bin/sh",
        *(f"# {line}" for line in _wrap(f"{violation.check}: {violation.message}")),
        *(f"# rule: {line}" for line in _wrap(f"{violation.rule}: {violation.words}")),
        f"# found by: release-policy fuzz --seed {seed}",
        "# Start from an empty project (a fresh reference server has one); each request prints its status.",
        "set -u",
        f'BASE="${{RELEASE_POLICY_URL:-{target.url}}}"',
        ': "${RELEASE_POLICY_TOKEN:?set RELEASE_POLICY_TOKEN to a writer token}"',
    ]
    for request in requests_of(violation.exchanges, target):
        command = ["curl", "-sS", "-o", "/dev/stderr", "-w", r"%{http_code}\n", "-X", request["method"]]
        auth = request["auth"]
        if auth in _VARIABLES:
            command += ["-H", f"Authorization: {_VARIABLES[auth]}"]
        elif auth != "none":
            command += ["-H", f"Authorization: {str(auth).replace('{writer}', _VARIABLES['writer'])}"]
        for name, value in request["headers"].items():
            command += ["-H", f"{name}: {value}"]
        if request["body"] is not None:
            command += ["--data-binary", request["body"]]
        quoted = " ".join(_quote(part) for part in command)
        lines.append(f'{quoted} "$BASE"{_quote(request["path"])}')
    return "\n".join(lines) + "\n"


def _quote(part: str) -> str:
    """Shell quoting that still expands the credential variables."""
    if "$RELEASE_POLICY" in part:
        return '"' + part.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
    return shlex.quote(part)


def _wrap(text: str, width: int = 100) -> list[str]:
    """``text`` as lines for comments: what the server sent may hold line breaks and control characters."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    words, lines, line = printable.split(), [], ""
    for word in words:
        if line and len(line) + len(word) >= width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def pytest_test(violation: Violation, result: FuzzResult, target: Target, seed: int) -> str:
    if violation.check in result.steps:
        steps = [asdict(step) for step in result.steps[violation.check]]
        call = f"assert_steps(release_policy_target, {_literal(steps)})"
        name = "assert_steps"
    elif violation.check in {probe.id for probe in PROBES}:
        call = f"assert_probe(release_policy_target, {violation.check!r})"
        name = "assert_probe"
    else:
        call = f"assert_requests(release_policy_target, {_literal(requests_of(violation.exchanges, target))})"
        name = "assert_requests"
    # Comments, not a docstring: the message quotes what the server sent, and a \"\"\" in it would end
    # a docstring and run as code; _wrap joins on spaces, so no newline of the server's survives.
    about = [
        *_wrap(f"{violation.check}: {violation.message}", 96),
        "",
        *_wrap(f"{violation.rule}: {violation.words}", 96),
    ]
    return (
        "".join(f"# {line}".rstrip() + "\n" for line in about)
        + f"#\n# Found by release-policy fuzz --seed {seed}. Passes on a server that keeps the contract.\n"
        "# Run it with: RELEASE_POLICY_URL=URL RELEASE_POLICY_TOKEN=T pytest THIS_FILE\n"
        "# (without a URL it runs against the in-process reference server)\n\n"
        f"from validator.fuzz.reproduce import {name}\n\n\n"
        f"def test_{slug(violation.check)}(release_policy_target):  # type: ignore[no-untyped-def]\n"
        f"    {call}\n"
    )


def _literal(value: Any) -> str:
    return pprint.pformat(value, width=100, sort_dicts=False).replace("\n", "\n    ")


def write_reproductions(result: FuzzResult, target: Target, seed: int, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for index, violation in enumerate(result.violations, start=1):
        stem = f"{index:02d}_{slug(violation.check)}"
        script = directory / f"{stem}.sh"
        script.write_text(curl_script(violation, target, seed))
        script.chmod(0o755)
        test = directory / f"test_{stem}.py"
        test.write_text(pytest_test(violation, result, target, seed))
        written += [script, test]
    return written


def junit(result: FuzzResult, seed: int) -> str:
    suite = ET.Element(
        "testsuite", name="release-policy fuzz", tests="0", failures=str(len(result.violations)),
        time=str(result.stats.get("seconds", 0)),
    )  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="seed", value=str(seed))
    failed = {violation.check.split(":")[0] for violation in result.violations}
    for probe in PROBES:
        if probe.id not in failed and probe.id not in result.skipped:
            ET.SubElement(suite, "testcase", classname="probes", name=probe.id)
    for source in ("sweep", "tour", "oracle", "schemathesis"):
        if source not in failed:
            ET.SubElement(suite, "testcase", classname=source, name=source)
    for violation in result.violations:
        case = ET.SubElement(suite, "testcase", classname=violation.check.split(":")[0], name=violation.check)
        changed = result.drift.get(fingerprint(violation))
        # A drift is a failure of its own type, so CI tells "the server changed" from "the server is wrong".
        failure = ET.SubElement(
            case, "failure", message=f"drift: {changed}" if changed else violation.message,
            type="drift" if changed else "violation",
        )  # fmt: skip
        failure.text = f"{violation.rule}: {violation.words}\n\n{violation.message}"
    for probe_id, needs in result.skipped.items():
        case = ET.SubElement(suite, "testcase", classname="probes", name=probe_id)
        ET.SubElement(case, "skipped", message=f"needs {needs}")
    suite.set("tests", str(len(suite.findall("testcase"))))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def json_report(result: FuzzResult, seed: int) -> str:
    """Everything :mod:`validator.fuzz.merge` needs to rebuild the result: each violation with its
    fingerprint, its requests (method, URL, body and status; never a header, so no credential) and its
    steps, and every coverage goal."""
    return json.dumps(
        {
            "seed": seed,
            "stats": dict(result.stats),
            "skipped": dict(result.skipped),
            "errors": list(result.errors),
            "coverage": result.coverage.to_json() if result.coverage is not None else None,
            "violations": [
                {
                    "check": v.check,
                    "rule": v.rule,
                    "words": v.words,
                    "message": v.message,
                    "fingerprint": fingerprint(v),
                    "drift": result.drift.get(fingerprint(v)),
                    "requests": len(v.exchanges),
                    "exchanges": [
                        {
                            "method": e.method,
                            "url": e.url,
                            "body": None if e.body is None else e.body.decode("utf-8", "replace"),
                            "status": e.status,
                        }
                        for e in v.exchanges
                    ],
                    "steps": [asdict(step) for step in result.steps.get(v.check, ())],
                }
                for v in result.violations
            ],
        },
        indent=2,
    )


#: Reports chosen by name with --report: each writes one file.
REPORTS: Mapping[str, tuple[str, Callable[[FuzzResult, int], str]]] = {
    "junit": ("junit.xml", junit),
    "json": ("fuzz.json", json_report),
    "sarif": ("fuzz.sarif", sarif),
    "markdown": ("summary.md", markdown),
}

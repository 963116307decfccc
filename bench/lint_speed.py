"""Benchmark: `release-policy lint` against check-jsonschema on the same schema and files.

    .venv/bin/python bench/lint_speed.py [--files 1000] [--repeat 7]

Each tool is installed into its own fresh virtual environment, as pre-commit
installs hooks (this needs the package index), so neither pays for the other's
libraries. Two cases, each timed as whole commands (interpreter start-up
included), the median of --repeat runs: one policy file cold, and --files
policy files in one call. check-jsonschema gets the contract's create-request
schema, bundled from the spec into one standalone Draft 2020-12 document. The
linter does more (positions, lint rules, project rules), so the comparison is
conservative.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from validator import spec

REPOSITORY = Path(__file__).resolve().parent.parent
CORPUS = REPOSITORY / "tests" / "payloads" / "valid"
CHECK_JSONSCHEMA = "check-jsonschema>=0.29,<1"


def bundled_create_schema() -> dict[str, object]:
    """The spec's create-request schema as a standalone document (its $refs still point inside it)."""
    contract = spec.bundled()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/PostReleasePolicyRequest",
        "components": {"schemas": contract.data["components"]["schemas"]},
    }


def write_files(directory: Path, count: int) -> list[Path]:
    base = json.loads((CORPUS / "checkout-guarded.json").read_text(encoding="utf-8"))
    paths = []
    for index in range(count):
        # one directory per file, so the linter's project rules see no duplicate keys
        body = {**base, "key": f"policy-{index}", "name": f"Policy {index}"}
        path = directory / f"p{index:05d}" / "policy.json"
        path.parent.mkdir()
        path.write_text(json.dumps(body, indent=2), encoding="utf-8")
        paths.append(path)
    return paths


def install(directory: Path, requirement: str, command: str) -> str:
    """A fresh virtual environment holding only ``requirement``; the path of its ``command``."""
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    pip = [
        str(directory / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, requirement], check=True)
    return str(directory / "bin" / command)


def timed(argv: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(f"{argv[0]} failed ({done.returncode}): {done.stdout[-500:]!r} {done.stderr[-500:]!r}")
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        ours = install(directory / "ours", str(REPOSITORY), "release-policy")
        theirs = install(directory / "theirs", CHECK_JSONSCHEMA, "check-jsonschema")
        schema = directory / "create-request.schema.json"
        schema.write_text(json.dumps(bundled_create_schema()), encoding="utf-8")
        files = write_files(directory, args.files)
        cases = {
            "1 file, cold": [str(files[0])],
            f"{args.files} files, one call": [str(path) for path in files],
        }
        rows = []
        for label, paths in cases.items():
            mine = timed([ours, "lint", *paths], args.repeat)
            other = timed([theirs, "--schemafile", str(schema), *paths], args.repeat)
            rows.append((label, mine, other))
    python = sys.version.split()[0]
    print(f"median of {args.repeat} runs, Python {python}")
    print("| case | release-policy lint | check-jsonschema | ratio |")
    print("|---|---|---|---|")
    for label, mine, other in rows:
        print(f"| {label} | {mine:.3f} s | {other:.3f} s | {mine / other:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

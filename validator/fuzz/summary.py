"""A fuzz run (or a merge of shards) as Markdown, for a CI job's summary page (``$GITHUB_STEP_SUMMARY``).

GitHub renders the file a step appends to as the job's summary; what a reviewer needs first is the
verdict, then each violation with its contract rule, then what was never exercised.
"""

from __future__ import annotations

from validator.counts import counted
from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.run import FuzzResult


def _cell(text: str) -> str:
    """Text safe in a table cell: one line, pipes escaped, not endless."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= 300 else flat[:299] + "…"


def markdown(result: FuzzResult, seed: int) -> str:
    count = len(result.violations)
    verdict = counted(count, "violation") if count else "no violation"
    shard = result.stats.get("shard")
    title = "release-policy fuzz" + (f", shard {shard:g}/{result.stats.get('shards', 1):g}" if shard else "")
    lines = [f"## {title}: {verdict}", ""]
    lines.append(", ".join(f"{value:g} {name}" for name, value in result.stats.items()) + f"; seed {seed}")
    if result.violations:
        lines += ["", "| check | contract rule | what happened |", "|---|---|---|"]
        for v in result.violations:
            # Drift: the server answered what the spec has no words for; say what changed, not "wrong".
            changed = result.drift.get(fingerprint(v))
            happened = f"**drift**: {_cell(changed)}" if changed else _cell(v.message)
            lines.append(f"| `{_cell(v.check)}` | `{v.rule}`: {_cell(v.words)} | {happened} |")
    if result.coverage is not None:
        missing = result.coverage.missing()
        lines += ["", f"**{result.coverage.line()}**"]
        if missing:
            lines += ["", "<details><summary>not exercised</summary>", ""]
            lines += [f"- {_cell(gap)}" for gap in missing]
            lines += ["", "</details>"]
    lines += [f"- skipped `{probe}`: needs {_cell(needs)}" for probe, needs in result.skipped.items()]
    lines += [f"- error: {_cell(error)}" for error in result.errors]
    return "\n".join(lines) + "\n"

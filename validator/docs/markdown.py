"""The reference as Markdown, for repositories and wikis."""

from __future__ import annotations

from validator.docs.model import FieldRow, OperationDoc, Reference


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _fields(rows: tuple[FieldRow, ...]) -> list[str]:
    lines = ["| field | type | required | limits | description |", "|---|---|---|---|---|"]
    for r in rows:
        required = "yes" if r.required else "no"
        lines.append(
            f"| `{r.name}` | {_cell(r.type)} | {required} | {_cell(r.limits)} | {_cell(r.description)} |"
        )
    return lines


def _operation(op: OperationDoc) -> list[str]:
    lines = [
        f"## {op.operation_id}",
        "",
        f"`{op.method} {op.path}`",
        "",
        f"**{op.summary}.** {op.description}",
        "",
    ]
    lines += [
        "### Parameters and headers",
        "",
        "| name | in | required | type | description |",
        "|---|---|---|---|---|",
    ]
    for p in op.parameters:
        required = "yes" if p.required else "no"
        lines.append(f"| `{p.name}` | {p.location} | {required} | {_cell(p.type)} | {_cell(p.description)} |")
    lines += ["| `Authorization` | header | yes | string | The raw API access token, without `Bearer`. |", ""]
    if op.request_schema:
        lines += [f"### Request body: `{op.request_schema}` (application/json)", ""]
        lines += [*_fields(op.request_fields), ""] if op.request_fields else []
    lines += ["### Responses", "", "| status | meaning | body |", "|---|---|---|"]
    lines += [
        f"| {s.code} | {_cell(s.meaning)} | {f'`{s.schema}`' if s.schema else 'none'} |" for s in op.statuses
    ]
    lines.append("")
    for example in (*op.request_examples, *op.response_examples):
        lines += [f"#### {example.title}", "", "```json", example.body, "```", ""]
    lines += ["#### curl", "", "```sh", op.curl, "```", ""]
    return lines


def render_markdown(reference: Reference) -> str:
    lines = [f"# {reference.title}", "", f"API version {reference.version}, server `{reference.server}`.", ""]
    lines += [reference.description, "", "## Operations", ""]
    lines += [
        f"- [`{op.method} {op.path}`](#{op.operation_id.lower()}): {op.summary}"
        for op in reference.operations
    ]
    lines.append("")
    for op in reference.operations:
        lines += _operation(op)
    lines += ["## State rules", "", "What every server must keep, and what the reference server applies:", ""]
    lines += [f"- {rule}" for rule in reference.state_rules]
    lines += ["", "## Schemas", ""]
    for name, description, rows in reference.schemas:
        lines += (
            [f"### {name}", "", description, "", *_fields(rows), ""]
            if description
            else [f"### {name}", "", *_fields(rows), ""]
        )
    lines += [
        "## Lint rules",
        "",
        "What `release-policy lint` reports, beyond what the API rejects (`contract`):",
        "",
    ]
    lines += ["| rule | severity | catches | why |", "|---|---|---|---|"]
    lines += [
        f"| `{r.id}` | {r.severity} | {_cell(r.summary)} | {_cell(r.why)} |" for r in reference.lint_rules
    ]
    return "\n".join(lines).rstrip() + "\n"

"""The reference as one self-contained HTML page: inline CSS, no script, nothing fetched."""

from __future__ import annotations

import html
import re

from validator.docs.model import ContractSection, FieldRow, OperationDoc, Reference, SchemaDoc, operation_row

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --accent: #3451b2; --code: #f4f6fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
header { padding: 1.5rem 1.25rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; flex: 0 0 18rem; max-height: 100vh; overflow-y: auto; padding: 1rem;
      border-right: 1px solid var(--line); font-size: .92rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: .3rem 0; }
nav a { display: flex; align-items: baseline; gap: .45rem; color: var(--ink); text-decoration: none; }
nav a:hover { color: var(--accent); }
nav .method { flex: 0 0 3.9rem; min-width: 0; }
nav .name { min-width: 0; }
main { flex: 1; min-width: 0; padding: 1rem 1.5rem 3rem; }
section { padding-top: .5rem; border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
h2 { font-size: 1.35rem; margin: 1rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.method { display: inline-block; min-width: 4.2rem; padding: .1rem .4rem; border-radius: .3rem; color: #fff;
          font: 600 .8rem/1.6 ui-monospace, monospace; text-align: center; background: #5b6475; }
.GET { background: #2f7d4f; } .POST { background: #3451b2; } .PUT { background: #a05a00; } .DELETE { background: #b42334; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .86rem; }
code { background: var(--code); padding: .05rem .3rem; border-radius: .25rem; overflow-wrap: anywhere; }
code.path { overflow-wrap: normal; }
pre { background: var(--code); padding: .8rem 1rem; border-radius: .4rem; overflow-x: auto; white-space: pre-wrap;
      overflow-wrap: anywhere; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .3rem 0 1rem; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .4rem .5rem; }
th { color: var(--muted); font-weight: 600; }
/* Prose gets room to read; the other columns wrap (paths at dots, patterns anywhere) to make it. */
td[data-label="description"], td[data-label="meaning"] { min-width: 14rem; }
.rules li { margin: .35rem 0; scroll-margin-top: 1rem; }
a.rule { text-decoration: none; }
details { margin: .5rem 0; } summary { cursor: pointer; color: var(--accent); }
.muted { color: var(--muted); }
@media (max-width: 760px) {
  .layout { display: block; }
  nav { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); }
  main { padding: 1rem; }
  /* A row's cells stack, each under its column's name: five columns do not fit a phone. */
  .table table, .table tbody, .table tr, .table td { display: block; width: 100%; }
  .table thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  .table tr { border-bottom: 1px solid var(--line); padding: .35rem 0; }
  .table td { position: relative; min-width: 0; border: 0; padding: .1rem 0 .1rem 6rem; }
  .table td::before { content: attr(data-label); position: absolute; left: 0; width: 5.5rem; color: var(--muted);
                      font-weight: 600; }
  .table td:empty { display: none; }
}
@media print {
  nav { display: none; } .layout { display: block; }
  section { break-inside: auto; } pre, table { break-inside: avoid; }
  details { display: block; } details > * { display: block; }
  a { color: inherit; text-decoration: none; }
}
"""


def _text(value: str) -> str:
    """Escape, then show `code` and **strong** spans the way the spec's descriptions write them."""
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(value))
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _path(name: str) -> str:
    """A field path or URL path that may break after a dot or slash and before a bracket, as a reader splits it."""
    return '<code class="path">' + re.sub(r"(?<=[./])|(?=\[)", "<wbr>", html.escape(name)) + "</code>"


def _camel(name: str) -> str:
    """A camel-case name (an operationId, a schema) that may break between its words."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", html.escape(name))


def _table(head: list[str], rows: list[list[str]]) -> str:
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    # Each cell names its column, for the narrow layout that stacks a row's cells.
    body = "".join(
        "<tr>"
        + "".join(f'<td data-label="{html.escape(h)}">{c}</td>' for h, c in zip(head, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<div class="table"><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>'


def _fields(rows: tuple[FieldRow, ...]) -> str:
    return _table(
        ["field", "type", "required", "limits", "description"],
        [[_path(r.name), _camel(r.type), "yes" if r.required else "no", _text(r.limits), _text(r.description)]
         for r in rows],
    )  # fmt: skip


def _schema(schema: SchemaDoc) -> str:
    head = f'<h3 id="schema-{schema.name}">{html.escape(schema.name)}</h3>'
    head += f"<p>{_text(schema.description)}</p>" if schema.description else ""
    if schema.fields:
        return head + _fields(schema.fields)
    limits = f"; {_text(schema.limits)}" if schema.limits else ""
    return head + f'<p class="type">Type: {_text(schema.type)}{limits}.</p>'


def _contract_section(part: ContractSection, reference: Reference) -> str:
    section = part.section
    parts = [f'<h3 id="contract-{section.number}">{section.number}. {html.escape(section.title)}</h3>',
             f"<p>{_text(section.intro)}</p>"]  # fmt: skip
    if part.lists_operations:
        parts.append(f"<p>Paths are under <code>{html.escape(reference.path_root)}</code>.</p>")
        parts.append(
            _table(
                ["operation", "method", "path", "success", "errors"],
                [
                    [
                        f'<code class="path">{_camel(op_id)}</code>',
                        method,
                        _path(path),
                        _text(success),
                        errors,
                    ]
                    for op_id, method, path, success, errors in (
                        operation_row(op, reference.path_root) for op in reference.operations
                    )
                ],
            )
        )
    rules = "".join(
        f'<li id="{rule.id}"><a class="rule" href="#{rule.id}"><code>{rule.id}</code></a>'
        f"{' <em>(curated)</em>' if rule.curated else ''}: {_text(rule.text)}</li>"
        for rule in part.rules
    )
    return "".join(parts) + (f'<ul class="rules">{rules}</ul>' if rules else "")


def _operation(op: OperationDoc) -> str:
    parts = [
        f'<section id="{op.operation_id}">',
        f'<h2><span class="method {op.method}">{op.method}</span> {html.escape(op.operation_id)}</h2>',
        f"<p>{_path(op.path)}</p>",
        f"<p><strong>{_text(op.summary)}.</strong> {_text(op.description)}</p>",
        "<h3>Parameters and headers</h3>",
        _table(
            ["name", "in", "required", "type", "description"],
            [[f"<code>{html.escape(p.name)}</code>", p.location, "yes" if p.required else "no", _text(p.type),
              _text(p.description)] for p in op.parameters]
            + [["<code>Authorization</code>", "header", "yes", "string", "The raw API access token, without <code>Bearer</code>."]],
        ),
    ]  # fmt: skip
    if op.request_schema:
        parts.append(
            f"<h3>Request body: <code>{html.escape(op.request_schema)}</code> (application/json)</h3>"
        )
        if op.request_fields:
            parts.append(_fields(op.request_fields))
    parts.append("<h3>Responses</h3>")
    parts.append(
        _table(
            ["status", "meaning", "body"],
            [
                [s.code, _text(s.meaning), f"<code>{html.escape(s.schema)}</code>" if s.schema else "none"]
                for s in op.statuses
            ],
        )
    )
    for example in (*op.request_examples, *op.response_examples):
        parts.append(
            f"<details><summary>{html.escape(example.title)}</summary>"
            f"<pre><code>{html.escape(example.body)}</code></pre></details>"
        )
    parts.append(f"<h3>curl</h3><pre><code>{html.escape(op.curl)}</code></pre></section>")
    return "\n".join(parts)


def render_html(reference: Reference) -> str:
    nav = "".join(
        f'<li><a href="#{op.operation_id}" title="{op.method} {html.escape(op.operation_id)}">'
        f'<span class="method {op.method}">{op.method}</span><span class="name">{_camel(op.operation_id)}</span></a></li>'
        for op in reference.operations
    )
    nav += '<li><a href="#contract">Contract</a></li><li><a href="#schemas">Schemas</a></li>'
    nav += '<li><a href="#lint-rules">Lint rules</a></li>'
    description = "".join(
        f"<p>{_text(' '.join(paragraph.split()))}</p>" for paragraph in reference.description.split("\n\n")
    )
    lint = _table(
        ["rule", "severity", "catches", "why", "--fix"],
        [
            [f"<code>{r.info.id}</code>", r.info.severity, _text(r.info.summary), _text(r.info.why),
             "fixes" if r.fixes else ""]
            for r in reference.lint_rules
        ],
    )  # fmt: skip
    contract = "".join(_contract_section(part, reference) for part in reference.contract)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(reference.title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{html.escape(reference.title)}</h1>
<p class="muted">API version {html.escape(reference.version)} · server <code>{html.escape(reference.server)}</code></p></header>
<div class="layout">
<nav aria-label="Contents"><ul>{nav}</ul></nav>
<main>
<section id="overview"><h2>Overview</h2>{description}</section>
{"".join(_operation(op) for op in reference.operations)}
<section id="contract"><h2>Contract</h2><p>What a server must do beyond what the schemas say, rule by rule; a rule marked <em>(curated)</em> is this project's decision where LaunchDarkly's material is silent.</p>{contract}</section>
<section id="schemas"><h2>Schemas</h2>{"".join(_schema(schema) for schema in reference.schemas)}</section>
<section id="lint-rules"><h2>Lint rules</h2><p>What <code>release-policy lint</code> reports, beyond what the API rejects (<code>contract</code>):</p>{lint}</section>
</main>
</div>
</body>
</html>
"""

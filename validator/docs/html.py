"""The reference as one self-contained HTML page: inline CSS, no script, nothing fetched."""

from __future__ import annotations

import html
import re

from validator.docs.model import FieldRow, OperationDoc, Reference

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --accent: #3451b2; --code: #f4f6fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
header { padding: 1.5rem 1.25rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.layout { display: flex; align-items: flex-start; }
nav { position: sticky; top: 0; flex: 0 0 17rem; max-height: 100vh; overflow-y: auto; padding: 1rem 1.25rem;
      border-right: 1px solid var(--line); font-size: .92rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: .3rem 0; }
nav a { color: var(--ink); text-decoration: none; }
nav a:hover { color: var(--accent); }
main { flex: 1; min-width: 0; padding: 1rem 1.5rem 3rem; }
section { padding-top: .5rem; border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
h2 { font-size: 1.35rem; margin: 1rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.method { display: inline-block; min-width: 4.2rem; padding: .1rem .4rem; border-radius: .3rem; color: #fff;
          font: 600 .8rem/1.6 ui-monospace, monospace; text-align: center; background: #5b6475; }
.GET { background: #2f7d4f; } .POST { background: #3451b2; } .PUT { background: #a05a00; } .DELETE { background: #b42334; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .86rem; }
code { background: var(--code); padding: .05rem .3rem; border-radius: .25rem; overflow-wrap: break-word; }
pre { background: var(--code); padding: .8rem 1rem; border-radius: .4rem; overflow-x: auto; white-space: pre-wrap;
      overflow-wrap: anywhere; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .3rem 0 1rem; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .4rem .5rem; }
th { color: var(--muted); font-weight: 600; }
td { overflow-wrap: break-word; }
td:first-child code { white-space: nowrap; }
details { margin: .5rem 0; } summary { cursor: pointer; color: var(--accent); }
.muted { color: var(--muted); }
@media (max-width: 760px) {
  .layout { display: block; }
  nav { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); }
  main { padding: 1rem; }
  table, thead, tbody, tr, th, td { font-size: .82rem; }
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


def _table(head: list[str], rows: list[list[str]]) -> str:
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class="table"><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>'


def _fields(rows: tuple[FieldRow, ...]) -> str:
    return _table(
        ["field", "type", "required", "limits", "description"],
        [[f"<code>{html.escape(r.name)}</code>", _text(r.type), "yes" if r.required else "no", _text(r.limits),
          _text(r.description)] for r in rows],
    )  # fmt: skip


def _operation(op: OperationDoc) -> str:
    parts = [
        f'<section id="{op.operation_id}">',
        f'<h2><span class="method {op.method}">{op.method}</span> {html.escape(op.operation_id)}</h2>',
        f"<p><code>{html.escape(op.path)}</code></p>",
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
        f'<li><a href="#{op.operation_id}"><span class="method {op.method}">{op.method}</span> {html.escape(op.operation_id)}</a></li>'
        for op in reference.operations
    )
    nav += '<li><a href="#state-rules">State rules</a></li><li><a href="#schemas">Schemas</a></li>'
    nav += '<li><a href="#lint-rules">Lint rules</a></li>'
    description = "".join(
        f"<p>{_text(' '.join(paragraph.split()))}</p>" for paragraph in reference.description.split("\n\n")
    )
    schemas = "".join(
        f'<h3 id="schema-{name}">{html.escape(name)}</h3><p>{_text(text)}</p>{_fields(rows)}'
        for name, text, rows in reference.schemas
    )
    lint = _table(
        ["rule", "severity", "catches", "why"],
        [[f"<code>{r.id}</code>", r.severity, _text(r.summary), _text(r.why)] for r in reference.lint_rules],
    )
    state = "".join(f"<li>{_text(rule)}</li>" for rule in reference.state_rules)
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
<nav aria-label="Operations"><ul>{nav}</ul></nav>
<main>
<section id="overview"><h2>Overview</h2>{description}</section>
{"".join(_operation(op) for op in reference.operations)}
<section id="state-rules"><h2>State rules</h2><p>What every server must keep, and what the reference server applies:</p><ul>{state}</ul></section>
<section id="schemas"><h2>Schemas</h2>{schemas}</section>
<section id="lint-rules"><h2>Lint rules</h2><p>What <code>release-policy lint</code> reports, beyond what the API rejects (<code>contract</code>):</p>{lint}</section>
</main>
</div>
</body>
</html>
"""

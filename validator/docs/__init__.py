"""``release-policy docs``: an offline API reference (HTML and Markdown) generated from the spec.

The spec's examples are validated first, by ``spec check``'s own rules: a
broken example stops the build with its file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from validator import spec as spec_module
from validator.docs.html import render_html
from validator.docs.markdown import render_contract, render_markdown
from validator.docs.model import build_reference
from validator.speccheck import check_file


class DocsError(Exception):
    """The spec cannot be documented as it is; the message lists where and why."""


@dataclass(frozen=True)
class DocsPaths:
    index_html: Path
    reference_md: Path
    contract_md: Path


def write_docs(out_dir: Path, spec_path: Path | None = None) -> DocsPaths:
    """Check the spec, then write ``index.html``, ``reference.md`` and ``contract.md`` into ``out_dir``."""
    path = spec_path or spec_module.bundled_path()
    findings = check_file(path, str(spec_path) if spec_path else None)
    if findings:
        listed = "\n".join(f"{f.file}:{f.line}:{f.column}: [{f.rule}] {f.message}" for f in findings[:20])
        raise DocsError(f"the spec has {len(findings)} problem(s); nothing was written:\n{listed}")
    contract = spec_module.bundled() if spec_path is None else spec_module.load(path)
    reference = build_reference(contract)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = DocsPaths(out_dir / "index.html", out_dir / "reference.md", out_dir / "contract.md")
    paths.index_html.write_text(render_html(reference), encoding="utf-8")
    paths.reference_md.write_text(render_markdown(reference), encoding="utf-8")
    paths.contract_md.write_text(render_contract(reference), encoding="utf-8")
    return paths

"""``release-policy docs``: the reference and the contract page generated from their sources, pinned,
and refused for a broken spec.

The repository's generated files (``spec/CONTRACT.md``, ``golden/reference.md``) are only compared
against here; ``scripts/regenerate`` rewrites them after a deliberate change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPOSITORY
from validator import contract, spec
from validator.cli import main
from validator.docs import DocsError, DocsPaths, write_docs
from validator.docs.model import build_reference
from validator.linter import RULES

GOLDEN = Path(__file__).parent / "golden" / "reference.md"
CONTRACT_PAGE = REPOSITORY / "spec" / "CONTRACT.md"
REGENERATE = "out of date: run scripts/regenerate after a deliberate change, and commit what it writes"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> DocsPaths:
    return write_docs(tmp_path_factory.mktemp("docs"))


def test_reference_md_matches_the_golden_copy(docs: DocsPaths) -> None:
    written = docs.reference_md.read_text(encoding="utf-8")
    assert written == GOLDEN.read_text(encoding="utf-8"), f"tests/docs/golden/reference.md is {REGENERATE}"


def test_the_repositorys_contract_page_is_the_rendered_one(docs: DocsPaths) -> None:
    written = docs.contract_md.read_text(encoding="utf-8")
    assert written == CONTRACT_PAGE.read_text(encoding="utf-8"), f"spec/CONTRACT.md is {REGENERATE}"


def test_contract_page_has_every_section_and_rule_by_id(docs: DocsPaths) -> None:
    page = docs.contract_md.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", page, flags=re.M)
    assert headings == [f"{s.number}. {s.title}" for s in contract.SECTIONS]
    for section in contract.SECTIONS:
        body = page.split(f"## {section.number}. {section.title}\n\n", 1)[1].split("\n## ", 1)[0]
        assert body.startswith(section.intro + "\n")
        listed = re.findall(r'^- <a id="([^"]+)"></a>', body, flags=re.M)
        assert listed == [rule.id for rule in contract.RULES if rule.section == section.number]
    for rule in contract.RULES:
        curated = " (curated)" if rule.curated else ""
        assert f'- <a id="{rule.id}"></a>**`{rule.id}`**{curated}: {rule.text}\n' in page


def test_contract_operations_table_is_the_specs(docs: DocsPaths) -> None:
    page = docs.contract_md.read_text(encoding="utf-8")
    operations = page.split("## 2. ", 1)[1].split("\n## ", 1)[0]
    assert "Paths are under `/api/v2/projects/{projectKey}`." in operations
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| `([^`]+)` \| (.+?) \| ([\d ]+) \|$", operations, flags=re.M)
    expected = []
    for operation in spec.bundled().operations.values():
        codes = sorted(operation.responses)
        success = [code for code in codes if code.startswith("2")]
        errors = " ".join(code for code in codes if not code.startswith("2"))
        expected.append((operation.operation_id, operation.method, operation.path, success, errors))
    found = [(op_id, method, "/api/v2/projects/{projectKey}" + path, re.findall(r"\b2\d\d\b", ok), errors)
             for op_id, method, path, ok, errors in rows]  # fmt: skip
    assert found == expected
    assert "| `DeleteReleasePolicy` | DELETE | `/release-policies/{policyKey}` | 204 no body |" in operations
    assert "| `PostReleasePolicy` | POST | `/release-policies` | 201 `ReleasePolicy` |" in operations


def test_the_docs_do_not_read_docstrings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As under ``python -OO``, where every docstring is None."""
    from validator import state

    monkeypatch.setattr(state, "__doc__", None)
    monkeypatch.setattr(contract, "__doc__", None)
    assert write_docs(tmp_path).contract_md.read_text(encoding="utf-8") == CONTRACT_PAGE.read_text(
        encoding="utf-8"
    )


CITING = [
    REPOSITORY / "README.md",
    REPOSITORY / "ARCHITECTURE.md",
    REPOSITORY / "spec" / "release-policies.yaml",
    *sorted((REPOSITORY / "validator").rglob("*.py")),
    *sorted(p for p in (REPOSITORY / "tests").rglob("*.py") if p != Path(__file__)),
    *sorted((REPOSITORY / "scripts").iterdir()),
]


def test_every_citation_of_the_contract_names_the_page_and_a_rule_it_has() -> None:
    anchors = {rule.id for rule in contract.RULES} | {
        re.sub(r"[^a-z0-9 -]", "", f"{s.number}. {s.title}".lower()).replace(" ", "-")
        for s in contract.SECTIONS
    }
    problems = []
    for path in CITING:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(REPOSITORY)
        problems += [
            f"{where}: cites CONTRACT.md without its place"
            for _ in re.findall(r"(?<!spec/)CONTRACT\.md", text)
        ]
        problems += [
            f"{where}: #{a} is no anchor of the page"
            for a in re.findall(r"CONTRACT\.md#([\w-]+)", text)
            if a not in anchors
        ]
        problems += [
            f"{where}: the contract has no rule `{rule}`"
            for rule in re.findall(r"the contract's `([a-z-]+)`", text)
            if rule not in contract.BY_ID
        ]
    assert not problems, "\n".join(problems)
    assert "(spec/CONTRACT.md)" in (REPOSITORY / "tests" / "test_spec.py").read_text(encoding="utf-8")


def test_reference_links_the_contract_and_lists_every_operation_and_lint_rule(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    markdown = docs.reference_md.read_text(encoding="utf-8")
    for operation_id in spec.bundled().operations:
        assert f'<section id="{operation_id}">' in page
        assert f'href="#{operation_id}"' in page
        assert f"## {operation_id}\n" in markdown
    for rule in RULES:
        assert f"<code>{rule.info.id}</code>" in page
        row = next(line for line in markdown.splitlines() if line.startswith(f"| `{rule.info.id}` |"))
        assert row.startswith(f"| `{rule.info.id}` | {rule.info.severity} |")
        assert row.endswith("| fixes |" if rule.fix is not None else "|   |")
    assert "thousandths of a percent" in page
    assert "<strong>default policy</strong>" in page
    assert "**" not in page
    assert "Missing policy key" not in page  # messages are the server's; the docs state the rule
    assert "[contract.md](contract.md)" in markdown
    assert "State rules" not in markdown
    assert "State rules" not in page
    assert contract.words("ranks") not in markdown  # the rules live on the contract page only


def test_html_contract_section_has_every_rule_as_an_anchor(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    assert '<li><a href="#contract">Contract</a></li>' in page
    contract_section = page.split('<section id="contract">', 1)[1].split("</section>", 1)[0]
    for section in contract.SECTIONS:
        assert (
            f'<h3 id="contract-{section.number}">{section.number}. {section.title}</h3>' in contract_section
        )
    for rule in contract.RULES:
        curated = " <em>(curated)</em>" if rule.curated else ""
        assert (
            f'<li id="{rule.id}"><a class="rule" href="#{rule.id}"><code>{rule.id}</code></a>{curated}: '
            in (contract_section)
        )
    assert "<code>ranks</code></a> <em>(curated)</em>: The default policy has rank 0;" in contract_section
    assert "<code>echo</code></a>: A policy echoes" in contract_section
    # The operations table sits in section 2, before section 3.
    operations = contract_section.split('id="contract-2"', 1)[1].split('id="contract-3"', 1)[0]
    assert (
        '<td data-label="path"><code class="path">/<wbr>release-policies/<wbr>order</code></td>' in operations
    )


def test_every_id_in_the_page_is_unique(docs: DocsPaths) -> None:
    ids = re.findall(r'\bid="([^"]+)"', docs.index_html.read_text(encoding="utf-8"))
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_field_paths_may_break_at_dots_and_brackets(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    assert '<code class="path">progressiveReleaseConfig.<wbr>stages<wbr>[].<wbr>durationMillis</code>' in page
    assert '<p><code class="path">/<wbr>api/<wbr>v2/<wbr>projects/<wbr>{projectKey}/<wbr>' in page


def test_a_schema_without_fields_shows_its_type_and_limits(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    markdown = docs.reference_md.read_text(encoding="utf-8")
    key = markdown.split("### ReleasePolicyKey\n", 1)[1].split("\n### ", 1)[0]
    assert "Type: string; 1 to 256 characters; pattern `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`; not `order`." in key
    assert "| field |" not in key
    html_key = page.split('<h3 id="schema-ReleasePolicyKey">', 1)[1].split("<h3", 1)[0]
    assert '<p class="type">Type: string; 1 to 256 characters;' in html_key
    assert "<table" not in html_key
    assert "<tbody></tbody>" not in page
    stages = markdown.split("### ReleasePolicyStages\n", 1)[1].split("\n### ", 1)[0]
    assert "Type: array of ReleasePolicyStage; 1 to 20 items." in stages


def test_create_request_table_leads_with_key() -> None:
    reference = build_reference(spec.bundled())
    fields = {op.operation_id: [row.name for row in op.request_fields] for op in reference.operations}
    assert fields["PostReleasePolicy"] == ["key", *fields["PutReleasePolicy"]]
    assert fields["PutReleasePolicy"][:3] == ["name", "releaseMethod", "scope"]


def test_nav_names_can_break_between_words(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    assert (
        '<a href="#PostReleasePoliciesOrder" title="POST PostReleasePoliciesOrder">'
        '<span class="method POST">POST</span>'
        '<span class="name">Post<wbr>Release<wbr>Policies<wbr>Order</span></a>'
    ) in page


def test_examples_shown_are_the_specs_own(docs: DocsPaths) -> None:
    markdown = docs.reference_md.read_text(encoding="utf-8")
    assert '"metricRegressionThreshold": 0.05' in markdown
    assert '"_id": "550e8400-e29b-41d4-a716-446655440000"' in markdown
    assert (
        "curl -X POST 'https://app.launchdarkly.com/api/v2/projects/default/release-policies/order'"
        in markdown
    )


def test_page_is_self_contained(docs: DocsPaths) -> None:
    page = docs.index_html.read_text(encoding="utf-8")
    for fetching in ("<link", "<script src", "<img", "@import", "url("):
        assert fetching not in page
    assert '<meta name="viewport"' in page
    assert "@media print" in page


def test_broken_example_stops_the_build_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        spec.bundled_path()
        .read_text(encoding="utf-8")
        .replace("                  key: production-release\n", "                  key: order\n", 1)
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "key: order" in row)
    with pytest.raises(DocsError, match=rf"broken.yaml:{line}:19: \[example-valid\]"):
        write_docs(tmp_path / "out", broken)
    assert not (tmp_path / "out").exists()
    assert main(["docs", "--out", str(tmp_path / "out"), "--spec", str(broken)]) == 1
    assert f"broken.yaml:{line}:19: [example-valid]" in capsys.readouterr().err


def test_cli_writes_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--out", str(tmp_path / "site")]) == 0
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [
        "contract.md",
        "index.html",
        "reference.md",
    ]
    assert "contract.md" in capsys.readouterr().out
    assert main(["docs", "--spec", str(tmp_path / "missing.yaml")]) == 2


def test_scripts_docs_exists() -> None:
    assert os.access(REPOSITORY / "scripts" / "docs", os.X_OK)


@pytest.mark.slow
def test_regenerate_rewrites_both_files_and_the_docs_build_under_oo(tmp_path: Path, docs: DocsPaths) -> None:
    """scripts/regenerate, run in a scratch copy of the layout it writes, with the CLI under -OO."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPOSITORY / "scripts" / "regenerate", tmp_path / "scripts" / "regenerate")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    cli = tmp_path / ".venv" / "bin" / "release-policy"
    cli.write_text(f'#!/bin/sh\nexec "{sys.executable}" -OO -m validator "$@"\n', encoding="utf-8")
    cli.chmod(0o755)
    (tmp_path / "spec").mkdir()
    (tmp_path / "tests" / "docs" / "golden").mkdir(parents=True)
    done = subprocess.run(
        ["sh", str(tmp_path / "scripts" / "regenerate")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote spec/CONTRACT.md and tests/docs/golden/reference.md" in done.stdout
    assert (tmp_path / "spec" / "CONTRACT.md").read_text(encoding="utf-8") == docs.contract_md.read_text(
        encoding="utf-8"
    )
    golden = tmp_path / "tests" / "docs" / "golden" / "reference.md"
    assert golden.read_text(encoding="utf-8") == docs.reference_md.read_text(encoding="utf-8")

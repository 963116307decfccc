"""YAML suppressions through ``main(argv)``: on the line, the line above, the whole file, and unused ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator.cli import main

BODY = """\
{top}key: repeated
name: Repeated
releaseMethod: progressive-release
scope:
  environmentKeys: [staging]
progressiveReleaseConfig:
  stages:
  - allocation: 25000
    durationMillis: 1000
{above}  - allocation: 25000{inline}
    durationMillis: 1000
  - allocation: 100000
    durationMillis: 0
"""


def lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], top: str = "", above: str = "", inline: str = ""
) -> list[tuple[str, int]]:
    path = tmp_path / "policy.yaml"
    path.write_text(BODY.format(top=top, above=above, inline=inline), encoding="utf-8")
    main(["lint", "--isolated", "--format", "json", str(path)])
    return [(f["rule"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]]


IGNORE = "# release-policy: ignore[allocation-repeated]"


def test_unsuppressed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(tmp_path, capsys) == [("allocation-repeated", 10)]


@pytest.mark.parametrize(
    "where",
    [
        {"inline": f"  {IGNORE}"},
        {"above": f"  {IGNORE}\n"},
        {"top": "# release-policy: ignore-file[allocation-repeated]\n"},
        {"inline": "  # release-policy: ignore[contract, allocation-repeated]", "top": ""},
    ],
)
def test_suppressed_where_it_stands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: dict[str, str]
) -> None:
    found = lint(tmp_path, capsys, **where)
    # The second form names contract too, which silences nothing: that part alone is reported.
    assert found in ([], [("unused-suppression", 10)])
    assert ("contract" in str(where)) == (found == [("unused-suppression", 10)])


def test_a_suppression_two_lines_above_does_not_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = lint(tmp_path, capsys, above=f"  {IGNORE}\n  # another comment\n")
    assert sorted(found) == [("allocation-repeated", 12), ("unused-suppression", 10)]


def test_ignore_file_below_the_top_is_unused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = lint(tmp_path, capsys, above="  # release-policy: ignore-file[allocation-repeated]\n")
    assert sorted(found) == [("allocation-repeated", 11), ("unused-suppression", 10)]


def test_unused_suppression_message_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.yaml"
    path.write_text("# release-policy: ignore-file[min-sample-size-low]\n- a\n", encoding="utf-8")
    assert main(["lint", "--isolated", "--strict", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{path}:1:1: warning [unused-suppression] the suppression of 'min-sample-size-low' silences nothing"
        " here; remove it ($)"
    )
    assert main(["lint", "--isolated", "--strict", "--ignore", "unused-suppression", str(path)]) == 0

"""Reading JSON and YAML with positions: every way a file can be broken is an error with a place."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.documents import MAX_DEPTH, DocumentError, decode, read_document
from validator.yaml_reader import parse_yaml


def test_positions_of_keys_and_values() -> None:
    document = parse_yaml('{\n  "a": {"b": [10, 20]},\n  "c": null\n}\n', "f.json")
    assert document.data == {"a": {"b": [10, 20]}, "c": None}
    assert document.position(("a",)) == (2, 3)
    assert document.position(("a", "b"), of="value") == (2, 14)
    assert document.position(("a", "b", 1)) == (2, 19)
    # a missing member is reported where its nearest ancestor is
    assert document.position(("a", "missing", 3)) == (2, 3)


def test_yaml_positions() -> None:
    document = parse_yaml("name: x\nscope:\n  environmentKeys:\n    - prod\n", "f.yaml")
    assert document.position(("scope", "environmentKeys", 0)) == (4, 7)


def test_duplicate_keys_are_recorded() -> None:
    document = parse_yaml('{"a": 1, "b": 2, "a": 3}', "f.json")
    assert document.data == {"a": 3, "b": 2}
    assert document.duplicate_keys == (("a",),)
    assert document.position(("a",)) == (1, 18)


def test_timestamps_stay_strings() -> None:
    assert parse_yaml("when: 2026-11-25\n", "f.yaml").data == {"when": "2026-11-25"}


def test_big_integers_are_exact() -> None:
    assert parse_yaml('{"d": 9223372036854775808}', "f.json").data == {"d": 2**63}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty", 1),
        ("   \n\n", "empty", 1),
        ("a: 1\nb: [1,\n", "syntax error", 3),
        ('{"a": 1,,}', "syntax error", 1),
        ("--- 1\n--- 2\n", "syntax error", 2),
        ("? [a]\n: 1\n", "key must be a string", 1),
    ],
)
def test_broken_text(text: str, message: str, line: int) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_yaml(text, "f")
    assert message in caught.value.message
    assert caught.value.line == line


@pytest.mark.parametrize("depth", [MAX_DEPTH + 10, 100_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_yaml("[" * depth + "]" * depth, "deep.json")
    assert "nesting" in caught.value.message


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH
    data = parse_yaml("[" * depth + "]" * depth, "deep.json").data
    for _ in range(depth - 1):
        data = data[0]
    assert data == []


def test_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(DocumentError) as caught:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "message", "position"),
    [
        (b"ab\x00cd", "binary", (1, 3)),
        (b"a: 1\nb: \xff\n", "not UTF-8", (2, 4)),
        (b"\xef\xbb\xbfa: 1", None, None),
    ],
)
def test_decode(raw: bytes, message: str | None, position: tuple[int, int] | None) -> None:
    if message is None:
        assert decode(raw) == "a: 1"
        return
    with pytest.raises(DocumentError) as caught:
        decode(raw)
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == position


def test_read_document_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("key: a\n", encoding="utf-8")
    assert read_document(path, "shown.yaml").file == "shown.yaml"
    assert read_document(path).file == str(path)


MERGES = """\
base: &base
  name: Base
  scope:
    environmentKeys: [prod]
other: &other {name: Other, rank: 2}
one:
  <<: *base
  name: Mine
many:
  <<: [*other, *base]
  key: k
"""


def test_merge_keys_apply_as_yaml_1_1_loaders_do() -> None:
    document = parse_yaml(MERGES, "m.yaml")
    assert document.data["one"] == {"name": "Mine", "scope": {"environmentKeys": ["prod"]}}
    # The mapping's own keys win, then the first source listed (the merge-key spec; PyYAML 6.0.4's
    # safe_load sometimes lets a later source win, as it dedups keys by the id() of their text).
    assert document.data["many"] == {
        "name": "Other",
        "rank": 2,
        "scope": {"environmentKeys": ["prod"]},
        "key": "k",
    }
    assert document.duplicate_keys == ()


def test_merged_members_are_placed_where_their_source_writes_them() -> None:
    document = parse_yaml(MERGES, "m.yaml")
    assert document.position(("one", "name")) == (8, 3)  # its own key, not the base's
    assert document.position(("one", "scope", "environmentKeys", 0)) == (4, 23)
    assert document.position(("many", "name")) == (5, 16)
    assert document.position(("many", "rank"), of="value") == (5, 35)
    assert document.position(("many", "key")) == (11, 3)


def test_merges_chain_and_repeated_keys_stay_duplicates() -> None:
    document = parse_yaml("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3, z: 4}\n", "m.yaml")
    assert document.data["c"] == {"x": 1, "y": 2, "z": 4}
    assert document.duplicate_keys == (("c", "z"),)


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert parse_yaml("c: {'<<': 3}\n", "m.yaml").data == {"c": {"<<": 3}}


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("c: {<<: 3}\n", "takes a mapping or a list of mappings", (1, 9)),
        ("c: {<<: [{a: 1}, [2]]}\n", "takes a mapping or a list of mappings", (1, 18)),
        ("a: &a\n  <<: *a\n", "merges the mapping it belongs to", (1, 4)),
    ],
)
def test_bad_merges_are_errors_with_a_place(text: str, message: str, position: tuple[int, int]) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_yaml(text, "m.yaml")
    assert message in caught.value.message
    assert (caught.value.line, caught.value.column) == position


def test_merge_bomb_is_bounded() -> None:
    lines = ["m0: &m0 {" + ", ".join(f"k{j}: {j}" for j in range(100)) + "}"]
    lines += [f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 50) + "]}" for i in range(1, 60)]
    lines += ["x: [" + ", ".join(["*m59"] * 100) + "]"]
    with pytest.raises(DocumentError) as caught:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in caught.value.message

"""Reading JSON and YAML with positions: every way a file can be broken is an error with a place."""

from __future__ import annotations

import time
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
    assert parse_yaml("[" * depth + "]" * depth, "deep.json").data is not None


def test_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    started = time.monotonic()
    with pytest.raises(DocumentError) as caught:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert "alias bomb" in caught.value.message
    assert time.monotonic() - started < 30  # a bound against hanging, not a speed target


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

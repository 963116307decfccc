"""Bytes to a :class:`Document`: decode, pick the reader by file name, read a file.

The document types live in ``document_types``; the readers (``json_reader``,
``yaml_reader``) build them. Each reader is imported on first use, so linting
JSON never loads PyYAML.
"""

from __future__ import annotations

from pathlib import Path as FilePath

from validator.document_types import MAX_DEPTH, MAX_NODES, Document, DocumentError, Position

# The names callers read documents with, whichever module defines them.
__all__ = ["MAX_DEPTH", "MAX_NODES", "Document", "DocumentError", "decode", "parse", "read_document"]


def parse(text: str, file: str) -> Document:
    """JSON for ``*.json``, YAML for ``*.yaml``/``*.yml``; otherwise JSON if it starts like JSON."""
    suffix = FilePath(file).suffix.lower()
    if suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("{", "[")):
        from validator.json_reader import parse_json

        return parse_json(text, file)
    from validator.yaml_reader import parse_yaml

    return parse_yaml(text, file)


def decode(raw: bytes) -> str:
    """Bytes to text, refusing binary or non-UTF-8 content with the place of the first bad byte."""
    if b"\x00" in raw:
        raise DocumentError(
            "binary content (a NUL byte); expected UTF-8 text", *_byte_position(raw, raw.index(b"\x00"))
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})",
            *_byte_position(raw, error.start),
        ) from None


def _byte_position(raw: bytes, offset: int) -> Position:
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    return (before.count(b"\n") + 1, offset - line_start + 1)


def read_document(path: FilePath, display_name: str | None = None) -> Document:
    """Read and parse a file; :class:`OSError` propagates, everything else is a DocumentError."""
    return parse(decode(path.read_bytes()), display_name or str(path))

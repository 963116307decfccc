"""The shared corpus of tests/payloads/, as the linter, server and fuzzer tests read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent / "payloads"
#: Rules whose findings mean the API itself rejects the body (400).
REJECTED_BY_API = frozenset({"syntax", "non-finite-number", "contract"})


@dataclass(frozen=True)
class Payload:
    path: Path
    kind: str
    findings: frozenset[tuple[str, str]]

    @property
    def name(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def accepted_by_api(self) -> bool:
        return not any(rule in REJECTED_BY_API for rule, _ in self.findings)


def _manifest() -> Any:
    return yaml.safe_load((ROOT / "MANIFEST.yaml").read_text(encoding="utf-8"))


def payloads() -> list[Payload]:
    return [
        Payload(ROOT / name, entry["kind"], frozenset((f["rule"], f["path"]) for f in entry["findings"]))
        for name, entry in sorted(_manifest()["files"].items())
    ]


def projects() -> dict[str, frozenset[tuple[str, str, str]]]:
    return {
        name: frozenset((f["file"], f["rule"], f["path"]) for f in expected)
        for name, expected in _manifest()["projects"].items()
    }

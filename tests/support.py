"""Paths and loaders the test modules share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent
SEEDS = TESTS / "seeds"
REPOSITORY = TESTS.parent


def load_seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))

"""release-policy-validator: contract, linter, reference server and fuzzer for release policies.

``validator.lint(paths)`` and ``validator.lint_bytes(raw, name)`` return findings; they are
loaded on first use so that ``import validator`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "lint", "lint_bytes"]

if TYPE_CHECKING:
    from validator.linter import lint, lint_bytes


def __getattr__(name: str) -> Any:
    if name in ("lint", "lint_bytes"):
        from validator import linter

        return getattr(linter, name)
    raise AttributeError(f"module 'validator' has no attribute {name!r}")

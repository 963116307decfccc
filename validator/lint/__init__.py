"""The policy linter: the contract plus the lint policy of CONTRACT.md section 7.

``lint(paths)`` returns findings; it never prints or exits.
"""

from validator.lint.model import KINDS, Kind, LintRule
from validator.lint.registry import RULE_INFO, RULES
from validator.lint.runner import LintPathError, LintResult, lint, lint_bytes

__all__ = [
    "KINDS",
    "RULES",
    "RULE_INFO",
    "Kind",
    "LintPathError",
    "LintResult",
    "LintRule",
    "lint",
    "lint_bytes",
]

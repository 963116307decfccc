"""The policy linter: the contract plus the lint policy of CONTRACT.md section 7.

``lint(paths)`` returns findings; it never prints or exits.
"""

from validator.linter.model import KINDS, Kind, LintRule
from validator.linter.registry import RULE_INFO, RULES
from validator.linter.runner import LintPathError, LintResult, lint, lint_bytes

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

"""The policy linter: the contract plus the lint policy (spec/CONTRACT.md section 1; ``--list-rules``).

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

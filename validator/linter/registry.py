"""The one table of lint rules. The linter runs it; ``--list-rules``, SARIF and the docs read it."""

from __future__ import annotations

from validator.findings import RuleInfo
from validator.linter import fixes, project, rules
from validator.linter.model import LintRule

RULES: tuple[LintRule, ...] = (
    LintRule(
        RuleInfo(
            "syntax",
            "error",
            "A file that is not one JSON or YAML document: a syntax error, an empty file, binary or"
            " non-UTF-8 content, nesting deeper than 200 levels, a YAML alias bomb.",
            "The API answers such a body with 400; nothing in it can be checked.",
        ),
    ),
    LintRule(
        RuleInfo(
            "duplicate-key",
            "error",
            "A key written twice in one object.",
            "JSON and YAML parsers silently keep the last value, so the first one is lost without a word.",
        ),
    ),
    LintRule(
        RuleInfo(
            "non-finite-number",
            "error",
            "NaN, Infinity, or a number too large to be finite (1e400).",
            "JSON has no such numbers; the API rejects them or reads something else than was meant.",
        ),
    ),
    LintRule(
        RuleInfo(
            "contract",
            "error",
            "Anything the API's request schema rejects: a missing required field, a wrong type"
            " (true or 1000.5 where an integer is due), a name over 256 characters, a releaseMethod"
            " outside the enum, an allocation outside 0-100000, more than 20 stages, a malformed or"
            " reserved key, an empty scope, a duplicate in a list.",
            "The API answers 400. The rule reads the spec's own schema, so it says what the API says."
            " Fix: an item repeated in a key list is removed.",
        ),
        file_check=rules.check_contract,
        fix=fixes.remove_repeated_items,
    ),
    LintRule(
        RuleInfo(
            "unknown-field",
            "error",
            "A field the request schema does not have, at any depth (with a 'did you mean' for near misses).",
            "The API ignores unknown fields without an error, so a typo such as rollbackOnRegresion"
            " silently drops the setting. Fix: a field with exactly one close match is renamed to it; a"
            " key in an update body (the path names the policy) is removed.",
        ),
        file_check=rules.check_unknown_fields,
        fix=fixes.fix_unknown_field,
    ),
    LintRule(
        RuleInfo(
            "config-mismatch",
            "warning",
            "A progressiveReleaseConfig on a guarded release, or a guardedReleaseConfig on a"
            " progressive one.",
            "The block has no effect on that release method; LaunchDarkly's Terraform provider rejects it.",
        ),
        file_check=rules.check_config_mismatch,
    ),
    LintRule(
        RuleInfo(
            "guarded-config-missing",
            "warning",
            "A guarded release without guardedReleaseConfig.",
            "A guarded release is defined by what it watches; without a config it watches nothing.",
        ),
        file_check=rules.check_guarded_config_missing,
    ),
    LintRule(
        RuleInfo(
            "guarded-metrics-missing",
            "warning",
            "A guardedReleaseConfig that names no metricKeys and no metricGroupKeys.",
            "Without a metric no regression can be detected, so the release cannot roll back.",
        ),
        file_check=rules.check_guarded_metrics_missing,
    ),
    LintRule(
        RuleInfo(
            "allocation-decreasing",
            "error",
            "A stage whose allocation is lower than the stage before it.",
            "A rollout only grows; a smaller stage takes traffic away from users who already had the change.",
        ),
        file_check=rules.check_decreasing_allocation,
    ),
    LintRule(
        RuleInfo(
            "allocation-repeated",
            "warning",
            "A stage whose allocation equals the stage before it.",
            "The stage only extends the wait; usually a copy-paste slip"
            " (LaunchDarkly's own example has one).",
        ),
        file_check=rules.check_repeated_allocation,
    ),
    LintRule(
        RuleInfo(
            "allocation-unit",
            "warning",
            "A stage list whose allocations all look like percentages: every one at most 100, one above 0.",
            "The API counts thousandths of a percent (25000 is 25%), while LaunchDarkly's Terraform"
            " provider documents the same field as a percentage (0-100): 25 gives 0.025% of traffic.",
        ),
        file_check=rules.check_allocation_unit,
    ),
    LintRule(
        RuleInfo(
            "guarded-stage-over-half",
            "warning",
            "A guarded release stage above 50000 (50%).",
            "LaunchDarkly's guarded rollout validator caps guarded stages at 50%.",
        ),
        file_check=rules.check_guarded_stage_cap,
    ),
    LintRule(
        RuleInfo(
            "zero-duration-stage",
            "warning",
            "A stage of durationMillis 0 that is not the last stage.",
            "A zero-length stage is skipped at once; only the final stage may last forever.",
        ),
        file_check=rules.check_zero_duration,
    ),
    LintRule(
        RuleInfo(
            "min-sample-size-low",
            "warning",
            "A minSampleSize below 5.",
            "LaunchDarkly's own validator requires at least 5; fewer samples make any decision noise.",
        ),
        file_check=rules.check_min_sample_size,
    ),
    LintRule(
        RuleInfo(
            "duplicate-policy-key",
            "error",
            "Two policy files of one directory (one project) with the same key.",
            "Keys are unique in a project: the second create answers 409 and is lost.",
        ),
        project_check=project.check,
    ),
    LintRule(
        RuleInfo(
            "multiple-default-policies",
            "error",
            "More than one default policy (a policy without scope) among the files of one directory.",
            "A project has at most one default policy: the second create answers 409.",
        ),
        project_check=project.check,
    ),
    LintRule(
        RuleInfo(
            "order-mismatch",
            "error",
            "An order file that does not list exactly the scoped policies defined in its directory:"
            " a missing, unknown or default policy key.",
            "The order operation must name every scoped policy and nothing else, or it answers 400.",
        ),
        project_check=project.check,
    ),
    LintRule(
        RuleInfo(
            "unused-suppression",
            "warning",
            "A '# release-policy: ignore[rule]' or 'ignore-file[rule]' comment that silences no finding.",
            "A suppression that outlived its problem hides the next one; ruff's RUF100 does the same.",
        ),
    ),
)
RULE_INFO: dict[str, RuleInfo] = {rule.info.id: rule.info for rule in RULES}

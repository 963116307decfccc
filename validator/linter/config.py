"""The linter's configuration: which rules run, at what severity, per path, and each file's body kind.

Found as ruff finds its own: from a start directory upward, the first
``.release-policy.toml`` (options at its top level) or ``pyproject.toml`` with
a ``[tool.release-policy]`` table. Globs are matched against a file's path
relative to the configuration's directory. Anything unknown or ill-typed is a
:class:`ConfigError` naming the option and the file; nothing is guessed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from validator.findings import Severity
from validator.linter.model import KINDS, Kind
from validator.linter.registry import RULE_INFO

OWN_FILE, PYPROJECT = ".release-policy.toml", "pyproject.toml"
LEVELS = ("error", "warning", "off")
_SELECTION_OPTIONS = ("select", "extend-select", "ignore", "severity")
_LINT_OPTIONS = (*_SELECTION_OPTIONS, "per-file", "kinds")


class ConfigError(Exception):
    """An unusable configuration: the message names the option and the file."""


@dataclass(frozen=True)
class Selection:
    """One layer of rule choices; a later layer refines an earlier one."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: (rule id or prefix, "error" | "warning" | "off"), in the order written.
    severity: tuple[tuple[str, str], ...] = ()

    def apply(self, rules: dict[str, Severity | None]) -> None:
        """Narrow or widen ``rules`` (rule id -> severity, None when off) in place."""
        if self.select is not None:
            chosen = expand(self.select)
            for rule, severity in rules.items():
                rules[rule] = (severity or RULE_INFO[rule].severity) if rule in chosen else None
        for rule in expand(self.extend_select):
            rules[rule] = rules[rule] or RULE_INFO[rule].severity
        for rule in expand(self.ignore):
            rules[rule] = None
        for selector, level in self.severity:
            for rule in expand((selector,)):
                rules[rule] = None if level == "off" else level  # type: ignore[assignment]


@dataclass(frozen=True)
class LintConfig:
    """Options from a configuration file (or none), with the command line's layered on top."""

    source: str | None = None
    root: FilePath = field(default_factory=FilePath)
    options: Selection = Selection()
    per_file: tuple[tuple[str, Selection], ...] = ()
    kinds: tuple[tuple[str, Kind], ...] = ()
    command_line: Selection = Selection()

    @property
    def is_default(self) -> bool:
        return self == LintConfig(root=self.root)

    def rules(self) -> dict[str, Severity | None]:
        """Each rule's severity for the whole run (None: off), before per-path overrides."""
        rules: dict[str, Severity | None] = {rule: info.severity for rule, info in RULE_INFO.items()}
        self.options.apply(rules)
        self.command_line.apply(rules)
        return rules

    def rules_for(self, path: str) -> dict[str, Severity | None]:
        rules = self.rules()
        relative = self._relative(path) if self.per_file else ""
        for pattern, selection in self.per_file:
            if _matches(pattern, relative):
                selection.apply(rules)
        return rules

    def kind_for(self, path: str) -> Kind | None:
        """The body kind the configuration gives the file (the last matching pattern wins)."""
        relative = self._relative(path)
        found = [kind for pattern, kind in self.kinds if _matches(pattern, relative)]
        return found[-1] if found else None

    def _relative(self, path: str) -> str:
        try:
            return FilePath(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return FilePath(path).as_posix()


def _matches(pattern: str, relative: str) -> bool:
    """A glob against a relative POSIX path; one without ``/`` also matches a bare file name."""
    if fnmatch.fnmatchcase(relative, pattern) or (
        pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:])
    ):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern)


def expand(selectors: Iterable[str]) -> set[str]:
    """Rule ids named by ids or by a prefix they share (``allocation`` is every ``allocation-*``)."""
    chosen: set[str] = set()
    for selector in selectors:
        matched = {rule for rule in RULE_INFO if selector in (rule, "ALL") or rule.startswith(f"{selector}-")}
        if not matched:
            raise ConfigError(f"unknown rule {selector!r}")
        chosen |= matched
    return chosen


def discover(start: FilePath) -> FilePath | None:
    """The nearest configuration file at or above ``start``, or None."""
    for directory in (start, *start.parents):
        own = directory / OWN_FILE
        if own.is_file():
            return own
        pyproject = directory / PYPROJECT
        # A cheap look before parsing: most pyproject.toml files are not ours.
        if (
            pyproject.is_file()
            and "release-policy" in pyproject.read_text(encoding="utf-8", errors="replace")
            and "release-policy" in _read_toml(pyproject).get("tool", {})
        ):
            return pyproject
    return None


def _read_toml(path: FilePath) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return data


def load(path: FilePath, command_line: Selection = Selection()) -> LintConfig:
    """Read a configuration file; raise :class:`ConfigError` naming the file and the option."""
    data = _read_toml(path)
    if path.name == PYPROJECT:
        section, prefix = data.get("tool", {}).get("release-policy", {}), "tool.release-policy"
    else:
        section, prefix = data, ""
    try:
        return _parse(section, prefix, path, command_line)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _name(prefix: str, option: str) -> str:
    return f"{prefix}.{option}" if prefix else option


def _table(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a table")
    return value


def _unknown(table: Mapping[str, Any], known: Iterable[str], prefix: str) -> None:
    for option in table:
        if option not in known:
            raise ConfigError(f"unknown option {_name(prefix, option)!r}")


def _parse(section: Any, prefix: str, path: FilePath, command_line: Selection) -> LintConfig:
    _unknown(_table(section, prefix or "the file"), ("lint",), prefix)
    lint_prefix = _name(prefix, "lint")
    lint = _table(section.get("lint", {}), lint_prefix)
    _unknown(lint, _LINT_OPTIONS, lint_prefix)
    per_file_prefix = _name(lint_prefix, "per-file")
    per_file = tuple(
        (
            pattern,
            _selection(_table(options, f"{per_file_prefix}.{pattern!r}"), f"{per_file_prefix}.{pattern}"),
        )
        for pattern, options in _table(lint.get("per-file", {}), per_file_prefix).items()
    )
    kinds_prefix = _name(lint_prefix, "kinds")
    kinds: list[tuple[str, Kind]] = []
    for pattern, kind in _table(lint.get("kinds", {}), kinds_prefix).items():
        if kind not in KINDS:
            raise ConfigError(f"{kinds_prefix}.{pattern!r}: {kind!r} is not one of {', '.join(KINDS)}")
        kinds.append((pattern, kind))
    options = {option: lint[option] for option in _SELECTION_OPTIONS if option in lint}
    return LintConfig(
        str(path), path.parent, _selection(options, lint_prefix), per_file, tuple(kinds), command_line
    )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{name} must be a list of rule ids")
    expand_named(value, name)
    return tuple(value)


def expand_named(selectors: Iterable[str], name: str) -> set[str]:
    """:func:`expand`, with the option that named an unknown rule in the error."""
    try:
        return expand(selectors)
    except ConfigError as error:
        raise ConfigError(f"{name}: {error}") from None


def _selection(table: Mapping[str, Any], prefix: str) -> Selection:
    _unknown(table, _SELECTION_OPTIONS, prefix)
    severity = []
    for selector, level in _table(table.get("severity", {}), _name(prefix, "severity")).items():
        name = f"{_name(prefix, 'severity')}.{selector}"
        if level not in LEVELS:
            raise ConfigError(f"{name}: {level!r} is not one of {', '.join(LEVELS)}")
        expand_named((selector,), name)
        severity.append((selector, level))
    select = table.get("select")
    return Selection(
        None if select is None else _strings(select, _name(prefix, "select")),
        _strings(table.get("extend-select", []), _name(prefix, "extend-select")),
        _strings(table.get("ignore", []), _name(prefix, "ignore")),
        tuple(severity),
    )


def resolve(
    start: FilePath,
    *,
    config: str | None = None,
    isolated: bool = False,
    command_line: Selection = Selection(),
) -> LintConfig:
    """The run's configuration: the named file, else the discovered one (unless isolated), else none."""
    if config is not None:
        path = FilePath(config)
        if not path.is_file():
            raise ConfigError(f"{config}: no such configuration file")
        return load(path, command_line)
    found = None if isolated else discover(start)
    if found is None:
        return LintConfig(root=FilePath.cwd(), command_line=command_line)
    return load(found, command_line)

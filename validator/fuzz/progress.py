"""A fuzz run as it goes: what it tells (a phase, a finding the moment it is found) and where it stands.

The library never prints: a run updates a :class:`Progress` and calls its
``note`` and ``found``; the front door (``cli.py``) shows them, as one status
line redrawn in place on a terminal, as plain lines otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from validator.fuzz.boundaries import Side
from validator.fuzz.coverage import Coverage, Tally, measure
from validator.spec import Spec


def _ignore(*_: str) -> None:
    return None


@dataclass
class Progress:
    """Where a run stands; the run updates it, the front door reads it (from another thread too)."""

    #: A line worth telling: a phase starting, a note. Never one per request.
    note: Callable[[str], None] = _ignore
    #: A violation the moment it is found: its check and message (the run's summary has the evidence).
    found: Callable[[str, str], None] = _ignore
    phase: str = "starting"
    started: float = field(default_factory=time.monotonic)
    deadline: float = 0.0
    violations: int = 0
    tally: Tally = field(default_factory=Tally)
    #: The sweep's (constraint, side) goals, once the sweep has planned them.
    goals: tuple[tuple[str, Side], ...] = ()

    def enter(self, phase: str, line: str) -> None:
        self.phase = phase
        self.note(line)

    def violation(self, check: str, message: str) -> None:
        self.violations += 1
        self.found(check, message)

    def coverage(self, contract: Spec) -> Coverage:
        return measure(contract, self.tally, self.goals)

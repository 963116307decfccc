"""How fast and how much the fuzzer may send, and how it waits out a 429: one gate every request passes.

The contract's ``rate-limited`` rule says a 429 changes nothing and the client
sends the same request again once it has waited. So a 429 is never a finding:
the gate waits as the answer says (``X-Ratelimit-Reset``, the more precise,
else ``Retry-After``; exponential backoff with jitter when it says neither),
each wait capped, and the caller resends. A server that still answers 429
after the wait it asked for, many times in a row, is a server the fuzzer cannot
test politely: :class:`RateLimitIgnored` ends the run. ``--rate-limit`` spaces
requests evenly below a known limit; ``--max-requests`` is a hard budget, and
:class:`BudgetSpent` stops the sources once only the cleanup's share is left.
Both are ``BaseException``\\ s, like ``KeyboardInterrupt``: they stop a run,
and no source's ``except Exception`` may take one for a finding.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

#: The longest one wait may be, whatever the server asks: a nightly job must end.
MAX_WAIT = 60.0
#: 429s in a row for one request, each after the wait it asked for, before the run gives up.
MAX_LIMITED_IN_A_ROW = 8
#: The first backoff when a 429 says nothing; doubled (with jitter) each time after.
FIRST_BACKOFF = 0.25


class RunStopped(BaseException):  # a stop, like KeyboardInterrupt, not an error
    """The run must end now; the message says why, for the user."""


class BudgetSpent(RunStopped):
    """``--max-requests`` is spent (but for what the cleanup needs)."""


class RateLimitIgnored(RunStopped):
    """The server kept answering 429 although the fuzzer waited as it asked."""


@dataclass(frozen=True)
class Pace:
    """The user's limits: requests a second (None: as fast as answers come), the budget, the profile."""

    per_second: float | None = None
    max_requests: int | None = None
    #: ``--profile gentle``: no burst of concurrent writes, one oversized body at most.
    gentle: bool = False


@dataclass
class Gate:
    """Admits each request (pacing, budget) and waits out 429s; shared by every thread of a run."""

    pace: Pace = field(default_factory=Pace)
    #: What the cleanup will need at most (a list and a DELETE a key): held back from the sources.
    reserve: Callable[[], int] = lambda: 0
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - not a secret
    #: Requests sent, 429s met, seconds waited for them.
    sent: int = 0
    limited: int = 0
    waited: float = 0.0
    #: Once set, the cleanup's requests may spend the reserve.
    cleaning: bool = False
    _next: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self) -> None:
        """Wait for the request's turn and count it; BudgetSpent if the budget does not allow it."""
        with self._lock:
            budget = self.pace.max_requests
            if budget is not None and self.sent >= budget - (0 if self.cleaning else self.reserve()):
                raise BudgetSpent(f"--max-requests {budget} spent")
            self.sent += 1
            now = self.clock()
            start = max(now, self._next)
            if self.pace.per_second:
                self._next = start + 1 / self.pace.per_second
        if start > now:
            self.sleep(start - now)

    def limited_wait(self, headers: Iterable[tuple[str, str]], in_a_row: int) -> None:
        """Wait out the ``in_a_row``-th 429 in a row for one request (from 1), as its headers say."""
        told = self._told(headers)
        if in_a_row > MAX_LIMITED_IN_A_ROW:
            said = f"waiting {told:g} s as it asked" if told is not None else "backing off"
            raise RateLimitIgnored(
                f"the server answered 429 {in_a_row} times in a row to one request, {said} each time;"
                " lower --rate-limit or try later"
            )
        if told is None:
            backoff = FIRST_BACKOFF * 2 ** (in_a_row - 1)
            told = backoff * (0.5 + self.jitter.random())
        wait = min(max(told, 0.0), MAX_WAIT)
        with self._lock:
            self.limited += 1
            self.waited += wait
        self.sleep(wait)

    def _told(self, headers: Iterable[tuple[str, str]]) -> float | None:
        """The seconds a 429's headers ask for, if they ask (and make sense)."""
        found = {name.lower(): value.strip() for name, value in headers}
        try:
            if "x-ratelimit-reset" in found:
                return int(found["x-ratelimit-reset"]) / 1000 - self.wall()
            if "retry-after" in found:
                return float(int(found["retry-after"]))
        except ValueError:
            return None  # an HTTP date or garbage: back off instead
        return None

    def stats(self) -> dict[str, float]:
        """For the run's summary: how often and how long the server limited it."""
        return {
            "requests sent": self.sent,
            "rate-limited": self.limited,
            "seconds waited": round(self.waited, 1),
        }

"""``serve --rate-limit N/s``: a token bucket per access token, answered as the contract's 429.

The contract's ``rate-limited`` rule: the check comes right after the token
check and before any other, and a limited request changes nothing. The
bucket holds a small burst (a quarter of a second's worth, at least one
request), so over any span of ``t`` seconds a token gets at most
``rate * t + burst`` answers that are not 429.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*s\s*$")
MESSAGE = "You've exceeded the API rate limit. Try again later."


@dataclass(frozen=True)
class RateLimit:
    """At most ``per_second`` requests a second, with ``burst`` more at once after a quiet spell."""

    per_second: float
    burst: int

    def __str__(self) -> str:
        return f"{self.per_second:g}/s"


def parse_rate(text: str) -> RateLimit:
    """``"20/s"`` as a :class:`RateLimit`; ValueError says what a rate looks like."""
    match = RATE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"a rate is a positive number of requests a second, like 20/s, not {text!r}")
    per_second = float(match.group(1))
    return RateLimit(per_second, max(1, math.ceil(per_second / 4)))


@dataclass
class Limiter:
    """The buckets, one per token; thread-safe, as the app's handlers may run in several threads."""

    limit: RateLimit
    clock: Callable[[], float] = time.monotonic
    #: Token -> (tokens left, when last refilled).
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, token: str) -> float:
        """Take one request from ``token``'s bucket: 0 if it may go on, else the seconds until it may."""
        with self._lock:
            now = self.clock()
            left, then = self._buckets.get(token, (float(self.limit.burst), now))
            left = min(float(self.limit.burst), left + (now - then) * self.limit.per_second)
            if left >= 1:
                self._buckets[token] = (left - 1, now)
                return 0.0
            self._buckets[token] = (left, now)
            return (1 - left) / self.limit.per_second


def headers(wait: float, now: float) -> Mapping[str, str]:
    """Both of the contract's headers for a wait of ``wait`` seconds from the Unix time ``now``."""
    return {
        "Retry-After": str(max(1, math.ceil(wait))),
        "X-Ratelimit-Reset": str(math.ceil((now + wait) * 1000)),
    }

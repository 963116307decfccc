"""The gate every request passes: pacing, the budget, and waiting out 429s as they say."""

from __future__ import annotations

import pytest

from validator.fuzz.pacing import MAX_LIMITED_IN_A_ROW, MAX_WAIT, BudgetSpent, Gate, Pace, RateLimitIgnored


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def gate(pace: Pace | None = None, reserve: int = 0) -> tuple[Gate, Clock]:
    clock = Clock()
    return Gate(pace or Pace(), lambda: reserve, clock=clock, wall=clock, sleep=clock.sleep), clock


def test_requests_are_spaced_evenly_at_the_rate() -> None:
    paced, clock = gate(Pace(per_second=4))
    for _ in range(5):
        paced.admit()
    assert clock.slept == [0.25] * 4
    assert paced.sent == 5


def test_the_budget_holds_exactly_and_keeps_the_cleanups_share() -> None:
    budgeted, _ = gate(Pace(max_requests=5), reserve=2)
    for _ in range(3):
        budgeted.admit()
    with pytest.raises(BudgetSpent, match="--max-requests 5"):
        budgeted.admit()
    budgeted.cleaning = True
    budgeted.admit()
    budgeted.admit()
    with pytest.raises(BudgetSpent):
        budgeted.admit()
    assert budgeted.sent == 5


@pytest.mark.parametrize(
    ("headers", "waited"),
    [
        ([("Retry-After", "3")], 3.0),
        ([("X-Ratelimit-Reset", "1002500")], 2.5),  # epoch ms: the clock reads 1000 s
        ([("Retry-After", "1"), ("x-ratelimit-reset", "1000250")], 0.25),  # the precise one wins
        ([("Retry-After", "86400")], MAX_WAIT),  # capped
    ],
)
def test_a_429_is_waited_out_as_it_says(headers: list[tuple[str, str]], waited: float) -> None:
    limited, clock = gate()
    limited.limited_wait(headers, 1)
    assert clock.slept == [waited]
    assert limited.limited == 1
    assert limited.waited == pytest.approx(waited)


def test_a_429_that_says_nothing_backs_off_exponentially_with_jitter() -> None:
    limited, clock = gate()
    for in_a_row in range(1, 5):
        limited.limited_wait([("Retry-After", "soon")], in_a_row)
    for in_a_row, slept in enumerate(clock.slept):
        assert 0.125 * 2**in_a_row <= slept <= 0.375 * 2**in_a_row


def test_a_server_ignoring_its_own_retry_after_ends_the_run() -> None:
    limited, _ = gate()
    with pytest.raises(RateLimitIgnored, match=f"429 {MAX_LIMITED_IN_A_ROW + 1} times in a row.*waiting 1 s"):
        limited.limited_wait([("Retry-After", "1")], MAX_LIMITED_IN_A_ROW + 1)

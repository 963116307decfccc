"""The model-based oracle: sequences of requests whose every answer is predicted by the state rules.

Hypothesis draws each sequence step by step (which operation, which key,
bodies from Schemathesis), :mod:`validator.fuzz.model` predicts each answer
from what the server acknowledged so far, and :mod:`validator.fuzz.judge`
names the rule an answer breaks. Every sequence starts from an empty project,
so a failing one replays exactly; it is then shrunk by bounded delta
debugging (:mod:`validator.fuzz.shrink`) into the violation's evidence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from validator.counts import counted
from validator.fuzz.body_pool import generate_bodies
from validator.fuzz.judge import History, Verdict, judge
from validator.fuzz.model import learn_id, predict
from validator.fuzz.progress import Progress
from validator.fuzz.shard import WHOLE, Shard
from validator.fuzz.shrink import ddmin, simplify
from validator.fuzz.steps import Step, steps_for
from validator.fuzz.target import Exchange, Session
from validator.fuzz.violation import Violation, answered
from validator.spec import Spec
from validator.state import Project

#: Distinct rules worth reporting from one search; more would be one bug seen many ways.
MAX_FINDINGS = 5


class ResetFailed(Exception):
    """The project could not be emptied, so no sequence can start from a clean state."""


@dataclass
class Run:
    """One sequence under way: the model of what the server acknowledged, and each key's last outcome."""

    session: Session
    model: Project = field(default_factory=Project)
    last: dict[str, tuple[str, int]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    #: The spec the server keeps (None: the bundled one).
    contract: Spec | None = None

    def start(self) -> None:
        """Delete what the run created (all the project held when it began), then record from here."""
        url = self.session.target.policies()
        listed = self.session.request("GET", url)
        if listed.status != 200:
            raise ResetFailed(f"GET {url} answered {answered(listed)}, expected 200")
        for policy in listed.items():
            if str(policy.get("key")) not in self.session.owned.created:
                continue  # not the run's: someone else's, on a real account, is never deleted
            # Quoted: a broken server may list any key, and "../x" must not reach another path.
            self.session.request("DELETE", f"{url}/{quote(str(policy.get('key')), safe='')}")
        left = self.session.request("GET", url).items()
        if left:
            raise ResetFailed(
                f"{url} still holds {counted(len(left), 'policy', 'policies')} after deleting the run's"
            )
        self.session.exchanges.clear()

    def step(self, step: Step) -> Verdict | None:
        """Send ``step`` and judge the answer; the model moves on as a correct server's state would."""
        before, predicted = self.model, predict(self.model, step, self.contract)
        self.model = predicted.after
        self.steps.append(step)
        headers = self.session.headers()
        if step.body is not None:
            headers["Content-Type"] = "application/json"
        content = None if step.body is None else step.body.encode()
        url = self.session.target.policies() + step.path()
        answer = self.session.request(step.method, url, headers=headers, content=content)
        self.session.tally.step(before, step, predicted)
        verdict = judge(step, predicted, answer, History(dict(self.ids), dict(self.last)))
        key = step.key or _created_key(step)
        if verdict is None and step.kind == "create" and predicted.status == 201:
            self.model = learn_id(self.model, key, answer.member("_id"))  # judged a fresh string
        if key:
            self.last[key] = (step.kind, answer.status)
        return verdict

    @property
    def ids(self) -> dict[str, str]:
        return {policy.key: policy.id for policy in self.model.policies}


def _created_key(step: Step) -> str:
    data = step.data() if step.kind == "create" else None
    return str(data["key"]) if isinstance(data, dict) and isinstance(data.get("key"), str) else ""


@dataclass(frozen=True)
class Failure:
    verdict: Verdict
    steps: tuple[Step, ...]
    exchanges: tuple[Exchange, ...]


def replay(session: Session, steps: Sequence[Step]) -> Failure | None:
    """Run ``steps`` from an empty project; the first broken rule, with the steps up to it."""
    run = Run(session)
    run.start()
    for step in steps:
        verdict = run.step(step)
        if verdict is not None:
            return Failure(verdict, tuple(run.steps), tuple(session.exchanges))
    return None


@dataclass(frozen=True)
class OracleResult:
    violations: tuple[Violation, ...]
    sequences: int
    requests: int
    #: The minimal steps of each violation, by its check, for the reproduction reports.
    steps: dict[str, tuple[Step, ...]] = field(default_factory=dict)


def run_oracle(
    session: Session,
    *,
    seed: int,
    max_examples: int,
    max_time: float,
    max_steps: int = 20,
    shrink_budget: int = 150,
    body_pool: int = 40,
    progress: Progress | None = None,
    shard: Shard = WHOLE,
) -> OracleResult:
    """Search for sequences that break a state rule, within ``max_time``; shrink what it finds.

    A shard searches its own batches of the search (seeds no other shard uses)."""
    deadline = time.monotonic() + max_time
    progress = progress or Progress()
    bodies = generate_bodies(seed, body_pool)
    found: dict[str, Failure] = {}
    counts = {"sequences": 0, "requests": 0}
    stopped: list[bool] = []

    def sequence(data: st.DataObject) -> None:
        # The whole sequence is drawn first, from the model alone: what Hypothesis draws must never
        # depend on the server (it would call the run flaky), and a failure then replays exactly.
        model, steps = Project(), []
        for _ in range(data.draw(st.integers(1, max_steps), label="length")):
            steps.append(data.draw(steps_for(model, bodies, session.prefix)))
            model = predict(model, steps[-1]).after
        steps.append(Step("list"))  # what was acknowledged must all read back
        if stopped:
            return
        counts["sequences"] += 1
        try:
            failure = replay(session, steps)
        except ResetFailed as error:  # the server's DELETE or list is broken: nothing starts clean
            failure = Failure(Verdict("delete-removes", str(error)), (), tuple(session.exchanges))
            stopped.append(True)
        counts["requests"] += len(session.exchanges)
        if failure is not None and failure.verdict.rule not in found:
            found[failure.verdict.rule] = failure
            progress.violation(
                f"oracle:{failure.verdict.rule}", f"{failure.verdict.message} (before shrinking)"
            )

    # Hypothesis has no time budget and must not be stopped mid-run (it would call the draws
    # flaky), so the search runs in batches, each sized to the time left, each seeded from ``seed``.
    batch, started = 0, time.monotonic()
    while counts["sequences"] < max_examples and len(found) < MAX_FINDINGS and not stopped:
        left = deadline - time.monotonic()
        each = (time.monotonic() - started) / max(counts["sequences"], 1)
        # The first batch runs whatever the time: a search of no sequence would prove nothing.
        size = min(max_examples - counts["sequences"], 50, int(left / each) if counts["sequences"] else 10)
        if counts["sequences"] and (left <= 0 or size < 1):
            break
        search = settings(
            max_examples=size, database=None, deadline=None, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck), print_blob=False,
        )(hypothesis_seed(shard.batch_seed(seed, batch))(given(st.data())(sequence)))  # fmt: skip
        search()
        batch += 1

    violations, minimal = [], {}
    for rule, failure in found.items():
        progress.note(f"oracle: shrinking the {rule} violation ({counted(len(failure.steps), 'step')})")
        shrunk = _shrink(session, failure, shrink_budget)
        check = f"oracle:{rule}"
        minimal[check] = shrunk.steps
        violations.append(Violation(rule, shrunk.verdict.message, shrunk.exchanges, check))
    return OracleResult(tuple(violations), counts["sequences"], counts["requests"], minimal)


def _shrink(session: Session, failure: Failure, budget: int) -> Failure:
    best = failure

    def attempt(steps: Sequence[Step]) -> Sequence[Step] | None:
        nonlocal best
        try:
            again = replay(session, steps)
        except ResetFailed:
            return None
        if again is None or again.verdict.rule != failure.verdict.rule:
            return None
        best = again
        return again.steps

    steps, budget = ddmin(failure.steps, attempt, budget)
    simplify(steps, _simpler, attempt, budget)
    return best


def _simpler(step: Step) -> list[Step]:
    """The step's body with one member fewer (never the create's key), for each member."""
    data = step.data()
    if not isinstance(data, dict):
        return []
    kept = [name for name in data if not (step.kind == "create" and name == "key")]
    return [replace(step, body=json.dumps({k: v for k, v in data.items() if k != name})) for name in kept]

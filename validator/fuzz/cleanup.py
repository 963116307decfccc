"""Cleanup on every exit path: whatever ends a run (Ctrl-C, SIGTERM, the budget, a crash of the fuzzer),
the policies it created are deleted before the run ends, so a real account keeps nothing of it.

Only the run's keys (``Session.owned``: every key it asked to create, Schemathesis' included) are
deleted; a policy someone else created in the project meanwhile is left alone. The cleanup may spend
the budget's reserve, which is sized from the keys the run holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from validator.fuzz.target import Session


@contextlib.contextmanager
def always(session: Session, empty: Callable[[Session], object]) -> Iterator[Callable[[], None]]:
    """Run ``empty`` if the block ends by any exception once armed, then let the exception go on.

    The block arms it (calls what it yields) once the preflight found the project empty: before that,
    what the project holds is not the run's, and a refused run must leave it alone.
    """
    armed: list[bool] = []
    try:
        yield lambda: armed.append(True)
    except BaseException:
        if armed:
            session.gate.cleaning = True
            with contextlib.suppress(Exception):  # the cleanup's failure must not hide why the run ended
                empty(session)
        raise

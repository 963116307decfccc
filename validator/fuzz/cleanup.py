"""Cleanup on every exit path: whatever ends a run (Ctrl-C, SIGTERM, the budget, a crash of the fuzzer),
the project it owns is emptied before the run ends, so a real account keeps nothing of it.

The project was empty when the run began (the preflight refuses any other, unless ``--reset``), so what
it holds at the end is what the run created. The cleanup may spend the budget's reserve.
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

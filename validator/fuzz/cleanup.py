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
def always(session: Session, empty: Callable[[Session], object]) -> Iterator[None]:
    """Run ``empty`` if the block ends by any exception, then let the exception go on."""
    try:
        yield
    except BaseException:
        session.gate.cleaning = True
        with contextlib.suppress(Exception):  # the cleanup's own failure must not hide why the run ended
            empty(session)
        raise

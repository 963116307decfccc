"""Serves one zoo variant in a process of its own, so its patches never reach the fuzzer's model.

``python -m tests.fuzz.zoo_server NAME`` (a zoo variant, or a spec mutant of
``spec_mutants.py``) prints the server's URL, then serves
until its standard input closes; :func:`variant_server` starts and stops it.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager

from tests.support import served


def variant_server(name: str) -> AbstractContextManager[str]:
    """The URL of a server broken as the zoo's ``name`` (a nightly server's, or a spec mutant's) says;
    ``correct``: not broken."""
    return served("tests.fuzz.zoo_server", name)


def main(name: str) -> None:
    from tests.fuzz.spec_mutants import serve_mutant
    from tests.fuzz.zoo import NIGHTLY, ZOO, recording
    from tests.server.live import live_server
    from validator.server.ratelimit import parse_rate

    wrap, rate = None, None
    if name.startswith("/"):  # a spec mutant, named by where its constraint was
        serve_mutant(name)
    elif name in NIGHTLY:
        nightly = NIGHTLY[name]
        inner = nightly.breaks()
        wrap = recording if inner is None else lambda app: recording(inner(app))
        rate = parse_rate(nightly.rate_limit) if nightly.rate_limit else None
    elif name != "correct":
        wrap = ZOO[name].breaks()
    with live_server(wrap=wrap, rate_limit=rate) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the test closes the pipe


if __name__ == "__main__":
    main(sys.argv[1])

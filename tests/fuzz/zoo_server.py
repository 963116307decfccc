"""Serves one zoo variant in a process of its own, so its patches never reach the fuzzer's model.

``python -m tests.fuzz.zoo_server NAME`` (a zoo variant, or a spec mutant of
``spec_mutants.py``) prints the server's URL, then serves
until its standard input closes; :func:`variant_server` starts and stops it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support import REPOSITORY


@contextmanager
def variant_server(name: str) -> Iterator[str]:
    """The URL of a server broken as the zoo's ``name`` (or a spec mutant's) says; ``correct``: not broken."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz.zoo_server", name],
        cwd=REPOSITORY, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the {name} server did not start")
        yield url
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def main(name: str) -> None:
    from tests.fuzz.spec_mutants import serve_mutant
    from tests.fuzz.zoo import ZOO
    from tests.server.live import live_server

    wrap = None
    if name.startswith("/"):  # a spec mutant, named by where its constraint was
        serve_mutant(name)
    elif name != "correct":
        wrap = ZOO[name].breaks()
    with live_server(wrap=wrap) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the test closes the pipe


if __name__ == "__main__":
    main(sys.argv[1])

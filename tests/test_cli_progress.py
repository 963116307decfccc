"""How the fuzz command shows a run: one status line in place on a terminal, plain lines in a log."""

from __future__ import annotations

import io
import time

from validator.cli_progress import FuzzDisplay


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_findings_and_phases_as_lines() -> None:
    stream = io.StringIO()
    with FuzzDisplay(stream) as display:
        display.progress.enter("sweep", "sweep: every constraint")
        display.progress.violation("sweep:x", "POST /: answered 201, expected 400")
        display.progress.tally.answer("GET", "http://h/api/v2/projects/p/release-policies", 200)
        status = display.status()
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "sweep: every constraint",
        "VIOLATION sweep:x: POST /: answered 201, expected 400",
    ]
    assert "\r" not in stream.getvalue()
    assert " sweep | 1 request | coverage 1/" in status
    assert status.endswith("| 1 violation | 0 s left")


def test_a_terminal_gets_one_status_line_redrawn_in_place() -> None:
    stream = _Terminal()
    with FuzzDisplay(stream) as display:
        display.progress.enter("oracle", "oracle: sequences")
        deadline = time.monotonic() + 30
        while stream.getvalue().count("\r\x1b[K") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the status line has been drawn a few times
        display.progress.found("oracle:ranks", "b.rank is 2, expected 1")
    text = stream.getvalue()
    assert text.count("oracle | ") >= 2  # redrawn, not appended
    assert "\n" not in text.split("VIOLATION")[0].split("oracle: sequences\n", 1)[1]  # no status lines kept
    assert "VIOLATION oracle:ranks: b.rank is 2, expected 1\n" in text
    assert text.endswith("\r\x1b[K") or text.endswith("\n")  # the status line is wiped at the end

"""How ``release-policy fuzz`` shows a run as it goes, on standard error.

On a terminal: one status line redrawn in place (phase, requests so far,
coverage so far, violations so far, time left), with each violation printed
above it the moment it is found. Otherwise (CI logs): the phases and the
violations as lines, and the status line once every ``HEARTBEAT`` seconds, so
a log shows the run is alive without a line per request.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TextIO

from validator import spec
from validator.counts import counted
from validator.fuzz.progress import Progress

#: How often a log (not a terminal) gets the status line.
HEARTBEAT = 15.0
_REDRAW = 0.5


class FuzzDisplay:
    """Draws a :class:`Progress`; use as a context manager around the run."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.progress = Progress(note=self.note, found=self.found)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._drawn = False
        self._ticker = threading.Thread(target=self._tick, name="fuzz-status", daemon=True)

    def __enter__(self) -> FuzzDisplay:
        self._ticker.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        with self._lock:
            self._clear()

    def _elapsed(self) -> str:
        return f"[{time.monotonic() - self.progress.started:5.1f}s]"

    def status(self) -> str:
        progress = self.progress
        coverage = progress.coverage(spec.bundled())
        goals = (*coverage.statuses, *coverage.constraints, *coverage.rules)
        reached = sum(1 for goal in goals if goal[-1])
        left = max(progress.deadline - time.monotonic(), 0.0) if progress.deadline else 0.0
        return (
            f"{self._elapsed()} {progress.phase} | {counted(progress.tally.requests, 'request')}"
            f" | coverage {reached}/{len(goals)} | {counted(progress.violations, 'violation')}"
            f" | {left:.0f} s left"
        )

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def _line(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.stream.write(f"{text}\n")
            self.stream.flush()

    def note(self, line: str) -> None:
        self._line(f"{self._elapsed()} {line}")

    def found(self, check: str, message: str) -> None:
        self._line(f"{self._elapsed()} VIOLATION {check}: {message}")

    def _tick(self) -> None:
        every = _REDRAW if self.terminal else HEARTBEAT
        while not self._stop.wait(every):
            text = self.status()
            if not self.terminal:
                self._line(text)
                continue
            with self._lock:
                self.stream.write("\r\x1b[K" + text)
                self.stream.flush()
                self._drawn = True

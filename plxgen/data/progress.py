"""A progress bar for long conversions: redrawn in place on a terminal, a line now and then otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

_BAR_WIDTH = 30
_TTY_INTERVAL = 0.1  # seconds between redraws on a terminal
_LOG_INTERVAL = 10.0  # seconds between lines in a log file


class Progress:
    """Count examples against a known total and show it on stream (or nowhere)."""

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._tty = bool(stream is not None and stream.isatty())
        self._interval = _TTY_INTERVAL if self._tty else _LOG_INTERVAL
        self._shown_at = self._start
        self._drawn = False

    def advance(self, count: int) -> None:
        """Record count more examples; redraw when the throttle allows."""
        self.done += count
        now = self._clock()
        if self._stream is not None and now - self._shown_at >= self._interval:
            self._shown_at = now
            self._show(now)

    def rate(self) -> float:
        """Examples per second so far."""
        elapsed = self._clock() - self._start
        return self.done / elapsed if elapsed > 0 else 0.0

    def _show(self, now: float) -> None:
        assert self._stream is not None
        share = self.done / self.total if self.total else 1.0
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        counts = f"{self.done}/{self.total} examples, {rate:,.0f}/s"
        if self._tty:
            filled = int(_BAR_WIDTH * share)
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            self._stream.write(f"\r{self.label} [{bar}] {share:4.0%} {counts}")
            self._drawn = True
        else:
            self._stream.write(f"{self.label}: {share:.0%} ({counts})\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line and print the summary."""
        if self._stream is None:
            return
        if self._drawn:
            self._stream.write("\r\x1b[K")
        elapsed = self._clock() - self._start
        rate = f", {self.done / elapsed:,.0f} examples/s" if elapsed > 0 else ""
        self._stream.write(
            f"{self.label}: {self.done} examples in {elapsed:.1f} s{rate}\n"
        )
        self._stream.flush()

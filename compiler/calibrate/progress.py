"""A plain-text progress bar on stderr, updated in place with carriage returns."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, prefix: str = "perf-calibrate", stream: TextIO | None = None,
                 enabled: bool = True, width: int = 24):
        self.total, self.done, self.prefix = max(1, total), 0, prefix
        self.stream = stream or sys.stderr
        self.enabled, self.width = enabled, width
        self.start = time.monotonic()
        self._last_len = 0

    def _write(self, text: str) -> None:
        pad = max(0, self._last_len - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._last_len = len(text)

    def show(self, label: str) -> None:
        """Redraw the bar with `label` as the step now running."""
        if not self.enabled:
            return
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.start
        self._write(f"{self.prefix} [{bar}] {self.done}/{self.total} {elapsed:5.0f}s {label[:48]}")

    def step(self, label: str = "") -> None:
        self.done = min(self.total, self.done + 1)
        self.show(label)

    def note(self, message: str) -> None:
        """A message on its own line; the bar is redrawn after it."""
        if not self.enabled:
            return
        self._write("")
        self.stream.write("\r" + message + "\n")
        self._last_len = 0

    def finish(self, label: str = "done") -> None:
        if not self.enabled:
            return
        self.done = self.total
        self.show(label)
        self.stream.write("\n")
        self.stream.flush()

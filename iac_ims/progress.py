"""A progress line on stderr for scans that take more than about a second, on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import Any

DELAY_S = 1.0
INTERVAL_S = 0.2


class Progress:
    def __init__(self, enabled: bool = True, stream: Any = None):
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def tick(self, read: int, parsed: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < DELAY_S or now - self.last < INTERVAL_S:
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\riac-ims: {read} files read, {parsed} parsed")
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()

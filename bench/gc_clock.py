"""The time the cyclic garbage collector takes while a measured step runs (for the bench
workers' step-by-step timings): a context manager that sums each collection's time."""

from __future__ import annotations

import gc
import time
from types import TracebackType


class GcClock:
    """``with GcClock() as clock: ...`` then ``clock.seconds``: the collector's share."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        gc.callbacks.remove(self._on_gc)

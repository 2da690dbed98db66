"""Call quotas of the emulated marketplaces: token buckets and call counters.

Each operation has the rate and burst its marketplace publishes (requests per second, and
the bucket size), read from the one table the connectors keep to (:mod:`connectors.limits`).
Etsy counts all calls of an API key together, per second and per day, so its operations
share one bucket (``*``). A ``factor`` scales every rate (and daily limit) so that tests and
benchmarks can run fast without losing the behaviour: over quota, a call is refused with the
time until the next token.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from connectors.limits import QUOTAS, Limit

__all__ = ["Buckets", "TakeResult"]


@dataclass(frozen=True, slots=True)
class TakeResult:
    ok: bool
    retry_after: float  # seconds until a token is there (0 when ok)
    remaining_second: int
    remaining_day: int | None
    limit_second: int
    limit_day: int | None


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    day_used: int = 0
    day_start: float = 0.0


class Buckets:
    """Token buckets per (account, operation), refilled from a clock (injectable)."""

    def __init__(
        self,
        marketplace: str,
        *,
        factor: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        table: dict[tuple[str, str], Limit] | None = None,
    ) -> None:
        self.marketplace = marketplace
        self.factor = factor
        self.clock = clock
        self.table = table if table is not None else QUOTAS
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()

    def quota(self, operation: str) -> tuple[str, Limit]:
        """The bucket name and quota an operation draws from."""
        if (self.marketplace, operation) in self.table:
            return operation, self.table[(self.marketplace, operation)]
        return "*", self.table[(self.marketplace, "*")]

    def take(self, account: str, operation: str) -> TakeResult:
        """Count the call and take a token for it, or say how long to wait."""
        name, quota = self.quota(operation)
        rate = quota.rate * self.factor
        per_day = math.ceil(quota.per_day * self.factor) if quota.per_day else None
        now = self.clock()
        with self._lock:
            self.calls[operation] += 1
            bucket = self._buckets.get((account, name))
            if bucket is None:
                bucket = self._buckets[(account, name)] = _Bucket(quota.burst, now, 0, now)
            bucket.tokens = min(quota.burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if now - bucket.day_start >= 86_400 / self.factor:
                bucket.day_used, bucket.day_start = 0, now
            day_left = None if per_day is None else per_day - bucket.day_used
            if day_left is not None and day_left <= 0:
                self.throttled[operation] += 1
                wait = 86_400 / self.factor - (now - bucket.day_start)
                return TakeResult(False, wait, int(bucket.tokens), 0, quota.burst, per_day)
            if bucket.tokens < 1:
                self.throttled[operation] += 1
                wait = (1 - bucket.tokens) / rate
                return TakeResult(False, wait, 0, day_left, quota.burst, per_day)
            bucket.tokens -= 1
            bucket.day_used += 1
            return TakeResult(
                True,
                0.0,
                int(bucket.tokens),
                None if per_day is None else per_day - bucket.day_used,
                quota.burst,
                per_day,
            )

    def counters(self) -> dict[str, dict[str, int]]:
        with self._lock:
            ops = sorted(set(self.calls) | set(self.throttled))
            return {op: {"calls": self.calls[op], "throttled": self.throttled[op]} for op in ops}

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.calls.clear()
            self.throttled.clear()

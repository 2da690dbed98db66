"""Quotas as token buckets per (account, bucket), kept in the store.

Marketplaces publish their limits as token buckets: Amazon per operation and seller (a rate
and a burst: ``putListingsItem`` 5 a second, burst 10), Etsy per API key for all operations
(10 a second and 10,000 a day). A :class:`StoreQuota` holds the buckets of one account in
the state store, so that a restart does not burst past a limit the last run used up and
several workers on one database share one seller's quota. Each acquire is one short write
transaction (``BEGIN IMMEDIATE`` on SQLite, a row lock on PostgreSQL); the waiting happens
outside it.

Why not pyrate-limiter's SQLite bucket: it counts a sliding window of calls, which cannot
express a burst that refills at a steady rate (Amazon's model), and it opens its own
connection beside the store's transactions and migrations. A token bucket is twenty lines
of portable SQL here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, select, update
from sqlalchemy.engine import Connection

from syndicator.domain.quotas import LONG_WINDOW, QuotaRule
from syndicator.errors import QuotaWait
from syndicator.store.db import Store
from syndicator.store.schema import quota_buckets
from syndicator.store.sql import upsert

__all__ = ["QuotaUsage", "StoreQuota", "quota_usage"]

EPSILON = 1e-6  # tokens: float noise is not a missing token
MIN_WAIT = 0.001  # seconds


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    account: str
    bucket: str
    tokens: float
    burst: int | None
    calls_today: int
    throttled_today: int


class StoreQuota:
    """The buckets of one ``account`` (``amazon:A2SANDBOXATLAS``, ``etsy:key``).

    ``rules`` maps an operation to the buckets it draws from; ``"*"`` is the default for
    operations not named. ``max_wait`` bounds one acquire: past it,
    :class:`~syndicator.errors.QuotaWait` (the runner then leaves the rest of the batch for
    the next pass). ``on_throttled`` is told the operation of each 429 (:meth:`penalize`),
    for the daemon's metrics.
    """

    def __init__(
        self,
        store: Store,
        account: str,
        rules: Mapping[str, Sequence[QuotaRule]],
        *,
        max_wait: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_throttled: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.account = account
        self.rules = rules
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.on_throttled = on_throttled

    def _rules(self, operation: str) -> Sequence[QuotaRule]:
        return self.rules.get(operation, self.rules.get("*", ()))

    def acquire(self, operation: str, weight: int = 1) -> float:
        rules = self._rules(operation)
        waited = 0.0
        while True:
            with self.store.write() as conn:
                wait = self._take(conn, rules, weight)
            if wait <= 0:
                return waited
            if waited + wait > self.max_wait:
                raise QuotaWait(
                    f"quota {self.account} {operation}: the next call is {wait:.0f} s away, "
                    f"past the {self.max_wait:.0f} s a call may wait"
                )
            self.sleep(wait)
            waited += wait

    def _take(self, conn: Connection, rules: Sequence[QuotaRule], weight: int) -> float:
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        rows = {
            r.bucket: r
            for r in conn.execute(
                select(quota_buckets).where(
                    quota_buckets.c.account == self.account,
                    quota_buckets.c.bucket.in_([rule.bucket for rule in rules]),
                )
            )
        }
        states = []
        wait = 0.0
        for rule in rules:
            row = rows.get(rule.bucket)
            if row is None:
                tokens, blocked, calls, throttled, row_day = float(rule.burst), 0.0, 0, 0, day
            else:
                tokens = rule.refilled(row.tokens, row.updated_at, now)
                blocked, calls, throttled = row.blocked_until, row.calls_today, row.throttled_today
                row_day = row.day
            if row_day != day:
                calls, throttled = 0, 0
            need = min(weight, rule.burst)
            if blocked > now:
                wait = max(wait, blocked - now, MIN_WAIT)
            elif tokens + EPSILON < need:
                # Never below MIN_WAIT: epoch seconds (~1.8e9) have a resolution of about
                # 2e-7 s, and a shorter sleep could leave the clock where it was.
                wait = max(wait, (need - tokens) / rule.rate, MIN_WAIT)
            states.append((rule, tokens, blocked, calls, throttled))
        if wait > 0:
            return wait
        upsert(
            conn,
            quota_buckets,
            [
                {
                    "account": self.account,
                    "bucket": rule.bucket,
                    "tokens": max(0.0, tokens - min(weight, rule.burst)),
                    "updated_at": now,
                    "blocked_until": blocked,
                    "day": day,
                    "calls_today": calls + weight,
                    "throttled_today": throttled,
                }
                for rule, tokens, blocked, calls, throttled in states
            ],
            ("account", "bucket"),
        )
        return 0.0

    def penalize(self, operation: str, retry_after: float | None) -> None:
        """The channel answered 429: its bucket is empty whatever ours says. Block ours for
        ``retry_after`` seconds (or one token's time), then let one call go and refill at
        the rate from there. A bucket over a long window (a daily limit) is blocked but not
        emptied: a 429 says the short-term limit was hit, not that the day is spent."""
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        with self.store.write() as conn:
            for rule in self._rules(operation):
                hold = retry_after if retry_after is not None else 1.0 / rule.rate
                until = now + max(0.0, hold)
                long_window = rule.burst / rule.rate > LONG_WINDOW
                c = quota_buckets.c
                values: dict[str, object] = {
                    "blocked_until": until,
                    # The first 429 of a new day starts the day's count (and its calls).
                    "throttled_today": case((c.day == day, c.throttled_today + 1), else_=1),
                    "calls_today": case((c.day == day, c.calls_today), else_=0),
                    "day": day,
                }
                if not long_window:
                    values.update(tokens=1.0, updated_at=until)  # one call, then the rate
                result = conn.execute(
                    update(quota_buckets)
                    .where(
                        quota_buckets.c.account == self.account,
                        quota_buckets.c.bucket == rule.bucket,
                    )
                    .values(**values)
                )
                if result.rowcount == 0:
                    row = {
                        "account": self.account,
                        "bucket": rule.bucket,
                        "tokens": float(rule.burst) if long_window else 1.0,
                        "updated_at": now if long_window else until,
                        "blocked_until": until,
                        "day": day,
                        "calls_today": 0,
                        "throttled_today": 1,
                    }
                    upsert(conn, quota_buckets, [row], ("account", "bucket"))
        if self.on_throttled is not None:
            self.on_throttled(operation)


def quota_usage(conn: Connection, account_prefix: str = "") -> list[QuotaUsage]:
    """Today's calls and throttles per bucket (for status and metrics)."""
    today = datetime.now(UTC).date().isoformat()
    out = []
    for row in conn.execute(
        select(quota_buckets)
        .where(quota_buckets.c.account.startswith(account_prefix))
        .order_by(quota_buckets.c.account, quota_buckets.c.bucket)
    ):
        same_day = row.day == today
        out.append(
            QuotaUsage(
                row.account,
                row.bucket,
                row.tokens,
                None,
                row.calls_today if same_day else 0,
                row.throttled_today if same_day else 0,
            )
        )
    return out

"""What the daemon's HTTP endpoint reads from the store: the aggregates of a ``/metrics``
scrape and the query ``/readyz`` asks.

Aggregate queries only (no loop over the rows of a big table), portable SQL, and nothing
written: a quota bucket's level is worked out in Python from its stored level
(:meth:`BucketState.level`), as :class:`~syndicator.store.quota.StoreQuota` refills it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from syndicator.domain.quotas import QuotaRule
from syndicator.store.schema import journal, orders, quota_buckets, stock_counts, stock_ledger

__all__ = [
    "BucketState",
    "JournalKey",
    "journal_counts",
    "journal_settled_up_to",
    "orders_by_status",
    "oversold_skus",
    "ping",
    "quota_buckets_of",
]

JournalKey = tuple[str, str, str, str]  # (cooperative, channel, action, outcome)


def ping(conn: Connection) -> None:
    """Ask the store the simplest question: raises when it does not answer."""
    conn.execute(select(1)).scalar_one()


# --------------------------------------------------------------------------- the journal
def journal_settled_up_to(conn: Connection, after: int, before: datetime) -> int | None:
    """The highest journal id above ``after`` of a row written before ``before`` (None:
    no such row)."""
    j = journal.c
    top: int | None = conn.execute(
        select(func.max(j.id)).where(j.id > after, j.at < before)
    ).scalar_one()
    return top


def journal_counts(
    conn: Connection, after: int, up_to: int | None = None
) -> list[tuple[JournalKey, int]]:
    """Journal rows with an id above ``after`` (and up to ``up_to``), counted by
    (cooperative, channel, action, outcome)."""
    j = journal.c
    # Grouped action first: grouped by cooperative first, SQLite would walk the whole
    # (cooperative, channel, at) index for the order instead of the id range.
    keys = (j.action, j.outcome, j.cooperative, j.channel)
    query = select(*keys, func.count()).where(j.id > after)
    if up_to is not None:
        query = query.where(j.id <= up_to)
    rows = conn.execute(query.group_by(*keys)).all()
    return [((coop, channel, action, outcome), n) for action, outcome, coop, channel, n in rows]


# --------------------------------------------------------------------------- quotas
@dataclass(frozen=True, slots=True)
class BucketState:
    """A quota bucket as stored: its level at its last call, how long a 429 blocks it,
    and the calls and 429s of its UTC ``day``."""

    tokens: float
    updated_at: float  # Unix time of the level
    blocked_until: float  # Unix time
    day: str | None
    calls_today: int
    throttled_today: int

    def level(self, rule: QuotaRule, now: float) -> tuple[float, float]:
        """(calls it allows at ``now``, seconds it stays blocked): refilled at the rule's
        rate since its last call, empty while a 429 blocks it."""
        level = rule.refilled(self.tokens, self.updated_at, now)
        wait = max(0.0, self.blocked_until - now)
        return (0.0 if wait > 0 else level), wait


def quota_buckets_of(
    conn: Connection, accounts: Iterable[str]
) -> dict[tuple[str, str], BucketState]:
    """The stored buckets of ``accounts``, by (account, bucket)."""
    q = quota_buckets.c
    state = [q[f.name] for f in fields(BucketState)]  # its columns, by the same names
    query = select(q.account, q.bucket, *state).where(q.account.in_(sorted(set(accounts))))
    return {(account, bucket): BucketState(*row) for account, bucket, *row in conn.execute(query)}


# --------------------------------------------------------------------------- orders, stock
def orders_by_status(conn: Connection) -> list[tuple[str, str, str, int]]:
    """(cooperative, channel, status, orders) for each status an order is stored in."""
    o = orders.c
    keys = (o.cooperative, o.channel, o.status)
    rows = conn.execute(select(*keys, func.count()).group_by(*keys))
    return [(coop, channel, status, n) for coop, channel, status, n in rows]


def oversold_skus(conn: Connection) -> dict[str, int]:
    """SKUs sold past their last stock count (count + sales and cancellations since < 0),
    per cooperative that has any: the ledger's own view, as of the counts the last pass
    recorded."""
    s, led = stock_counts.c, stock_ledger.c
    per_sku = (
        select(s.cooperative, s.sku)
        .join(
            stock_ledger,
            and_(
                led.cooperative == s.cooperative,
                led.sku == s.sku,
                led.occurred_at >= s.counted_at,
            ),
        )
        .group_by(s.cooperative, s.sku, s.count)
        .having(s.count + func.sum(led.delta) < 0)
        .subquery()
    )
    query = select(per_sku.c.cooperative, func.count()).group_by(per_sku.c.cooperative)
    return {coop: n for coop, n in conn.execute(query)}

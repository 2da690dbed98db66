"""Reading and writing the store: small functions over a Connection, portable SQL only.

Upserts use ``INSERT ... ON CONFLICT DO UPDATE``, which SQLite and PostgreSQL both have;
the statement is built with the dialect's own ``insert`` so no SQL text is dialect-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from syndicator.store.schema import listings, stock_counts, stock_ledger

__all__ = [
    "ListingState",
    "StockCount",
    "ledger_sums",
    "load_listings",
    "load_stock_counts",
    "save_listings",
    "save_stock_counts",
    "upsert",
]


_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Iterable[str]) -> None:
    """Insert rows, or update the existing ones with the same ``keys``."""
    if not rows:
        return
    insert = _INSERTS.get(conn.dialect.name)
    if insert is None:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(f"upsert on {conn.dialect.name}")
    key_list = list(keys)
    stmt = insert(table)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in key_list}
    conn.execute(stmt.on_conflict_do_update(index_elements=key_list, set_=update), rows)


@dataclass(frozen=True, slots=True)
class ListingState:
    """What a channel was last confirmed to show for one SKU."""

    sku: str
    status: str
    parent_sku: str | None = None
    remote_id: str | None = None
    fingerprint: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    language: str | None = None
    input_key: str | None = None
    last_error: str | None = None
    confirmed_at: datetime | None = None

    @property
    def listed(self) -> bool:
        """Present on the channel (even at quantity 0), as opposed to never or no longer."""
        return self.status in ("active", "inactive") or (
            self.status in ("failed", "pending") and self.remote_id is not None
        )


_LISTING_COLUMNS = (
    "sku", "status", "parent_sku", "remote_id", "fingerprint", "price", "currency", "quantity",
    "language", "input_key", "last_error", "confirmed_at",
)  # fmt: skip
# What planning needs: the leading fields of ListingState, without the timestamps.
_PLAN_COLUMNS = _LISTING_COLUMNS[:10]


def load_listings(conn: Connection, cooperative: str, channel: str) -> dict[str, ListingState]:
    """What each SKU of a channel was last confirmed to show (without error and timestamps,
    which planning does not need)."""
    cols = [listings.c[name] for name in _PLAN_COLUMNS]
    rows = conn.execute(
        select(*cols).where(listings.c.cooperative == cooperative, listings.c.channel == channel)
    ).all()
    return {row[0]: ListingState(*row) for row in rows}


def save_listings(
    conn: Connection,
    cooperative: str,
    channel: str,
    states: Iterable[ListingState],
    now: datetime,
) -> None:
    rows = [
        {"cooperative": cooperative, "channel": channel, "updated_at": now}
        | {name: getattr(s, name) for name in _LISTING_COLUMNS}
        for s in states
    ]
    upsert(conn, listings, rows, ("cooperative", "channel", "sku"))


@dataclass(frozen=True, slots=True)
class StockCount:
    count: int
    counted_at: datetime


def load_stock_counts(conn: Connection, cooperative: str) -> dict[str, StockCount]:
    rows = conn.execute(
        select(stock_counts.c.sku, stock_counts.c.count, stock_counts.c.counted_at).where(
            stock_counts.c.cooperative == cooperative
        )
    )
    return {sku: StockCount(count, at) for sku, count, at in rows}


def save_stock_counts(conn: Connection, cooperative: str, counts: Mapping[str, StockCount]) -> None:
    rows = [
        {"cooperative": cooperative, "sku": sku, "count": c.count, "counted_at": c.counted_at}
        for sku, c in counts.items()
    ]
    upsert(conn, stock_counts, rows, ("cooperative", "sku"))


def ledger_sums(
    conn: Connection, cooperative: str, since: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Stock changes per SKU: after each SKU's stored count, and after ``since``.

    The first applies to SKUs whose count has not changed in the catalog; the second to
    SKUs counted anew when the catalog file was saved at ``since``.
    """
    after_count = conn.execute(
        select(stock_ledger.c.sku, func.sum(stock_ledger.c.delta))
        .join(
            stock_counts,
            (stock_counts.c.cooperative == stock_ledger.c.cooperative)
            & (stock_counts.c.sku == stock_ledger.c.sku),
        )
        .where(
            stock_ledger.c.cooperative == cooperative,
            stock_ledger.c.occurred_at > stock_counts.c.counted_at,
        )
        .group_by(stock_ledger.c.sku)
    )
    after_since = conn.execute(
        select(stock_ledger.c.sku, func.sum(stock_ledger.c.delta))
        .where(stock_ledger.c.cooperative == cooperative, stock_ledger.c.occurred_at > since)
        .group_by(stock_ledger.c.sku)
    )
    return (
        {sku: int(total) for sku, total in after_count},
        {sku: int(total) for sku, total in after_since},
    )

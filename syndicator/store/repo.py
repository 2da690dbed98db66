"""Reading and writing the store: small functions over a Connection, portable SQL only.

Upserts use ``INSERT ... ON CONFLICT DO UPDATE``, which SQLite and PostgreSQL both have;
the statement is built with the dialect's own ``insert`` so no SQL text is dialect-specific.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from syndicator.domain.listings import LISTED, LISTED_IF_REMOTE, ListingState
from syndicator.domain.stock import StockCount
from syndicator.store.schema import listings, stock_counts, stock_ledger

__all__ = [
    "ledger_sums",
    "load_listings",
    "load_stock_counts",
    "rekey_listings",
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
    changed = {c: stmt.excluded[c] for c in rows[0] if c not in key_list}
    conn.execute(stmt.on_conflict_do_update(index_elements=key_list, set_=changed), rows)


_LISTING_COLUMNS = (
    "sku", "status", "parent_sku", "remote_id", "fingerprint", "price", "currency", "quantity",
    "language", "input_key", "last_error", "confirmed_at",
)  # fmt: skip
# What planning needs: the leading fields of ListingState, without the timestamps.
_PLAN_COLUMNS = _LISTING_COLUMNS[:10]


def load_listings(
    conn: Connection, cooperative: str, channel: str, skus: Collection[str] | None = None
) -> dict[str, ListingState]:
    """What each SKU of a channel was last confirmed to show (without error and timestamps,
    which planning does not need); only ``skus`` when given."""
    cols = [listings.c[name] for name in _PLAN_COLUMNS]
    query = select(*cols).where(
        listings.c.cooperative == cooperative, listings.c.channel == channel
    )
    if skus is None:
        return {row[0]: ListingState(*row) for row in conn.execute(query)}
    wanted = sorted(skus)
    out: dict[str, ListingState] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in conn.execute(query.where(listings.c.sku.in_(chunk))):
            out[row[0]] = ListingState(*row)
    return out


_CHUNK = 500  # SKUs per IN (...): well under every database's limit on parameters


def _listed(t: Any) -> Any:
    """The SQL condition of :attr:`ListingState.listed` on listings table (or alias) ``t``."""
    return t.c.status.in_(LISTED) | (t.c.status.in_(LISTED_IF_REMOTE) & t.c.remote_id.is_not(None))


def confirmed_unit_keys(
    conn: Connection, cooperative: str, channels: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """SKU -> the unit key (see :func:`syndicator.planning.projection.unit_key`) that every channel
    of ``channels`` (channel id, input-key prefix) confirmed its listing with, for the SKUs
    listed on all of them with keys that agree. One query, one row per such SKU."""
    if not channels:
        return {}
    tables = [listings.alias(f"l{i}") for i in range(len(channels))]
    first = tables[0]
    n0 = len(channels[0][1])
    unit = func.substr(first.c.input_key, n0 + 1)
    query = select(first.c.sku, unit)
    conditions = []
    for t, (channel, prefix) in zip(tables, channels, strict=True):
        conditions += [
            t.c.cooperative == cooperative,
            t.c.channel == channel,
            _listed(t),
            func.substr(t.c.input_key, 1, len(prefix)) == prefix,
        ]
        if t is not first:
            query = query.join(t, t.c.sku == first.c.sku)
            conditions.append(func.substr(t.c.input_key, len(prefix) + 1) == unit)
    return {row[0]: row[1] for row in conn.execute(query.where(*conditions)).all()}


def rekey_listings(
    conn: Connection,
    cooperative: str,
    channel: str,
    keys: Mapping[str, tuple[str, str]],
    now: datetime,
) -> int:
    """Record new input keys for listings whose projection came out as they were confirmed
    (``keys``: SKU -> (input key, fingerprint)): after a new version, a new rate or a sale
    that leaves what the channel shows as it is, the next plan then skips them unchecked
    instead of working them out again each time. Only a listing confirmed on the channel
    with that very fingerprint is touched. Returns how many were."""
    if not keys:
        return 0
    c = listings.c
    query = (
        update(listings)
        .where(
            c.cooperative == cooperative,
            c.channel == channel,
            c.sku == bindparam("b_sku"),
            c.fingerprint == bindparam("b_fingerprint"),
            # confirmed on the channel, nothing in flight (no IN: this runs as executemany)
            or_(*(c.status == status for status in sorted(LISTED))),
        )
        .values(input_key=bindparam("b_key"), updated_at=now)
    )
    rows = [{"b_sku": s, "b_key": k, "b_fingerprint": f} for s, (k, f) in keys.items()]
    return int(conn.execute(query, rows).rowcount or 0)


def listed_count(conn: Connection, cooperative: str, channel: str) -> int:
    """How many SKUs the channel shows (as :attr:`ListingState.listed` says)."""
    query = (
        select(func.count())
        .select_from(listings)
        .where(listings.c.cooperative == cooperative, listings.c.channel == channel)
        .where(_listed(listings))
    )
    return int(conn.execute(query).scalar_one())


def listed_skus(conn: Connection, cooperative: str, channel: str) -> list[str]:
    """The SKUs the channel shows."""
    c = listings.c
    query = select(c.sku).where(c.cooperative == cooperative, c.channel == channel)
    return [row[0] for row in conn.execute(query.where(_listed(listings))).all()]


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


def load_stock_counts(
    conn: Connection, cooperative: str, skus: Collection[str] | None = None
) -> dict[str, StockCount]:
    """The stored counts of a cooperative's SKUs (only ``skus`` when given)."""
    c = stock_counts.c
    query = select(c.sku, c.count, c.counted_at).where(c.cooperative == cooperative)
    if skus is None:
        return {sku: StockCount(count, at) for sku, count, at in conn.execute(query)}
    out: dict[str, StockCount] = {}
    wanted = sorted(skus)
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(query.where(c.sku.in_(wanted[start : start + _CHUNK])))
        out.update((sku, StockCount(count, at)) for sku, count, at in rows)
    return out


def stock_count_values(conn: Connection, cooperative: str) -> dict[str, int]:
    """Just the stored count of each SKU, without its date (cheap, for skipping)."""
    c = stock_counts.c
    query = select(c.sku, c.count).where(c.cooperative == cooperative)
    return {row[0]: row[1] for row in conn.execute(query).all()}


def save_stock_counts(conn: Connection, cooperative: str, counts: Mapping[str, StockCount]) -> None:
    rows = [
        {"cooperative": cooperative, "sku": sku, "count": c.count, "counted_at": c.counted_at}
        for sku, c in counts.items()
    ]
    upsert(conn, stock_counts, rows, ("cooperative", "sku"))


def ledger_sums(
    conn: Connection, cooperative: str, since: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Stock changes per SKU: after each SKU's stored count, and after ``since`` ("after"
    includes the same instant: counts are dated to the whole second, as shops date orders).

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
            stock_ledger.c.occurred_at >= stock_counts.c.counted_at,
        )
        .group_by(stock_ledger.c.sku)
    )
    after_since = conn.execute(
        select(stock_ledger.c.sku, func.sum(stock_ledger.c.delta))
        .where(stock_ledger.c.cooperative == cooperative, stock_ledger.c.occurred_at >= since)
        .group_by(stock_ledger.c.sku)
    )
    return (
        {sku: int(total) for sku, total in after_count},
        {sku: int(total) for sku, total in after_since},
    )

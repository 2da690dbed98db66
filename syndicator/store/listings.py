"""Listing states: what each channel was last confirmed to show, what is in flight, what failed."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from syndicator.domain.listings import LISTED, LISTED_IF_REMOTE, ListingState
from syndicator.store.schema import (
    listings,
)
from syndicator.store.sql import CHUNK, upsert

__all__ = [
    "all_listings",
    "confirmed_unit_keys",
    "listed_count",
    "listed_skus",
    "listing_attempts",
    "load_listings",
    "mark_drift",
    "mark_gone",
    "mark_pending",
    "mark_unsure",
    "mark_verified",
    "record_failure",
    "rekey_listings",
    "reset_attempts",
    "save_listings",
    "unverified",
]


_LISTING_COLUMNS = (
    "sku", "status", "parent_sku", "remote_id", "fingerprint", "price", "currency", "quantity",
    "language", "input_key", "last_error", "confirmed_at", "verified_at", "drift",
)  # fmt: skip


# What planning needs: the leading fields of ListingState, without the timestamps.
# What planning needs of a listing: no error text, no timestamps, but what a read-back
# found different (a listing left as the shop shows it is never "unchanged").
_PLAN_COLUMNS = (*_LISTING_COLUMNS[:10], "drift")


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
        return {row[0]: _plan_state(row) for row in conn.execute(query)}
    wanted = sorted(skus)
    out: dict[str, ListingState] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for row in conn.execute(query.where(listings.c.sku.in_(chunk))):
            out[row[0]] = _plan_state(row)
    return out


# What a listing's row forgets when the store no longer knows what the channel shows.
_UNKNOWN = ("input_key", "fingerprint", "price", "quantity", "verified_at", "drift")


def _plan_state(row: Any) -> ListingState:
    sku, status, parent, remote, fingerprint, price, currency, quantity, language, key, drift = row
    return ListingState(
        sku, status, parent, remote, fingerprint, price, currency, quantity, language, key,
        drift=drift,
    )  # fmt: skip


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


# --------------------------------------------------------------------------- listings
def listing_attempts(
    conn: Connection, cooperative: str, channel: str, skus: Sequence[str]
) -> dict[str, int]:
    """Failures since the last success, per SKU (absent: none)."""
    c = listings.c
    out: dict[str, int] = {}
    for start in range(0, len(skus), 500):
        chunk = list(skus[start : start + 500])
        query = select(c.sku, c.attempts).where(
            c.cooperative == cooperative, c.channel == channel, c.sku.in_(chunk), c.attempts > 0
        )
        out.update({row[0]: row[1] for row in conn.execute(query)})
    return out


def mark_pending(
    conn: Connection,
    cooperative: str,
    channel: str,
    creates: Sequence[tuple[str, str | None]],
    now: datetime,
) -> None:
    """Before a create is sent: the SKU is ``pending`` on the channel. A pass killed after
    the channel created the listing but before its answer was saved leaves this trace, and
    the next create of that SKU looks it up on the channel before creating."""
    c = listings.c
    for sku, parent in creates:
        found = conn.execute(
            select(c.id).where(c.cooperative == cooperative, c.channel == channel, c.sku == sku)
        ).first()
        if found is None:
            _insert(conn, cooperative, channel, sku, parent, now, status="pending", attempts=0)


def _insert(
    conn: Connection,
    cooperative: str,
    channel: str,
    sku: str,
    parent: str | None,
    now: datetime,
    **values: object,
) -> None:
    """A listing row the channel has not confirmed yet (pending or failed)."""
    conn.execute(
        listings.insert().values(
            cooperative=cooperative,
            channel=channel,
            sku=sku,
            parent_sku=parent,
            updated_at=now,
            **values,
        )
    )


def record_failure(
    conn: Connection,
    cooperative: str,
    channel: str,
    sku: str,
    parent: str | None,
    message: str,
    remote_id: str | None,
    now: datetime,
) -> int:
    """The channel refused or failed an operation on ``sku``: keep what it last confirmed,
    note its message, count the attempt. Returns the attempts so far."""
    c = listings.c
    where = (c.cooperative == cooperative, c.channel == channel, c.sku == sku)
    row = conn.execute(select(c.attempts, c.status, c.remote_id).where(*where)).first()
    if row is None:
        _insert(
            conn, cooperative, channel, sku, parent, now,
            status="failed", remote_id=remote_id, last_error=message, last_error_at=now,
            attempts=1,
        )  # fmt: skip
        return 1
    values: dict[str, Any] = {
        "last_error": message,
        "last_error_at": now,
        "attempts": row.attempts + 1,
        "updated_at": now,
    }
    if row.status == "pending":
        values["status"] = "failed"
    if remote_id and not row.remote_id:
        values["remote_id"] = remote_id
    conn.execute(update(listings).where(*where).values(**values))
    return int(row.attempts) + 1


def reset_attempts(conn: Connection, cooperative: str, channel: str, skus: Sequence[str]) -> None:
    """The channel confirmed these SKUs: no failure counts any more."""
    _update_skus(conn, cooperative, channel, skus, {"attempts": 0}, listings.c.attempts > 0)


def mark_unsure(
    conn: Connection, cooperative: str, channel: str, skus: Sequence[str], now: datetime
) -> None:
    """The store no longer knows what the channel shows for ``skus``: their input key,
    fingerprint, price and quantity are dropped, so the next plan works them out again and
    sends what the catalog says (every write is idempotent). Used before a change is sent (a
    pass killed after the channel applied it but before its answer was saved must not leave
    the store claiming the old state), and when the channel itself moved its stock (a sale or
    a cancellation on that channel changes its listed quantity without us)."""
    _update_skus(conn, cooperative, channel, skus, dict.fromkeys(_UNKNOWN) | {"updated_at": now})


def unverified(
    conn: Connection, cooperative: str, channel: str, most: int
) -> dict[str, ListingState]:
    """Up to ``most`` listings the channel confirmed that no read-back has seen since: what
    the end of a pass reads back. Taken in the order of the ``verified_at`` index (rows in
    the order they were stored), not sorted: a pass on a store where many wait (after an
    upgrade) must not sort them all to pick a few."""
    c = listings.c
    query = (
        select(*[c[name] for name in _PLAN_COLUMNS])
        .where(
            c.cooperative == cooperative,
            c.channel == channel,
            c.status.in_(LISTED),
            c.input_key.is_not(None),
            c.verified_at.is_(None),
            c.attempts == 0,
        )
        .limit(most)
    )
    return {row[0]: _plan_state(row) for row in conn.execute(query)}


def mark_verified(
    conn: Connection, cooperative: str, channel: str, skus: Sequence[str], now: datetime
) -> None:
    """A read-back found the channel showing what it confirmed for ``skus``: in sync. What
    plans compare with is unchanged (``updated_at`` neither: quiet marks hold)."""
    _update_skus(conn, cooperative, channel, skus, {"verified_at": now, "drift": None})


def mark_drift(
    conn: Connection, cooperative: str, channel: str, found: Mapping[str, str], now: datetime
) -> None:
    """A read-back found ``found`` (SKU -> what differs) and the shop keeps it as it is
    (``sync.drift: report``): never "in sync"; the plan works it out again (no input key)
    and holds it with this reason."""
    c = listings.c
    query = (
        update(listings)
        .where(c.cooperative == cooperative, c.channel == channel, c.sku == bindparam("b_sku"))
        .values(drift=bindparam("b_drift"), input_key=None, verified_at=None, updated_at=now)
    )
    if found:
        conn.execute(query, [{"b_sku": sku, "b_drift": why} for sku, why in found.items()])


def mark_gone(
    conn: Connection, cooperative: str, channel: str, skus: Sequence[str], now: datetime
) -> None:
    """A read-back found the channel no longer showing ``skus`` (deleted on the shop, a
    create answered but never applied, a listing left half-made): they are created again
    by the next plan, as pending creates (the connector looks each up before creating)."""
    values = dict.fromkeys(_UNKNOWN) | {"status": "pending", "remote_id": None, "updated_at": now}
    _update_skus(conn, cooperative, channel, skus, values)


def _update_skus(
    conn: Connection,
    cooperative: str,
    channel: str,
    skus: Sequence[str],
    values: Mapping[str, object],
    *where: Any,
) -> None:
    """Set ``values`` on the listings of ``skus`` (and ``where``), in chunks of 500."""
    c = listings.c
    for start in range(0, len(skus), 500):
        chunk = list(skus[start : start + 500])
        conn.execute(
            update(listings)
            .where(c.cooperative == cooperative, c.channel == channel, c.sku.in_(chunk), *where)
            .values(dict(values))
        )


def all_listings(conn: Connection) -> int:
    """How many listing rows the store holds, of every cooperative and channel."""
    return int(conn.execute(select(func.count()).select_from(listings)).scalar_one())

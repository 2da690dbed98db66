"""What a quiet mark is made of, read in a few aggregate queries, and the marks themselves.

A mark (see :mod:`syndicator.planning.marks`) sums up everything a plan of a channel depends
on in the store: the cooperative's ledger and stock counts and the channel's listings, each
by a few aggregates (rows, highest id or time, sums) that any write moves. An index covers
each query: no table scan. The marks are kept as cursors (streams ``quiet_plan`` and
``basis_plan``).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select

from syndicator.store.cursors import read_cursor
from syndicator.store.schema import cursors, listings, stock_counts, stock_ledger

__all__ = [
    "cooperative_part",
    "forget_mark",
    "ledger_end",
    "listing_part",
    "sold_since",
    "stored_mark",
]


def cooperative_part(
    conn: Connection, cooperative: str, ledger_upto: int | None = None
) -> tuple[object, ...]:
    """What every channel's mark of a cooperative shares: its ledger and stock counts.
    ``ledger_upto``: only the ledger's lines up to that id (what it was when it ended there;
    lines are only ever added)."""
    ledger = stock_ledger.c
    counts = stock_counts.c
    where = [ledger.cooperative == cooperative]
    if ledger_upto is not None:
        where.append(ledger.id <= ledger_upto)
    sales = conn.execute(
        select(func.count(), func.max(ledger.id), func.sum(ledger.delta)).where(*where)
    ).one()
    counted = conn.execute(
        select(func.count(), func.max(counts.counted_at), func.sum(counts.count)).where(
            counts.cooperative == cooperative
        )
    ).one()
    return (*sales, *counted)


def listing_part(conn: Connection, cooperative: str, channel: str) -> tuple[object, ...]:
    """What a channel's mark holds of its own listings."""
    listed = listings.c
    return tuple(
        conn.execute(
            select(func.count(), func.max(listed.updated_at), func.sum(listed.attempts)).where(
                listed.cooperative == cooperative, listed.channel == channel
            )
        ).one()
    )


def sold_since(conn: Connection, cooperative: str, ledger_id: int) -> set[str]:
    """The SKUs of the ledger's lines after ``ledger_id``."""
    ledger = stock_ledger.c
    query = select(ledger.sku).where(ledger.cooperative == cooperative, ledger.id > ledger_id)
    return {row[0] for row in conn.execute(query)}


def ledger_end(conn: Connection, cooperative: str) -> int:
    """The highest id of the cooperative's ledger lines (0: none)."""
    ledger = stock_ledger.c
    query = select(func.max(ledger.id)).where(ledger.cooperative == cooperative)
    return int(conn.execute(query).scalar_one() or 0)


def stored_mark(conn: Connection, cooperative: str, channel: str, stream: str) -> str | None:
    """The channel's mark as the last pass left it in ``stream`` (None: none)."""
    return read_cursor(conn, cooperative, channel, stream)


def forget_mark(conn: Connection, cooperative: str, channel: str, stream: str) -> None:
    """The channel has no mark in ``stream`` any more."""
    c = cursors.c
    conn.execute(
        delete(cursors).where(
            c.cooperative == cooperative, c.channel == channel, c.stream == stream
        )
    )

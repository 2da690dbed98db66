"""Quiet channels: a pass with nothing new to do reads no catalog and plans nothing.

Most passes of a daemon find nothing to do: the file is as it was, no order came in, every
channel shows what it was last confirmed to show. Planning would read and hash every row
of the catalog only to find that out (seconds for 100,000 SKUs). Instead, after a pass in
which a channel needed no change, or every change it needed was confirmed, and nothing
failed, the pass records a *quiet mark* for that channel: a digest of everything a plan of
it depends on,

- the catalog file's bytes (:attr:`~syndicator.catalog.CatalogRows.digest`: the bytes the
  plan read, not whatever is on disk later);
- the channel's input-key prefix (its settings, exchange rate and Syndicator's version,
  see :meth:`~syndicator.planning.projection.Projector.key_prefix`);
- the cooperative's ledger and stock counts, and the channel's listings in the store, each
  summed up by a few aggregates (rows, highest id or time, sums) that any write changes.

The next pass computes the same digest first (one read of the file's bytes and a few
aggregate queries); when it matches for every channel it plans, that channel is quiet and
the catalog is not read at all. Anything else (an edit, an order, a failed or marked
change, a new rate) changes the digest and the pass plans as usual. The mark is a cursor
(stream ``quiet_plan``) so that it lives in the store with everything else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, delete, func, select

from syndicator.catalog.loader import path_digest
from syndicator.store.cursors import read_cursor, write_cursor
from syndicator.store.schema import cursors, listings, stock_counts, stock_ledger

__all__ = [
    "BASIS_STREAM",
    "STREAM",
    "channel_mark",
    "cooperative_part",
    "digest_of",
    "forget",
    "ledger_end",
    "listing_part",
    "mark_of",
    "remember",
    "sold_since",
    "stored_mark",
]

STREAM = "quiet_plan"
BASIS_STREAM = "basis_plan"  # the mark a pass leaves with its basis (syndicator/planning/basis.py)
MARK_VERSION = "q1"  # bump when what the mark covers changes


def digest_of(path: Path) -> str | None:
    """The digest of the file at ``path`` now (None when it cannot be read: plan as usual,
    the plan says what is wrong)."""
    try:
        return path_digest(path)
    except OSError:
        return None


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
    """What a channel's mark holds of its own listings (an index covers it)."""
    listed = listings.c
    return tuple(
        conn.execute(
            select(func.count(), func.max(listed.updated_at), func.sum(listed.attempts)).where(
                listed.cooperative == cooperative, listed.channel == channel
            )
        ).one()
    )


def mark_of(
    digest: str, key_prefix: str, shared: tuple[object, ...], own: tuple[object, ...]
) -> str:
    """The mark of a channel with input-key prefix ``key_prefix``, the catalog file whose
    bytes have ``digest``, the cooperative's :func:`cooperative_part` and the channel's
    :func:`listing_part`."""
    parts = (MARK_VERSION, digest, key_prefix, *shared, *own)
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def channel_mark(
    conn: Connection,
    cooperative: str,
    channel: str,
    key_prefix: str,
    digest: str,
    shared: tuple[object, ...] | None = None,
) -> str:
    """The digest of all a plan of (cooperative, channel) depends on, as of now.
    ``shared``: :func:`cooperative_part`, when the caller has it already."""
    if shared is None:
        shared = cooperative_part(conn, cooperative)
    return mark_of(digest, key_prefix, shared, listing_part(conn, cooperative, channel))


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


def stored_mark(
    conn: Connection, cooperative: str, channel: str, stream: str = STREAM
) -> str | None:
    """The channel's mark as its last quiet pass left it (None: not quiet); with
    ``stream=BASIS_STREAM``, as the last pass that kept a basis left it."""
    return read_cursor(conn, cooperative, channel, stream)


def remember(
    conn: Connection,
    cooperative: str,
    channel: str,
    key_prefix: str,
    digest: str,
    now: datetime,
    stream: str = STREAM,
    shared: tuple[object, ...] | None = None,
) -> None:
    """The channel is in step (no change needed, or every change confirmed; nothing failed):
    mark it quiet, as the store is now (call it once the pass's writes are saved). With
    ``stream=BASIS_STREAM``: the mark of a pass that kept a basis, in step or not."""
    mark = channel_mark(conn, cooperative, channel, key_prefix, digest, shared)
    write_cursor(conn, cooperative, channel, stream, mark, now)


def forget(conn: Connection, cooperative: str, channel: str) -> None:
    """The channel is not quiet: the next pass plans it."""
    c = cursors.c
    conn.execute(
        delete(cursors).where(
            c.cooperative == cooperative, c.channel == channel, c.stream == STREAM
        )
    )

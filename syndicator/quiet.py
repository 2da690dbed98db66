"""Quiet channels: a pass with nothing new to do reads no catalog and plans nothing.

Most passes of a daemon find nothing to do: the file is as it was, no order came in, every
channel shows what it was last confirmed to show. Planning would read and hash every row
of the catalog only to find that out (seconds for 100,000 SKUs). Instead, after a pass in
which a channel needed no change and nothing failed, the pass records a *quiet mark* for
that channel: a digest of everything a plan of it depends on,

- the catalog file's bytes (:attr:`~syndicator.catalog.CatalogRows.digest`: the bytes the
  plan read, not whatever is on disk later);
- the channel's input-key prefix (its settings, exchange rate and Syndicator's version,
  see :meth:`~syndicator.projection.Projector.key_prefix`);
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
from syndicator.store.activity import read_cursor, write_cursor
from syndicator.store.schema import cursors, listings, stock_counts, stock_ledger

__all__ = [
    "STREAM",
    "channel_mark",
    "cooperative_part",
    "digest_of",
    "forget",
    "is_quiet",
    "remember",
]

STREAM = "quiet_plan"
MARK_VERSION = "q1"  # bump when what the mark covers changes


def digest_of(path: Path) -> str | None:
    """The digest of the file at ``path`` now (None when it cannot be read: plan as usual,
    the plan says what is wrong)."""
    try:
        return path_digest(path)
    except OSError:
        return None


def cooperative_part(conn: Connection, cooperative: str) -> tuple[object, ...]:
    """What every channel's mark of a cooperative shares: its ledger and stock counts."""
    ledger = stock_ledger.c
    counts = stock_counts.c
    sales = conn.execute(
        select(func.count(), func.max(ledger.id), func.sum(ledger.delta)).where(
            ledger.cooperative == cooperative
        )
    ).one()
    counted = conn.execute(
        select(func.count(), func.max(counts.counted_at), func.sum(counts.count)).where(
            counts.cooperative == cooperative
        )
    ).one()
    return (*sales, *counted)


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
    listed = listings.c
    if shared is None:
        shared = cooperative_part(conn, cooperative)
    parts: list[object] = [MARK_VERSION, digest, key_prefix, *shared]
    parts += conn.execute(
        select(func.count(), func.max(listed.updated_at), func.sum(listed.attempts)).where(
            listed.cooperative == cooperative, listed.channel == channel
        )
    ).one()
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def is_quiet(
    conn: Connection,
    cooperative: str,
    channel: str,
    key_prefix: str,
    digest: str,
    shared: tuple[object, ...] | None = None,
) -> bool:
    """True when nothing a plan of this channel depends on changed since its last quiet
    pass."""
    mark = read_cursor(conn, cooperative, channel, STREAM)
    if mark is None:
        return False
    return mark == channel_mark(conn, cooperative, channel, key_prefix, digest, shared)


def remember(
    conn: Connection,
    cooperative: str,
    channel: str,
    key_prefix: str,
    digest: str,
    now: datetime,
) -> None:
    """The pass needed no change on this channel and nothing failed: mark it quiet, as the
    store is now (call it in the transaction that ends the pass's writes)."""
    mark = channel_mark(conn, cooperative, channel, key_prefix, digest)
    write_cursor(conn, cooperative, channel, STREAM, mark, now)


def forget(conn: Connection, cooperative: str, channel: str) -> None:
    """The channel is not quiet: the next pass plans it."""
    c = cursors.c
    conn.execute(
        delete(cursors).where(
            c.cooperative == cooperative, c.channel == channel, c.stream == STREAM
        )
    )

"""What ``syndicator status``, the backlog alert and the metrics read about each channel:
the state of its listings, the change that has waited longest, its last error, and what was
pulled from it.

Each listing a channel has in the store is in one of four states (:func:`listing_state`,
the one place for the rule; :func:`_waiting` is the same rule in SQL):

- ``in_sync``: the channel confirmed it, a read-back since found it showing exactly that,
  and nothing has been sent or moved since ("in sync" is read back and equal, never only
  sent and answered);
- ``pending``: a change is on its way: a create marked before it was sent, a listing the
  store is unsure of (a change sent without its answer saved yet, a shop that moved its
  own stock when it sold, a read-back that found it otherwise: the next pass sends it
  again), or one answered and not yet read back (the end of a pass reads it back);
- ``differs``: a read-back found the shop showing another price (or less stock) and, as
  ``sync.drift: report`` asks, it is left as the shop shows it;
- ``failed``: the channel refused or failed the last attempt (``attempts`` failures since
  its last success);
- ``off_sale``: taken off sale or deleted, as the catalog says.

A change waits from the moment it was marked (pending), or from the first failure since the
last success (failed): retries do not restart the clock. Aggregate queries only, portable
SQL (SQLite, PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, func, or_, select

from syndicator.store.passes import ERROR_OUTCOMES
from syndicator.store.schema import journal, listings, orders, reviews

__all__ = [
    "Key",
    "LastError",
    "ListingCounts",
    "PendingChange",
    "Pulled",
    "backlog",
    "last_error",
    "listing_counts",
    "listing_state",
    "oldest_pending",
    "pulled",
]

Key = tuple[str, str]  # (cooperative, channel)

_ON_SALE = ("active", "inactive")  # inactive: listed at quantity 0
_WAITING = ("pending", "failed")


def listing_state(status: str, unsure: bool, attempts: int, differs: bool = False) -> str:
    """``in_sync``, ``pending``, ``differs``, ``failed`` or ``off_sale`` (see the module's
    doc). ``unsure``: the store dropped what it knew the channel shows (no input key), or
    no read-back has seen it since it was answered (:func:`_unsure`). ``differs``: the last
    read-back found it otherwise and left it so."""
    if attempts > 0 or status == "failed":
        return "failed"
    if status == "pending":
        return "pending"
    if status in _ON_SALE and differs:
        return "differs"
    if status in _ON_SALE and unsure:
        return "pending"
    return "in_sync" if status in _ON_SALE else "off_sale"


def _unsure(c: Any) -> Any:
    """The SQL condition of a listing's ``unsure`` (see :func:`listing_state`)."""
    return or_(c.input_key.is_(None), c.verified_at.is_(None))


def _waiting(c: Any) -> Any:
    """The SQL condition of :func:`listing_state` being ``pending`` or ``failed``."""
    return or_(
        c.attempts > 0,
        c.status.in_(_WAITING),
        and_(c.status.in_(_ON_SALE), c.drift.is_(None), _unsure(c)),
    )


# --------------------------------------------------------------------------- listings
@dataclass(frozen=True, slots=True)
class ListingCounts:
    in_sync: int = 0
    pending: int = 0
    differs: int = 0
    failed: int = 0
    off_sale: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "in_sync": self.in_sync,
            "pending": self.pending,
            "differs": self.differs,
            "failed": self.failed,
            "off_sale": self.off_sale,
        }


def listing_counts(conn: Connection, cooperative: str | None = None) -> dict[Key, ListingCounts]:
    """How many listings of each channel are in each state."""
    c = listings.c
    unsure, differs = _unsure(c), c.drift.is_not(None)
    query = select(
        c.cooperative, c.channel, c.status, unsure, differs, c.attempts, func.count()
    ).group_by(
        c.cooperative, c.channel, c.status, unsure, differs, c.attempts
    )  # fmt: skip
    if cooperative is not None:
        query = query.where(c.cooperative == cooperative)
    tally: dict[Key, dict[str, int]] = {}
    for coop, channel, status, is_unsure, is_off, attempts, n in conn.execute(query):
        counts = tally.setdefault((coop, channel), {})
        state = listing_state(status, bool(is_unsure), attempts, bool(is_off))
        counts[state] = counts.get(state, 0) + n
    return {key: ListingCounts(**counts) for key, counts in tally.items()}


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A listing whose change has not gone through (yet), and since when it waits."""

    cooperative: str
    channel: str
    sku: str
    state: str  # pending, failed
    since: datetime
    attempts: int
    last_error: str | None  # the channel's words about its last attempt

    def age(self, now: datetime) -> timedelta:
        return now - self.since

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "state": self.state,
            "since": self.since.isoformat(),
            "age_seconds": round(self.age(now).total_seconds()),
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


def oldest_pending(conn: Connection, cooperative: str | None = None) -> dict[Key, PendingChange]:
    """The change that has waited longest on each channel that has one waiting."""
    c, j = listings.c, journal.c
    # A failing streak starts with the failure of a first attempt (attempts count failures
    # since the last success); updated_at moves at every retry, so it cannot say.
    streak = (
        select(func.max(j.at))
        .where(
            j.cooperative == c.cooperative,
            j.channel == c.channel,
            j.sku == c.sku,
            j.outcome == "failed",
            j.attempt == 1,
        )
        .scalar_subquery()
    )
    query = select(
        c.cooperative,
        c.channel,
        c.sku,
        c.status,
        _unsure(c),
        c.attempts,
        c.updated_at,
        c.last_error,
        streak,
    ).where(_waiting(c))
    if cooperative is not None:
        query = query.where(c.cooperative == cooperative)
    oldest: dict[Key, PendingChange] = {}
    for coop, channel, sku, status, unsure, attempts, updated, error, first in conn.execute(query):
        state = listing_state(status, bool(unsure), attempts)
        since = first if state == "failed" and first is not None else updated
        change = PendingChange(coop, channel, sku, state, since, attempts, error)
        known = oldest.get((coop, channel))
        if known is None or (change.since, change.sku) < (known.since, known.sku):
            oldest[(coop, channel)] = change
    return oldest


def backlog(
    conn: Connection, older_than: timedelta, now: datetime, cooperative: str | None = None
) -> list[PendingChange]:
    """The oldest waiting change of each channel where it has waited longer than
    ``older_than`` (``daemon.alerts.backlog_after``), oldest first."""
    late = [p for p in oldest_pending(conn, cooperative).values() if p.age(now) > older_than]
    return sorted(late, key=lambda p: p.since)


# --------------------------------------------------------------------------- the journal
@dataclass(frozen=True, slots=True)
class LastError:
    """The newest entry of the journal that says something went wrong."""

    at: datetime
    sku: str | None
    action: str
    outcome: str  # failed, stopped, refused
    message: str | None  # in the channel's own words

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "age_seconds": round((now - self.at).total_seconds()),
            "sku": self.sku,
            "action": self.action,
            "outcome": self.outcome,
            "message": self.message,
        }


def last_error(conn: Connection, cooperative: str, channel: str) -> LastError | None:
    """The channel's newest failed, stopped or refused operation (None: never one)."""
    j = journal.c
    row = conn.execute(
        select(j.at, j.sku, j.action, j.outcome, j.message)
        .where(j.cooperative == cooperative, j.channel == channel, j.outcome.in_(ERROR_OUTCOMES))
        .order_by(j.at.desc(), j.id.desc())
        .limit(1)
    ).first()
    return LastError(*row) if row is not None else None


# --------------------------------------------------------------------------- pulled
@dataclass(frozen=True, slots=True)
class Pulled:
    """What was pulled from a channel: how many, and when the newest arrived."""

    count: int = 0
    last_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "last_at": self.last_at.isoformat() if self.last_at else None,
        }


_PULLED = {"orders": orders, "reviews": reviews}


def pulled(
    conn: Connection, what: Literal["orders", "reviews"], cooperative: str | None = None
) -> dict[Key, Pulled]:
    """The orders or reviews stored for each channel: how many, and the newest's arrival."""
    t = _PULLED[what].c
    query = select(t.cooperative, t.channel, func.count(), func.max(t.recorded_at)).group_by(
        t.cooperative, t.channel
    )
    if cooperative is not None:
        query = query.where(t.cooperative == cooperative)
    return {(coop, ch): Pulled(n, at) for coop, ch, n, at in conn.execute(query)}

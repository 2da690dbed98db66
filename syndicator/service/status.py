"""What ``syndicator status`` shows: at a glance, what is in sync on each channel, what is
not, and why, in the channel's own words. Read from the store in one read transaction;
no channel is called. docs/status.md explains every field for an operator.

Each listing a channel has in the store is in one of four states (:func:`listing_state`,
the one place for the rule; :func:`_waiting` is the same rule in SQL):

- ``in_sync``: the channel confirmed it, and nothing has been sent or moved since;
- ``pending``: a change is on its way: a create marked before it was sent, or a listing
  the store is unsure of (a change sent without its answer saved yet, or a shop that moved
  its own stock when it sold: the next pass sends it again);
- ``failed``: the channel refused or failed the last attempt (``attempts`` failures since
  its last success);
- ``off_sale``: taken off sale or deleted, as the catalog says.

A change waits from the moment it was marked (pending), or from the first failure since the
last success (failed): retries do not restart the clock. :func:`oldest_pending` and
:func:`backlog` are for the daemon's "backlog older than ``daemon.alerts.backlog_after``"
alert and its metrics to reuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from syndicator.config import Config
from syndicator.domain.quotas import LONG_WINDOW, QuotaRule
from syndicator.errors import SetupError
from syndicator.store import Store
from syndicator.store.alerts import Alert, open_alerts
from syndicator.store.passes import ERROR_OUTCOMES, PassRecord, last_passes, quota_accounts
from syndicator.store.quota import quota_usage
from syndicator.store.schema import journal, listings, orders, reviews
from syndicator.sync.opener import channel_quota_rules

__all__ = [
    "ChannelStatus",
    "CooperativeStatus",
    "DailyLimit",
    "LastError",
    "ListingCounts",
    "PendingChange",
    "Pulled",
    "QuotaToday",
    "StatusReport",
    "backlog",
    "channel_status",
    "listing_counts",
    "listing_state",
    "oldest_pending",
]

Key = tuple[str, str]  # (cooperative, channel)

_ON_SALE = ("active", "inactive")  # inactive: listed at quantity 0
_WAITING = ("pending", "failed")


def listing_state(status: str, unsure: bool, attempts: int) -> str:
    """``in_sync``, ``pending``, ``failed`` or ``off_sale`` (see the module's doc).
    ``unsure``: the store dropped what it knew the channel shows (no input key)."""
    if attempts > 0 or status == "failed":
        return "failed"
    if status == "pending" or (status in _ON_SALE and unsure):
        return "pending"
    return "in_sync" if status in _ON_SALE else "off_sale"


def _waiting(c: Any) -> Any:
    """The SQL condition of :func:`listing_state` being ``pending`` or ``failed``."""
    return or_(
        c.attempts > 0,
        c.status.in_(_WAITING),
        and_(c.status.in_(_ON_SALE), c.input_key.is_(None)),
    )


# --------------------------------------------------------------------------- listings
@dataclass(frozen=True, slots=True)
class ListingCounts:
    in_sync: int = 0
    pending: int = 0
    failed: int = 0
    off_sale: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "in_sync": self.in_sync,
            "pending": self.pending,
            "failed": self.failed,
            "off_sale": self.off_sale,
        }


def listing_counts(conn: Connection, cooperative: str | None = None) -> dict[Key, ListingCounts]:
    """How many listings of each channel are in each state."""
    c = listings.c
    unsure = c.input_key.is_(None)
    query = select(c.cooperative, c.channel, c.status, unsure, c.attempts, func.count()).group_by(
        c.cooperative, c.channel, c.status, unsure, c.attempts
    )  # plain columns only in GROUP BY: PostgreSQL compares them literally
    if cooperative is not None:
        query = query.where(c.cooperative == cooperative)
    tally: dict[Key, dict[str, int]] = {}
    for coop, channel, status, is_unsure, attempts, n in conn.execute(query):
        counts = tally.setdefault((coop, channel), {})
        state = listing_state(status, bool(is_unsure), attempts)
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
        c.input_key.is_(None),
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


# --------------------------------------------------------------------------- quota
@dataclass(frozen=True, slots=True)
class DailyLimit:
    bucket: str
    used: int
    limit: int

    def to_json(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "used": self.used, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class QuotaToday:
    """The calls counted today (UTC) against the channel's account: shared by every
    channel on the same account (one Etsy app key, one Amazon seller)."""

    account: str
    calls: int
    throttled: int  # answers of 429 Too Many Requests
    daily: tuple[DailyLimit, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "calls": self.calls,
            "throttled": self.throttled,
            "daily": [d.to_json() for d in self.daily],
        }


def _quota_rules(config: Config, cooperative: str, channel: str) -> dict[str, QuotaRule]:
    """Bucket -> rule, as the channel's connector declares them (empty when unknown)."""
    try:
        declared = channel_quota_rules(config, cooperative, channel)
    except (KeyError, SetupError, ImportError, ValueError):
        return {}
    return {r.bucket: r for rs in declared.values() for r in rs}


def _quota_today(conn: Connection, account: str, rules: Mapping[str, QuotaRule]) -> QuotaToday:
    calls = throttled = 0
    daily = []
    for usage in quota_usage(conn, account):
        if usage.account != account:
            continue
        rule = rules.get(usage.bucket)
        if rule is not None and rule.burst / rule.rate > LONG_WINDOW:
            daily.append(DailyLimit(usage.bucket, usage.calls_today, rule.burst))
        else:  # each call draws one such bucket (and maybe a daily one)
            calls += usage.calls_today
            throttled += usage.throttled_today
    return QuotaToday(account, calls, throttled, tuple(daily))


# --------------------------------------------------------------------------- the report
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


def _last_error(conn: Connection, cooperative: str, channel: str) -> LastError | None:
    j = journal.c
    row = conn.execute(
        select(j.at, j.sku, j.action, j.outcome, j.message)
        .where(j.cooperative == cooperative, j.channel == channel, j.outcome.in_(ERROR_OUTCOMES))
        .order_by(j.at.desc(), j.id.desc())
        .limit(1)
    ).first()
    return LastError(*row) if row is not None else None


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


def _pulled(conn: Connection, table: Any, cooperative: str | None) -> dict[Key, Pulled]:
    t = table.c
    query = select(t.cooperative, t.channel, func.count(), func.max(t.recorded_at)).group_by(
        t.cooperative, t.channel
    )
    if cooperative is not None:
        query = query.where(t.cooperative == cooperative)
    return {(coop, ch): Pulled(n, at) for coop, ch, n, at in conn.execute(query)}


# Outcomes of a last pass that make the status fail (exit 1): nothing went through.
FAILING = ("failed", "stopped")


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    cooperative: str
    channel: str
    type: str
    last_pass: PassRecord | None
    listings: ListingCounts
    oldest_pending: PendingChange | None
    quota: QuotaToday | None  # None: no pass has recorded the channel's account yet
    last_error: LastError | None
    orders: Pulled
    reviews: Pulled
    backlog: bool  # the oldest pending change waited longer than backlog_after

    @property
    def ok(self) -> bool:
        """False when the last pass failed or stopped, or a change waits too long."""
        failed = self.last_pass is not None and self.last_pass.outcome in FAILING
        return not failed and not self.backlog

    def to_json(self, now: datetime) -> dict[str, Any]:
        last = self.last_pass
        return {
            "cooperative": self.cooperative,
            "channel": self.channel,
            "type": self.type,
            "ok": self.ok,
            "last_pass": None
            if last is None
            else last.to_json() | {"age_seconds": round((now - last.finished_at).total_seconds())},
            "listings": self.listings.to_json(),
            "oldest_pending": self.oldest_pending.to_json(now) if self.oldest_pending else None,
            "backlog": self.backlog,
            "quota_today": self.quota.to_json() if self.quota else None,
            "last_error": self.last_error.to_json(now) if self.last_error else None,
            "orders": self.orders.to_json(),
            "reviews": self.reviews.to_json(),
        }


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "at": alert.at.isoformat(),
        "kind": alert.kind,
        "channel": alert.channel,
        "sku": alert.sku,
        "message": alert.message,
        "details": alert.details,
    }


@dataclass(frozen=True, slots=True)
class CooperativeStatus:
    cooperative: str
    channels: list[ChannelStatus] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # open: oversell, mass_delist, auth ...

    @property
    def ok(self) -> bool:
        return not self.alerts and all(c.ok for c in self.channels)

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "cooperative": self.cooperative,
            "ok": self.ok,
            "channels": [c.to_json(now) for c in self.channels],
            "alerts": [_alert_json(a) for a in self.alerts],
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    at: datetime
    backlog_after: timedelta
    cooperatives: list[CooperativeStatus]

    @property
    def ok(self) -> bool:
        """What the exit code of ``syndicator status`` says: True (0) when no channel's last
        pass failed or stopped, no change waits longer than ``backlog_after`` and no alert is
        open."""
        return all(c.ok for c in self.cooperatives)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "ok": self.ok,
            "backlog_after_seconds": round(self.backlog_after.total_seconds()),
            "cooperatives": [c.to_json(self.at) for c in self.cooperatives],
        }


def channel_status(
    config: Config,
    store: Store,
    *,
    cooperative: str | None = None,
    now: datetime | None = None,
) -> StatusReport:
    """The status of every enabled channel of every cooperative (or of ``cooperative``:
    :class:`KeyError` when the config has no such cooperative)."""
    now = now or datetime.now(UTC)
    coops = config.cooperatives
    if cooperative is not None:
        coops = [config.cooperative(cooperative)]
    backlog_after = timedelta(seconds=config.daemon.alerts.backlog_after)
    out = []
    with store.read() as conn:
        passes = last_passes(conn, cooperative)
        accounts = quota_accounts(conn, cooperative)
        counts = listing_counts(conn, cooperative)
        waiting = oldest_pending(conn, cooperative)
        pulled_orders = _pulled(conn, orders, cooperative)
        pulled_reviews = _pulled(conn, reviews, cooperative)
        for coop in coops:
            channels = []
            for ch in coop.channels:
                if not ch.enabled:
                    continue
                key = (coop.id, ch.id)
                account = accounts.get(key)
                pending = waiting.get(key)
                channels.append(
                    ChannelStatus(
                        cooperative=coop.id,
                        channel=ch.id,
                        type=ch.type,
                        last_pass=passes.get(key),
                        listings=counts.get(key, ListingCounts()),
                        oldest_pending=pending,
                        quota=None
                        if account is None
                        else _quota_today(conn, account, _quota_rules(config, coop.id, ch.id)),
                        last_error=_last_error(conn, coop.id, ch.id),
                        orders=pulled_orders.get(key, Pulled()),
                        reviews=pulled_reviews.get(key, Pulled()),
                        backlog=pending is not None and pending.age(now) > backlog_after,
                    )
                )
            out.append(CooperativeStatus(coop.id, channels, open_alerts(conn, coop.id)))
    return StatusReport(now, backlog_after, out)

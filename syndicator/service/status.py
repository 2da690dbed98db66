"""What ``syndicator status`` shows: at a glance, what is in sync on each channel, what is
not, and why, in the channel's own words. Read from the store in one read transaction;
no channel is called. docs/status.md explains every field for an operator.

The states of a listing, the oldest change waiting and its backlog are the store's
(:mod:`syndicator.store.status`, the one place for those rules); this module puts them
together per channel with its last pass, its quota and the open alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from syndicator.config import Config
from syndicator.domain.quotas import LONG_WINDOW, QuotaRule
from syndicator.errors import SetupError
from syndicator.store import Store
from syndicator.store.alerts import Alert, open_alerts
from syndicator.store.passes import PassRecord, last_passes, quota_accounts
from syndicator.store.quota import quota_usage
from syndicator.store.status import (
    LastError,
    ListingCounts,
    PendingChange,
    Pulled,
    last_error,
    listing_counts,
    oldest_pending,
    pulled,
)
from syndicator.sync.opener import channel_quota_rules

__all__ = [
    "FAILING",
    "ChannelStatus",
    "CooperativeStatus",
    "DailyLimit",
    "QuotaToday",
    "StatusReport",
    "channel_status",
]


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
        """False when the last pass failed or stopped, a listing is failed (refused or not
        gone through since its last attempt), or a change waits too long."""
        return not self.troubles()

    def troubles(self) -> list[str]:
        """What is wrong with this channel, in a few words each (none: all is well)."""
        out = []
        last = self.last_pass
        if last is not None and last.outcome in FAILING:
            out.append(f"its last pass {last.outcome}")
        if self.listings.failed:
            out.append(f"{self.listings.failed} listing(s) failed")
        if self.backlog and self.oldest_pending is not None:
            out.append(f"{self.oldest_pending.sku} has waited too long")
        return out

    def to_json(self, now: datetime) -> dict[str, Any]:
        last = self.last_pass
        return {
            "cooperative": self.cooperative,
            "channel": self.channel,
            "type": self.type,
            "ok": self.ok,
            "troubles": self.troubles(),
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
        pass failed or stopped, no listing is failed, no change waits longer than
        ``backlog_after`` and no alert is open."""
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
        pulled_orders = pulled(conn, "orders", cooperative)
        pulled_reviews = pulled(conn, "reviews", cooperative)
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
                        last_error=last_error(conn, coop.id, ch.id),
                        orders=pulled_orders.get(key, Pulled()),
                        reviews=pulled_reviews.get(key, Pulled()),
                        backlog=pending is not None and pending.age(now) > backlog_after,
                    )
                )
            out.append(CooperativeStatus(coop.id, channels, open_alerts(conn, coop.id)))
    return StatusReport(now, backlog_after, out)

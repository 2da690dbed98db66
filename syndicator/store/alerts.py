"""Alerts: raised once per key, closed when the cause is gone, read by status and the webhook."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from syndicator.store.schema import alerts
from syndicator.store.sql import insert_new

__all__ = [
    "Alert",
    "alerts_after",
    "open_alert_counts",
    "open_alerts",
    "raise_alert",
    "resolve_alerts",
]


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    cooperative: str
    channel: str | None
    kind: str
    sku: str | None
    message: str
    details: dict[str, Any] | None


def raise_alert(
    conn: Connection,
    *,
    cooperative: str,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    channel: str | None = None,
    sku: str | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Record an alert; False when the same one (cooperative, kind, key) is already open.
    One that was resolved is raised anew (a new row: the webhook sends it again)."""
    c = alerts.c
    conn.execute(
        delete(alerts).where(
            c.cooperative == cooperative,
            c.kind == kind,
            c.key == key,
            c.resolved_at.is_not(None),
        )
    )
    row = {
        "at": now,
        "cooperative": cooperative,
        "channel": channel,
        "kind": kind,
        "key": key,
        "sku": sku,
        "message": message,
        "details": details,
        "resolved_at": None,
    }
    return bool(insert_new(conn, alerts, [row], ["cooperative", "kind", "key"]))


def resolve_alerts(
    conn: Connection, cooperative: str, kind: str, channel: str | None, now: datetime
) -> int:
    """Close the open alerts of a kind for a channel (its credentials work again ...)."""
    c = alerts.c
    result = conn.execute(
        update(alerts)
        .where(
            c.cooperative == cooperative,
            c.kind == kind,
            c.channel == channel,
            c.resolved_at.is_(None),
        )
        .values(resolved_at=now, key=c.key + f"@{now.timestamp()}")
    )
    return int(result.rowcount or 0)


_FIELDS = tuple(alerts.c[f.name] for f in fields(Alert))  # an Alert's columns, in its order


def open_alerts(conn: Connection, cooperative: str | None = None) -> list[Alert]:
    c = alerts.c
    query = select(*_FIELDS).where(c.resolved_at.is_(None))
    if cooperative is not None:
        query = query.where(c.cooperative == cooperative)
    return [Alert(*row) for row in conn.execute(query.order_by(c.at))]


def alerts_after(conn: Connection, after: int, limit: int) -> list[tuple[int, Alert]]:
    """The alerts raised after the one with id ``after`` (open or closed since), oldest
    first, at most ``limit``, each with its id (what the webhook's cursor keeps)."""
    c = alerts.c
    query = select(c.id, *_FIELDS).where(c.id > after).order_by(c.id).limit(limit)
    return [(row[0], Alert(*row[1:])) for row in conn.execute(query)]


def open_alert_counts(conn: Connection) -> list[tuple[str, str | None, str, int]]:
    """(cooperative, channel, kind, open alerts) for each kind open on a channel (channel
    None: an alert about the whole cooperative)."""
    c = alerts.c
    keys = (c.cooperative, c.channel, c.kind)
    rows = conn.execute(select(*keys, func.count()).where(c.resolved_at.is_(None)).group_by(*keys))
    return [(coop, channel, kind, n) for coop, channel, kind, n in rows]

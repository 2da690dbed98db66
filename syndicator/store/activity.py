"""What a sync pass writes besides listings: orders and their ledger lines, reviews, cursors,
the journal and alerts. Portable SQL only (SQLite and PostgreSQL), one small function each.

Every order line changes stock once: the ledger's unique key (cooperative, channel, order,
line, kind) makes a repeated or overlapping pull a no-op, and a page's lines go in with the
cursor that follows them, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from syndicator.domain.orders import Order, OrderStatus
from syndicator.store.repo import upsert
from syndicator.store.schema import alerts, cursors, journal, listings, orders, stock_ledger

__all__ = [
    "Alert",
    "JournalEntry",
    "LedgerResult",
    "listing_attempts",
    "mark_pending",
    "open_alerts",
    "query_journal",
    "raise_alert",
    "read_cursor",
    "record_failure",
    "record_orders",
    "resolve_alerts",
    "sales_since",
    "write_cursor",
    "write_journal",
]

_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _insert_new(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    """Insert the rows whose ``keys`` are not there yet; the number inserted."""
    if not rows:
        return 0
    stmt = _INSERTS[conn.dialect.name](table).on_conflict_do_nothing(index_elements=keys)
    inserted = 0
    for row in rows:  # one by one: rowcount of an executemany is not portable
        inserted += conn.execute(stmt, row).rowcount or 0
    return inserted


# --------------------------------------------------------------------------- cursors
def read_cursor(conn: Connection, cooperative: str, channel: str, stream: str) -> str | None:
    c = cursors.c
    return conn.execute(
        select(c.value).where(
            c.cooperative == cooperative, c.channel == channel, c.stream == stream
        )
    ).scalar_one_or_none()


def write_cursor(
    conn: Connection, cooperative: str, channel: str, stream: str, value: str, now: datetime
) -> None:
    row = {
        "cooperative": cooperative,
        "channel": channel,
        "stream": stream,
        "value": value,
        "updated_at": now,
    }
    upsert(conn, cursors, [row], ("cooperative", "channel", "stream"))


# --------------------------------------------------------------------------- ledger
@dataclass(frozen=True, slots=True)
class LedgerResult:
    orders: int  # orders seen in the page
    lines: int  # ledger lines new to the store (sales and cancellations)
    skus: frozenset[str]  # SKUs whose stock changed
    unknown: tuple[str, ...]  # "order/line" whose SKU the channel did not give


def buyer_ref(value: str | None) -> str | None:
    """An opaque reference for a buyer id: never the id, name or address itself."""
    if not value:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def record_orders(
    conn: Connection, cooperative: str, channel: str, page: Sequence[Order], now: datetime
) -> LedgerResult:
    """Record a page of orders: each order's row, and a ledger line per order line, once.

    A sale is dated when the order was placed; a cancellation when the order last changed.
    So a count taken between the two already misses the piece, and the cancellation gives it
    back; a count taken after both is not touched. An order first seen already cancelled
    adds its sale and its cancellation: nothing moves unless a count came in between.
    """
    order_rows = []
    ledger_rows = []
    skus: set[str] = set()
    unknown = []
    for order in page:
        order_rows.append(
            {
                "cooperative": cooperative,
                "channel": channel,
                "order_id": order.order_id,
                "status": str(order.status),
                "placed_at": order.created_at,
                "updated_at": order.updated_at,
                "total": order.total.amount if order.total else None,
                "currency": order.total.currency if order.total else None,
                "buyer_ref": None,
                "recorded_at": now,
            }
        )
        for line in order.lines:
            if line.sku is None:
                unknown.append(f"{order.order_id}/{line.line_id}")
                continue
            if line.quantity <= 0:
                continue
            base = {
                "cooperative": cooperative,
                "sku": line.sku,
                "channel": channel,
                "order_id": order.order_id,
                "line_id": line.line_id,
                "quantity": line.quantity,
                "recorded_at": now,
            }
            ledger_rows.append(
                base | {"kind": "sale", "delta": -line.quantity, "occurred_at": order.created_at}
            )
            if order.status is OrderStatus.CANCELLED:
                ledger_rows.append(
                    base
                    | {"kind": "cancel", "delta": line.quantity, "occurred_at": order.updated_at}
                )
    upsert(conn, orders, order_rows, ("cooperative", "channel", "order_id"))
    keys = ["cooperative", "channel", "order_id", "line_id", "kind"]
    new = 0
    for row in ledger_rows:
        if _insert_new(conn, stock_ledger, [row], keys):
            new += 1
            skus.add(str(row["sku"]))
    return LedgerResult(len(page), new, frozenset(skus), tuple(unknown))


@dataclass(frozen=True, slots=True)
class Sale:
    channel: str
    order_id: str
    quantity: int
    occurred_at: datetime


def sales_since(conn: Connection, cooperative: str, sku: str, since: datetime) -> list[Sale]:
    """The sales of ``sku`` from ``since`` on that were not cancelled, oldest first."""
    sale, cancel = stock_ledger.alias("sale"), stock_ledger.alias("cancel")
    query = (
        select(sale.c.channel, sale.c.order_id, sale.c.quantity, sale.c.occurred_at)
        .select_from(
            sale.outerjoin(
                cancel,
                and_(
                    cancel.c.cooperative == sale.c.cooperative,
                    cancel.c.channel == sale.c.channel,
                    cancel.c.order_id == sale.c.order_id,
                    cancel.c.line_id == sale.c.line_id,
                    cancel.c.kind == "cancel",
                ),
            )
        )
        .where(
            sale.c.cooperative == cooperative,
            sale.c.sku == sku,
            sale.c.kind == "sale",
            sale.c.occurred_at >= since,
            cancel.c.id.is_(None),
        )
        .order_by(sale.c.occurred_at)
    )
    return [Sale(*row) for row in conn.execute(query)]


# --------------------------------------------------------------------------- journal
@dataclass(frozen=True, slots=True)
class JournalEntry:
    at: datetime
    run_id: str
    cooperative: str
    channel: str
    sku: str | None
    action: str
    attempt: int
    outcome: str  # ok, failed, skipped, drift, info
    message: str | None
    details: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "run_id": self.run_id,
            "cooperative": self.cooperative,
            "channel": self.channel,
            "sku": self.sku,
            "action": self.action,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "message": self.message,
            "details": self.details,
        }


def write_journal(conn: Connection, entries: Iterable[JournalEntry]) -> None:
    rows = [
        {
            "at": e.at,
            "run_id": e.run_id,
            "cooperative": e.cooperative,
            "channel": e.channel,
            "sku": e.sku,
            "action": e.action,
            "attempt": e.attempt,
            "outcome": e.outcome,
            "message": e.message,
            "details": e.details,
        }
        for e in entries
    ]
    if rows:
        conn.execute(journal.insert(), rows)


def query_journal(
    conn: Connection,
    *,
    cooperative: str | None = None,
    channel: str | None = None,
    sku: str | None = None,
    outcome: str | None = None,
    action: str | None = None,
    run_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[JournalEntry]:
    """The newest entries first, filtered."""
    c = journal.c
    query = select(
        c.at,
        c.run_id,
        c.cooperative,
        c.channel,
        c.sku,
        c.action,
        c.attempt,
        c.outcome,
        c.message,
        c.details,
    )
    for column, value in (
        (c.cooperative, cooperative),
        (c.channel, channel),
        (c.sku, sku),
        (c.outcome, outcome),
        (c.action, action),
        (c.run_id, run_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(c.at >= since)
    query = query.order_by(c.at.desc(), c.id.desc()).limit(limit)
    return [JournalEntry(**row._mapping) for row in conn.execute(query)]


# --------------------------------------------------------------------------- alerts
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
    return bool(_insert_new(conn, alerts, [row], ["cooperative", "kind", "key"]))


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


def open_alerts(conn: Connection, cooperative: str | None = None) -> list[Alert]:
    c = alerts.c
    query = select(c.at, c.cooperative, c.channel, c.kind, c.sku, c.message, c.details).where(
        c.resolved_at.is_(None)
    )
    if cooperative is not None:
        query = query.where(c.cooperative == cooperative)
    return [Alert(*row) for row in conn.execute(query.order_by(c.at))]


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
            conn.execute(
                listings.insert().values(
                    cooperative=cooperative,
                    channel=channel,
                    sku=sku,
                    parent_sku=parent,
                    status="pending",
                    attempts=0,
                    updated_at=now,
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
        conn.execute(
            listings.insert().values(
                cooperative=cooperative,
                channel=channel,
                sku=sku,
                parent_sku=parent,
                status="failed",
                remote_id=remote_id,
                last_error=message,
                last_error_at=now,
                attempts=1,
                updated_at=now,
            )
        )
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
    c = listings.c
    for start in range(0, len(skus), 500):
        chunk = list(skus[start : start + 500])
        conn.execute(
            update(listings)
            .where(
                c.cooperative == cooperative, c.channel == channel, c.sku.in_(chunk), c.attempts > 0
            )
            .values(attempts=0)
        )


def mark_unsure(
    conn: Connection, cooperative: str, channel: str, skus: Sequence[str], now: datetime
) -> None:
    """The store no longer knows what the channel shows for ``skus``: their input key,
    fingerprint, price and quantity are dropped, so the next plan works them out again and
    sends what the catalog says (every write is idempotent). Used before a change is sent (a
    pass killed after the channel applied it but before its answer was saved must not leave
    the store claiming the old state), and when the channel itself moved its stock (a sale or
    a cancellation on that channel changes its listed quantity without us)."""
    c = listings.c
    for start in range(0, len(skus), 500):
        chunk = list(skus[start : start + 500])
        conn.execute(
            update(listings)
            .where(c.cooperative == cooperative, c.channel == channel, c.sku.in_(chunk))
            .values(input_key=None, fingerprint=None, price=None, quantity=None, updated_at=now)
        )

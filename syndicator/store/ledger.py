"""The stock ledger: orders and their lines, once each; the catalog's dated stock counts; sums
of what was sold since a count.

Every order line changes stock once: the ledger's unique key (cooperative, channel, order,
line, kind) makes a repeated or overlapping pull a no-op, and a page's lines go in with the
cursor that follows them, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from syndicator.domain.orders import Order, OrderStatus
from syndicator.domain.stock import StockCount
from syndicator.store.schema import (
    orders,
    stock_counts,
    stock_ledger,
)
from syndicator.store.sql import CHUNK, insert_new, upsert

__all__ = [
    "LedgerResult",
    "Sale",
    "buyer_ref",
    "ledger_sums",
    "load_stock_counts",
    "record_orders",
    "sales_since",
    "save_stock_counts",
    "stock_count_values",
]


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
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(query.where(c.sku.in_(wanted[start : start + CHUNK])))
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
        if insert_new(conn, stock_ledger, [row], keys):
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

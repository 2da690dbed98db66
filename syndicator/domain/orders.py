"""Orders as every channel's are recorded: a status, lines of our SKUs, times in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from syndicator.domain.money import Money

__all__ = ["Order", "OrderLine", "OrderStatus"]


class OrderStatus(StrEnum):
    PENDING = "pending"  # placed, not yet paid: stock is held all the same
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str  # the channel's own line id, unique within the order
    sku: str | None  # None when the channel does not know our SKU for that line
    quantity: int
    price: Money | None = None
    remote_listing_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    status: OrderStatus
    created_at: datetime  # UTC, aware
    updated_at: datetime  # UTC, aware
    lines: tuple[OrderLine, ...]
    total: Money | None = None

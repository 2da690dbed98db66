"""Stock as the store keeps it: a catalog count, dated when Syndicator first saw it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["StockCount"]


@dataclass(frozen=True, slots=True)
class StockCount:
    count: int
    counted_at: datetime

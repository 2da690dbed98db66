"""Available stock per SKU: the catalog's count, changed by what was sold since.

A stock value in the catalog is a count *as of the moment it was written*: when the value of
a SKU changes in the file, it is a new count dated at the file's save time as Syndicator
first sees it (the daemon runs a pass on every save, so that is the save that wrote it; a
later save of the same value does not re-date it); while it stays the same, the earlier
count and its date stand. Sales recorded in the ledger after the count take stock off it,
cancellations give it back, and what is available never goes below zero.
docs/stock.md says the same in a cooperative's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from syndicator.catalog.model import Unit
from syndicator.domain.stock import StockCount

__all__ = ["StockView", "new_counts", "stock_views"]


@dataclass(frozen=True, slots=True)
class StockView:
    count: int  # the catalog's count
    counted_at: datetime  # when it was counted (the file's save time for a new count)
    changes: int  # ledger changes since then: sales negative, cancellations positive

    @property
    def available(self) -> int:
        return max(0, self.count + self.changes)


def stock_views(
    units: Iterable[Unit],
    stored: Mapping[str, StockCount],
    after_count: Mapping[str, int],
    after_file: Mapping[str, int],
    file_time: datetime,
) -> dict[str, StockView]:
    """The stock of every unit, given the stored counts and the ledger sums (see repo)."""
    views: dict[str, StockView] = {}
    for unit in units:
        old = stored.get(unit.sku)
        if old is not None and old.count == unit.stock:
            views[unit.sku] = StockView(unit.stock, old.counted_at, after_count.get(unit.sku, 0))
        else:
            views[unit.sku] = StockView(unit.stock, file_time, after_file.get(unit.sku, 0))
    return views


def new_counts(
    units: Iterable[Unit], stored: Mapping[str, StockCount], file_time: datetime
) -> dict[str, StockCount]:
    """The counts to record after a pass: those whose value changed in the catalog."""
    return {
        u.sku: StockCount(u.stock, file_time)
        for u in units
        if (old := stored.get(u.sku)) is None or old.count != u.stock
    }

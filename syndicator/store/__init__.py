"""The state store: what each channel shows, stock counts and ledger, orders, reviews,
cursors and the journal. SQLite by default, any SQLAlchemy URL (PostgreSQL) later."""

from __future__ import annotations

from syndicator.domain.listings import ListingState
from syndicator.domain.stock import StockCount
from syndicator.store.db import Store

__all__ = ["ListingState", "StockCount", "Store"]

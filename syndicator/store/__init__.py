"""The state store: what each channel shows, stock counts and ledger, orders, reviews,
cursors and the journal. SQLite by default, any SQLAlchemy URL (PostgreSQL) later."""

from __future__ import annotations

from syndicator.store.db import Store
from syndicator.store.repo import ListingState, StockCount

__all__ = ["ListingState", "StockCount", "Store"]

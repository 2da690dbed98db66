"""All SQL and the migrations, and nothing else.

SQLite by default, PostgreSQL by URL; portable SQL only (SQLAlchemy Core, each dialect's
``ON CONFLICT``). One module per kind of record: listings, the stock ledger, the journal,
alerts, cursors, passes, quotas, tokens, leases, the planning marks and bases, reviews; and
the read-only queries of ``syndicator status`` (status) and ``/metrics`` (metrics).
Every function takes an open :class:`~sqlalchemy.Connection`; :class:`Store` opens them.
"""

from __future__ import annotations

from syndicator.store.db import Store

__all__ = ["Store"]

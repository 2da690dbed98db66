"""Portable SQL helpers every store module uses: upserts and insert-if-new with each dialect's
``ON CONFLICT`` (SQLite and PostgreSQL), and the size of an ``IN (...)`` chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["CHUNK", "insert_new", "upsert"]


_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Iterable[str]) -> None:
    """Insert rows, or update the existing ones with the same ``keys``."""
    if not rows:
        return
    insert = _INSERTS.get(conn.dialect.name)
    if insert is None:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(f"upsert on {conn.dialect.name}")
    key_list = list(keys)
    stmt = insert(table)
    changed = {c: stmt.excluded[c] for c in rows[0] if c not in key_list}
    conn.execute(stmt.on_conflict_do_update(index_elements=key_list, set_=changed), rows)


CHUNK = 500  # SKUs per IN (...): well under every database's limit on parameters


def insert_new(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    """Insert the rows whose ``keys`` are not there yet; the number inserted."""
    if not rows:
        return 0
    stmt = _INSERTS[conn.dialect.name](table).on_conflict_do_nothing(index_elements=keys)
    inserted = 0
    for row in rows:  # one by one: rowcount of an executemany is not portable
        inserted += conn.execute(stmt, row).rowcount or 0
    return inserted

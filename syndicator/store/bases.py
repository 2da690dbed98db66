"""The plan bases: one row per cooperative, what the last pass found in step (its bytes).

The basis itself, its encoding and what it means, are planning's
(:mod:`syndicator.planning.basis`); the store keeps its head (file digest, version, the
ledger's last line then) apart from its records, so that a pass can tell whether the basis
still holds without reading them.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, select

from syndicator.store.marks import ledger_end
from syndicator.store.schema import plan_bases
from syndicator.store.sql import upsert

__all__ = ["BasisHead", "basis_head", "basis_records", "save_basis_row"]


class BasisHead(NamedTuple):
    file_digest: str
    version: str
    ledger_id: int


def basis_head(conn: Connection, cooperative: str) -> BasisHead | None:
    """The head of the cooperative's basis, without its records (None: none kept)."""
    c = plan_bases.c
    row = conn.execute(
        select(c.file_digest, c.version, c.ledger_id).where(c.cooperative == cooperative)
    ).one_or_none()
    if row is None:
        return None
    return BasisHead(row.file_digest, row.version, int(row.ledger_id or 0))


def basis_records(conn: Connection, cooperative: str) -> bytes | None:
    """The records of the cooperative's basis, as saved (None: none kept)."""
    c = plan_bases.c
    data = conn.execute(select(c.records).where(c.cooperative == cooperative)).scalar()
    return None if data is None else bytes(data)


def save_basis_row(
    conn: Connection,
    cooperative: str,
    *,
    file_digest: str,
    version: str,
    records: bytes,
    rows: int,
    now: datetime,
) -> None:
    """Keep a basis, with the ledger as it is now (in the pass's last write)."""
    row = {
        "cooperative": cooperative,
        "file_digest": file_digest,
        "version": version,
        "records": records,
        "rows": rows,
        "ledger_id": ledger_end(conn, cooperative),
        "saved_at": now,
    }
    upsert(conn, plan_bases, [row], ("cooperative",))

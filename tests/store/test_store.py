"""The state store: migrations at start, exact money, UTC time, portable upserts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from syndicator.domain.listings import ListingState
from syndicator.domain.stock import StockCount
from syndicator.store import Store
from syndicator.store.ledger import ledger_sums, load_stock_counts, save_stock_counts
from syndicator.store.listings import load_listings, save_listings
from syndicator.store.schema import listings, metadata, stock_ledger

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path}/state/syndicator.db")
    yield s  # type: ignore[misc]
    s.close()


def test_migrations_run_at_start_and_match_the_tables(store: Store) -> None:
    with store.read() as conn:
        assert set(inspect(conn).get_table_names()) == set(metadata.tables) | {"alembic_version"}
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_reopening_a_migrated_store_keeps_its_data(tmp_path: Path, store: Store) -> None:
    with store.write() as conn:
        save_stock_counts(conn, "coop", {"R-1": StockCount(3, NOW)})
    again = Store(str(store.url))
    with again.read() as conn:
        assert load_stock_counts(conn, "coop") == {"R-1": StockCount(3, NOW)}
    again.close()


def test_several_processes_opening_a_new_store_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/race.db"
    code = f"from syndicator.store import Store; Store({url!r}).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors


def test_money_is_exact_and_floats_are_refused(store: Store) -> None:
    state = ListingState(
        "R-1",
        "active",
        price=Decimal("601.99"),
        currency="USD",
        quantity=1,
        fingerprint="v1:abc",
        confirmed_at=NOW,
    )
    with store.write() as conn:
        save_listings(conn, "coop", "amazon", [state], NOW)
    with store.read() as conn:
        loaded = load_listings(conn, "coop", "amazon")["R-1"]
        confirmed_at = conn.execute(select(listings.c.confirmed_at)).scalar_one()
    assert loaded == replace(state, confirmed_at=None)  # planning reads no timestamps
    assert str(loaded.price) == "601.99"
    assert confirmed_at == NOW
    with pytest.raises(Exception, match="must be Decimal"), store.write() as conn:
        save_listings(
            conn,
            "coop",
            "amazon",
            [ListingState("R-2", "active", price=0.1)],  # type: ignore[arg-type]
            NOW,
        )


def test_times_are_utc_aware_and_naive_times_are_refused(store: Store) -> None:
    casablanca = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 25, 11, 0, tzinfo=casablanca)
    with store.write() as conn:
        save_stock_counts(conn, "coop", {"R-1": StockCount(1, local)})
    with store.read() as conn:
        counted_at = load_stock_counts(conn, "coop")["R-1"].counted_at
    assert counted_at == NOW and counted_at.tzinfo is UTC
    with pytest.raises(Exception, match="naive datetime"), store.write() as conn:
        save_stock_counts(conn, "coop", {"R-2": StockCount(1, datetime(2026, 1, 1))})


def test_upsert_updates_the_existing_row(store: Store) -> None:
    with store.write() as conn:
        save_listings(conn, "coop", "etsy", [ListingState("R-1", "pending")], NOW)
        save_listings(conn, "coop", "etsy", [ListingState("R-1", "active", remote_id="123")], NOW)
        save_listings(conn, "coop", "amazon", [ListingState("R-1", "active")], NOW)
    with store.read() as conn:
        assert load_listings(conn, "coop", "etsy")["R-1"].remote_id == "123"
        assert len(load_listings(conn, "coop", "amazon")) == 1


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as conn:
        save_listings(conn, "coop", "etsy", [ListingState("R-1", "active")], NOW)
        raise RuntimeError("crash in the middle of a pass")
    with store.read() as conn:
        assert load_listings(conn, "coop", "etsy") == {}


def test_ledger_sums_count_changes_after_each_count(store: Store) -> None:
    earlier, later = NOW - timedelta(hours=2), NOW + timedelta(hours=1)
    with store.write() as conn:
        save_stock_counts(conn, "coop", {"R-1": StockCount(5, NOW), "R-2": StockCount(1, NOW)})
        rows = [
            ("R-1", "o1", "sale", 1, -1, earlier),  # before the count: already in it
            ("R-1", "o2", "sale", 2, -2, later),
            ("R-1", "o2", "cancel", 2, 2, later + timedelta(minutes=5)),
            ("R-1", "o3", "sale", 1, -1, later),
            ("R-2", "o4", "sale", 1, -1, later),
        ]
        conn.execute(
            stock_ledger.insert(),
            [
                {
                    "cooperative": "coop",
                    "sku": sku,
                    "channel": "etsy",
                    "order_id": order,
                    "line_id": "1",
                    "kind": kind,
                    "quantity": qty,
                    "delta": delta,
                    "occurred_at": at,
                    "recorded_at": later,
                }
                for sku, order, kind, qty, delta, at in rows
            ],
        )
    with store.read() as conn:
        after_count, after_since = ledger_sums(conn, "coop", NOW + timedelta(minutes=30))
        total = conn.execute(select(stock_ledger.c.delta)).scalars().all()
    assert after_count == {"R-1": -1, "R-2": -1}
    assert after_since == {"R-1": -1, "R-2": -1}
    assert sum(total) == -3

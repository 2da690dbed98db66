"""The store's file in trouble, on a real SQLite file: who may read it, and what an operator
is told when it is damaged, full or deleted under a running process."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from syndicator.errors import StoreError
from syndicator.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def scribble(store: Store, n: int = 1) -> None:
    with store.write() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (x TEXT)"))
        for _ in range(n):
            conn.execute(text("INSERT INTO scratch VALUES (:x)"), {"x": "x" * 4000})


def test_a_new_store_and_its_wal_and_shm_are_readable_by_the_service_user_only(
    tmp_path: Path,
) -> None:
    """The store holds Etsy's live tokens: no other user of the machine may read it."""
    path = tmp_path / "var" / "state.db"
    store = Store(f"sqlite:///{path}")
    try:
        scribble(store)
        side = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side)
        assert {p.name: oct(mode(p)) for p in (path, *side)} == {
            p.name: "0o600" for p in (path, *side)
        }
    finally:
        store.close()


def test_a_store_left_readable_by_others_is_tightened_at_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(f"sqlite:///{path}").close()
    for p in path.parent.glob("state.db*"):
        p.chmod(0o644)
    store = Store(f"sqlite:///{path}")
    try:
        scribble(store)
        assert {oct(mode(p)) for p in path.parent.glob("state.db*")} == {"0o600"}
    finally:
        store.close()


def test_a_damaged_store_says_which_file_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"\x13garbage, not SQLite" * 500)
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{path}")
    assert caught.value.kind == "corrupt"
    message = str(caught.value)
    assert str(path) in message and "not a SQLite database" in message
    assert "restore it from a backup" in message


def test_a_store_whose_folder_cannot_be_made_says_so(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{tmp_path / 'data' / 'var' / 'state.db'}")
    assert caught.value.kind == "unopenable"
    assert f"the store's folder {tmp_path / 'data' / 'var'} does not exist" in str(caught.value)


def test_a_full_disk_says_so_and_nothing_is_half_written(tmp_path: Path) -> None:
    """SQLite's "database or disk is full", provoked with max_page_count on every new
    connection (a tiny file system is not available to a test)."""
    path = tmp_path / "state.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.engine.dispose()

        @event.listens_for(store.engine, "connect")
        def _tiny(dbapi_conn: Any, _record: Any) -> None:
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count={pages + 2}")

        with pytest.raises(StoreError) as caught:
            scribble(store, n=50)
        assert caught.value.kind == "full"
        assert f"the disk holding the store {path} is full" in str(caught.value)
        assert "free some space" in str(caught.value)
        with store.read() as conn:  # rolled back: no half-made table
            tables = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
        assert "scratch" not in tables
    finally:
        store.close()


def test_a_store_deleted_under_a_running_process_is_noticed_and_never_made_again(
    tmp_path: Path,
) -> None:
    """Deleted while open: the store says it is lost, and a new connection does not quietly
    create an empty store at the same path (everything written there would be lost too)."""
    path = tmp_path / "state.db"
    store = Store(f"sqlite:///{path}")
    try:
        assert store.lost() is None
        for p in path.parent.glob("state.db*"):
            p.unlink()
        lost = store.lost()
        assert lost is not None and lost.kind == "lost"
        assert f"the store {path} was deleted while Syndicator ran" in str(lost)
        store.engine.dispose()  # the next transaction opens the path again
        with pytest.raises(StoreError) as caught:
            scribble(store)
        assert caught.value.kind == "lost"
        assert not path.exists()
    finally:
        store.close()


def test_a_store_replaced_under_a_running_process_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(f"sqlite:///{path}")
    try:
        Store(f"sqlite:///{tmp_path / 'other.db'}").close()
        (tmp_path / "other.db").replace(path)
        lost = store.lost()
        assert lost is not None and "was replaced by another file" in str(lost)
    finally:
        store.close()

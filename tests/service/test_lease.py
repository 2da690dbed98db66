"""The daemon's lease (syndicator/service/lease.py): taken at start, a second daemon told who
holds it, renewed on each heartbeat, given back on a clean stop."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import update

from syndicator.common.logs import FailureLog, configure_logging, get_logger
from syndicator.errors import DaemonStartError
from syndicator.service.lease import DaemonLease
from syndicator.store import Store
from syndicator.store.schema import leases


def lease(store: Store, holder: str) -> DaemonLease:
    return DaemonLease(store, holder, FailureLog(get_logger("syndicator.daemon")))


def test_one_daemon_per_database(store: Store) -> None:
    url = "postgresql://syndicator:s3cret-pw@db.example.org/state"
    first = lease(store, "first")
    first.take(url)
    assert first.renew() is True
    with store.write() as conn:  # as a daemon on another host would hold it
        conn.execute(update(leases).values(host="rugs-host", pid=4121))
    with pytest.raises(DaemonStartError) as refused:
        lease(store, "second").take(url)
    said = str(refused.value)
    assert said.startswith("another Syndicator daemon already runs on this database")
    assert "db.example.org" in said and "s3cret-pw" not in said  # the URL, never its password
    assert "process 4121 on rugs-host" in said
    first.give_back()
    second = lease(store, "second")
    second.take(url)  # given back: taken at once
    assert second.renew() is True


def test_a_lease_taken_over_is_lost_and_a_store_down_is_logged_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = io.StringIO()
    configure_logging(json=True, stream=log)
    first, second = lease(store, "first"), lease(store, "second")
    first.take("sqlite:///state.db")
    first.give_back()
    second.take("sqlite:///state.db")
    assert first.renew() is False  # the daemon stops on it

    def broken() -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(store, "write", broken)
    assert second.renew() is None
    assert second.renew() is None
    monkeypatch.undo()
    assert second.renew() is True
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    said = [(e["event"], e.get("key")) for e in lines if e["event"] != "still_failing"]
    assert said == [("lease_lost", None), ("failing", "lease"), ("recovered", "lease")]

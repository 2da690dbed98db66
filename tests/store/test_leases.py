"""The daemon's lease (syndicator/store/leases.py): one holder at a time, taken over when its
holder is gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from syndicator.errors import LeaseHeld
from syndicator.store import Store
from syndicator.store.leases import acquire, renew
from syndicator.store.schema import leases


def take(store: Store, holder: str, now: datetime) -> None:
    with store.write() as conn:
        acquire(conn, "daemon", holder, now, 30)


def held_by(store: Store, pid: int, host: str | None = None) -> None:
    with store.write() as conn:
        conn.execute(update(leases).values(pid=pid, host=host or socket.gethostname()))


def test_a_second_holder_is_refused_while_the_first_lives(store: Store) -> None:
    now = datetime.now(UTC)
    take(store, "first", now)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        held_by(store, sleeper.pid)  # the first holder is a live process on this host
        with pytest.raises(LeaseHeld) as caught:
            take(store, "second", now + timedelta(seconds=5))
        assert f"process {sleeper.pid}" in str(caught.value)
    finally:
        sleeper.kill()
        sleeper.wait()
    # Its process gone (SIGKILL): taken over at once, before the lease runs out.
    take(store, "second", now + timedelta(seconds=6))
    with store.write() as conn:
        assert renew(conn, "daemon", "second", now, 30)
        assert not renew(conn, "daemon", "first", now, 30)


def test_a_lease_left_by_our_own_pid_is_a_former_life(store: Store) -> None:
    """A container restarted after a crash runs its daemon as pid 1 again, on the same
    host name: the lease its former life left is not a live daemon."""
    now = datetime.now(UTC)
    take(store, "before-the-crash", now)
    held_by(store, os.getpid())
    take(store, "after-the-restart", now + timedelta(seconds=1))


def test_a_holder_on_another_host_is_trusted_until_its_lease_runs_out(store: Store) -> None:
    now = datetime.now(UTC)
    take(store, "elsewhere", now)
    held_by(store, 12345, host="another-host")
    with pytest.raises(LeaseHeld):
        take(store, "here", now + timedelta(seconds=29))
    take(store, "here", now + timedelta(seconds=31))

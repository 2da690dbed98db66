"""Leases: one holder at a time for a name ("daemon": one daemon per database).

A lease is a row (name, holder, host, pid, expires_at) taken in a write transaction, so two
processes can never both hold it. The holder renews it well before it expires; a lease
that was not renewed in time, or whose process on this same host is gone (killed with
SIGKILL), can be taken by another. Portable SQL only: the same table works on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from syndicator.errors import LeaseHeld
from syndicator.store.schema import leases

__all__ = ["Holder", "acquire", "release", "renew"]


@dataclass(frozen=True, slots=True)
class Holder:
    holder: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}, since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC"


def _alive_here(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` runs, when it is on this host (None: cannot tell). Our own
    pid is a former life of this process's place (a container restarted after a crash runs
    its daemon as pid 1 again): not alive."""
    if host != socket.gethostname():
        return None
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(conn: Connection, name: str, holder: str, now: datetime, ttl: float) -> None:
    """Take the lease ``name`` for ``holder`` until ``now + ttl``; raise :class:`LeaseHeld`
    when another holder has it and it is still good. Call in a write transaction."""
    c = leases.c
    row = conn.execute(
        select(c.holder, c.host, c.pid, c.acquired_at, c.expires_at).where(c.name == name)
    ).one_or_none()
    expires = now + timedelta(seconds=ttl)
    values = {
        "holder": holder,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": now,
        "expires_at": expires,
    }
    if row is None:
        conn.execute(insert(leases).values(name=name, **values))
        return
    other = Holder(*row)
    good = other.expires_at > now and _alive_here(other.host, other.pid) is not False
    if other.holder != holder and good:
        raise LeaseHeld(name, other)
    conn.execute(update(leases).where(c.name == name).values(**values))


def renew(conn: Connection, name: str, holder: str, now: datetime, ttl: float) -> bool:
    """Push the lease's end to ``now + ttl``; False when ``holder`` no longer holds it."""
    c = leases.c
    result = conn.execute(
        update(leases)
        .where(c.name == name, c.holder == holder)
        .values(expires_at=now + timedelta(seconds=ttl))
    )
    return bool(result.rowcount)


def release(conn: Connection, name: str, holder: str) -> None:
    c = leases.c
    conn.execute(delete(leases).where(c.name == name, c.holder == holder))

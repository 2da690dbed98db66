"""The daemon's lease on its database: one daemon per database, kept on each heartbeat.

Taken at start (a second daemon on the same database gets a :class:`DaemonStartError` that
says who holds it), renewed on each heartbeat for :data:`LEASE_TTL` seconds, given back on
a clean stop. A daemon that stopped without giving it back (a crash, SIGKILL, a pass
abandoned at stop) leaves it to expire: :mod:`syndicator.store.leases` says when another may
take it.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from sqlalchemy import make_url

from syndicator.common.logs import FailureLog, get_logger
from syndicator.errors import DaemonStartError, LeaseHeld
from syndicator.store import Store
from syndicator.store.leases import acquire, release, renew

__all__ = ["LEASE", "LEASE_TTL", "DaemonLease"]

log = get_logger("syndicator.daemon")

LEASE = "daemon"
LEASE_TTL = 30.0  # seconds; renewed on every heartbeat


class DaemonLease:
    """The lease ``holder`` takes on ``store``; ``failures`` logs a renewal that cannot
    reach the store once, and its recovery once."""

    def __init__(self, store: Store, holder: str, failures: FailureLog) -> None:
        self.store = store
        self.holder = holder
        self.failures = failures

    def take(self, database_url: str) -> None:
        """Take the lease, or raise :class:`DaemonStartError` naming the daemon that holds
        it (``database_url`` is shown without its password)."""
        try:
            with self.store.write() as conn:
                acquire(conn, LEASE, self.holder, datetime.now(UTC), LEASE_TTL)
        except LeaseHeld as exc:
            raise DaemonStartError(
                f"another Syndicator daemon already runs on this database "
                f"({_display(database_url)}): {exc.holder.describe()}. Stop it "
                "first; two daemons on one database would send the same changes twice."
            ) from None

    def renew(self) -> bool | None:
        """Renew the lease: True when still held, False when another daemon took it (the
        daemon must stop), None when the store could not say (logged once)."""
        try:
            with self.store.write() as conn:
                held = renew(conn, LEASE, self.holder, datetime.now(UTC), LEASE_TTL)
        except Exception as exc:
            self.failures.failed("lease", f"{type(exc).__name__}: {exc}")
            return None
        self.failures.recovered("lease")
        if not held:
            log.error("lease_lost", note="another daemon took the database; stopping")
        return held

    def give_back(self) -> None:
        """Release the lease (a store that fails now only lets it expire)."""
        with contextlib.suppress(Exception), self.store.write() as conn:
            release(conn, LEASE, self.holder)


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)

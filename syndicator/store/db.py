"""Opening the state store: engine, SQLite pragmas, and migrations run at start.

SQLite (the default) is opened in WAL mode, with a busy timeout, foreign keys on, and
transactions that really begin when SQLAlchemy says so (pysqlite defers BEGIN otherwise);
write transactions take the write lock up front (``BEGIN IMMEDIATE``), so two processes
never deadlock upgrading a read lock. The file is the service user's only (``0600``), and
SQLite's errors about the file itself (read-only, damaged, disk full, deleted under a running
process) come out as a :class:`~syndicator.errors.StoreError` saying what to do
(:mod:`syndicator.store.trouble`). Any other database URL (PostgreSQL) is used as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from syndicator.common.logs import CREDENTIAL_MIN_LENGTH, Redactor
from syndicator.errors import StoreError
from syndicator.store.redaction import redact_writes
from syndicator.store.trouble import StoreFile

__all__ = ["Store", "migrations_config"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def migrations_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, see below
        cursor = dbapi_conn.cursor()
        # The busy timeout first: switching a new file to WAL takes a lock another process
        # opening the same new store may hold, and without it that fails at once.
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The state store behind a database URL. Migrations run when it is opened."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        parsed = make_url(url)
        self.url = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # A SQLite file: created 0600, then only ever opened as it is (store/trouble.py).
        self.file: StoreFile | None = None
        on_disk = self.is_sqlite and parsed.database not in (None, "", ":memory:")
        if on_disk and not parsed.query.get("uri"):
            self.file = StoreFile.open(Path(str(parsed.database)))
            parsed = self.file.url(parsed)
        self.engine = create_engine(parsed)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        # Masks secrets in every message written (store/redaction.py); fed the channels'
        # credentials and rotated tokens by store/tokens.py.
        self.redactor = Redactor(min_length=CREDENTIAL_MIN_LENGTH)
        redact_writes(self.engine, self.redactor)
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest migration; a no-op when it is already there."""
        cfg = migrations_config()
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with self.write() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes: committed on success, rolled back on error."""
        with self._trouble(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads: one consistent snapshot."""
        with self._trouble(), self.engine.connect() as conn, conn.begin():
            yield conn

    def lost(self) -> StoreError | None:
        """Why the store's file is no longer the one opened (deleted or replaced under this
        process), or None (also for a database that is not a SQLite file)."""
        return self.file.lost() if self.file is not None else None

    @contextmanager
    def _trouble(self) -> Iterator[None]:
        """SQLite's errors about the file itself (read-only, damaged, full, gone) raised as
        a :class:`StoreError` that says what to do; any other error as it is."""
        try:
            yield
        except DBAPIError as exc:
            trouble = self.file.explain(exc) if self.file is not None else None
            if trouble is None:
                raise
            raise trouble from exc

    def close(self) -> None:
        self.engine.dispose()

"""The store's SQLite file: created readable by its owner only, watched for loss, and what
SQLite or the system says when it cannot be used, put in words an operator can act on.

The store holds live tokens (Etsy's refresh token), so the file and the ``-wal`` and
``-shm`` files SQLite keeps beside it are ``0600``: the file is created so before SQLite
first opens it (SQLite gives its side files the main file's mode), and an existing one
with a wider mode is tightened at open, with a warning.

After the first open, SQLite is only ever asked to open the file as it is (URI
``mode=rw``): a store deleted under a running process is not silently created again,
empty, at the same path. :meth:`StoreFile.lost` compares the file at the path with the one
opened (device and inode), so a deleted or replaced store is noticed, not written into the
void until the process stops.
"""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from syndicator.common.logs import get_logger
from syndicator.errors import StoreError, out_of_files

__all__ = ["FILE_MODE", "StoreFile"]

log = get_logger("syndicator.store")

FILE_MODE = 0o600  # the store and its side files: the service's user only
SIDE_FILES = ("-wal", "-shm", "-journal")

# What SQLite says (sqlite3's message, lower case) -> the kind of trouble. "unable to open"
# is looked at more closely (the file gone, a folder, no descriptor left).
_SQLITE_SAYS = (
    ("readonly", "read-only"),
    ("not a database", "corrupt"),
    ("malformed", "corrupt"),
    ("disk is full", "full"),
    ("disk i/o error", "io"),
    ("unable to open", "unopenable"),
)


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def _file_limit() -> str:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return "no limit" if soft == resource.RLIM_INFINITY else str(soft)


@dataclass(frozen=True, slots=True)
class StoreFile:
    """The SQLite file of a store, as opened: its path and identity (device, inode)."""

    path: Path
    identity: tuple[int, int]

    @classmethod
    def open(cls, path: Path) -> StoreFile:
        """The file at ``path``, created (``0600``, its folder too) when missing, its mode
        and its side files' tightened to ``0600``; :class:`StoreError` when it cannot be."""
        path = path.absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
                log.info("store_created", path=str(path), mode=oct(FILE_MODE))
            except FileExistsError:
                pass
            if path.is_dir():
                raise StoreError(
                    f"the store {path} is a folder, not a file: point store.url (or "
                    f"SYNDICATOR_DATABASE_URL) at a file, e.g. {path / 'syndicator.db'}",
                    kind="unopenable",
                )
            for side in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
                _tighten(side)
            st = path.stat()
        except OSError as exc:
            raise _os_trouble(path, exc) from exc
        return cls(path, (st.st_dev, st.st_ino))

    def url(self, url: URL) -> URL:
        """``url`` opening this very file, never creating it again (URI ``mode=rw``)."""
        database = "file:" + quote(str(self.path), safe="/")
        return url.set(database=database, query={**url.query, "mode": "rw", "uri": "true"})

    def lost(self) -> StoreError | None:
        """Why the file at the path is no longer the one opened (deleted, replaced), or None."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            how = "deleted"
        except OSError as exc:
            if out_of_files(exc):
                return None  # not a loss: reported where a file fails to open
            how = f"out of reach ({exc.strerror})"
        else:
            if (st.st_dev, st.st_ino) == self.identity:
                return None
            how = "replaced by another file"
        return StoreError(
            f"the store {self.path} was {how} while Syndicator ran: nothing recorded from "
            "now on would be kept. Stop Syndicator, put the store back from a backup, and "
            'start it again (docs/deploy.md, "The store in trouble")',
            kind="lost",
        )

    def explain(self, exc: BaseException) -> StoreError | None:
        """What ``exc`` (raised by SQLite or the system on this file) means for an operator;
        None when it is not trouble with the file (a bug, a lock: raised as it is)."""
        if isinstance(exc, OSError):
            return _os_trouble(self.path, exc)
        if not isinstance(exc, DBAPIError):
            return None
        said = str(exc.orig).strip()
        kind = next((k for key, k in _SQLITE_SAYS if key in said.lower()), None)
        if kind is None:
            return None
        if (lost := self.lost()) is not None:
            return lost
        path, folder = self.path, self.path.parent
        if kind == "read-only":
            return StoreError(
                f"the store {path} cannot be written (SQLite: {said}): give {_user()} write "
                f"access to the file and to its folder {folder} (SQLite writes "
                f"{path.name}-wal and {path.name}-shm beside it), or point store.url at a "
                "writable place",
                kind=kind,
            )
        if kind == "corrupt":
            return StoreError(
                f"the store {path} is not a SQLite database or is damaged (SQLite: {said}): "
                "restore it from a backup; or move it aside to start from an empty store "
                "(what it remembered of each shop is then lost)",
                kind=kind,
            )
        if kind == "full":
            return _full(path)
        if kind == "io":
            return StoreError(
                f"the store {path} could not be read or written (SQLite: {said}): check the "
                "disk and its file system (dmesg), then run again",
                kind=kind,
            )
        if out_of_files():
            return _files(path)
        return StoreError(
            f"the store {path} cannot be opened (SQLite: {said}): check that {_user()} can "
            f"read and write it and its folder {folder}",
            kind=kind,
        )


def _tighten(path: Path) -> None:
    """``path``'s mode down to the owner's bits (nothing when it is missing or not ours)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & 0o700)
    except PermissionError:
        log.warning(
            "store_readable_by_others",
            path=str(path),
            mode=oct(mode),
            hint=f"chmod 600 {path}: the store holds the shops' tokens",
        )
        return
    log.warning("store_mode_tightened", path=str(path), was=oct(mode), now=oct(mode & 0o700))


def _full(path: Path) -> StoreError:
    try:
        free = f"{shutil.disk_usage(path.parent).free / 1e6:.1f} MB free"
    except OSError:
        free = "free space unknown"
    return StoreError(
        f"the disk holding the store {path} is full ({free}): free some space on it, then "
        "run again (what could not be written was rolled back, nothing half-written)",
        kind="full",
    )


def _files(path: Path) -> StoreError:
    return StoreError(
        f"no file descriptor left to open the store {path} (Too many open files; this "
        f"process may open {_file_limit()}): raise the limit (ulimit -n, LimitNOFILE= in "
        "systemd) or find what holds so many files or connections open",
        kind="files",
    )


def _os_trouble(path: Path, exc: OSError) -> StoreError:
    """What the system refused while preparing or checking the store's file."""
    folder = path.parent
    if out_of_files(exc):
        return _files(path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _full(path)
    if exc.errno == errno.EROFS:
        return StoreError(
            f"the store {path} is on a read-only file system: point store.url at a writable "
            "place (a volume mounted read-write)",
            kind="read-only",
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StoreError(
            f"the store {path} cannot be created or opened ({exc.strerror}: "
            f"{exc.filename or path}): give {_user()} write access to the folder {folder}, "
            "or point store.url at a writable place",
            kind="read-only",
        )
    if exc.errno in (errno.ENOTDIR, errno.ENOENT):
        return StoreError(
            f"the store's folder {folder} does not exist and cannot be made "
            f"({exc.strerror}: {exc.filename or folder}): create it, writable by {_user()}, "
            "or point store.url elsewhere",
            kind="unopenable",
        )
    return StoreError(
        f"the store {path} cannot be opened ({exc.strerror or type(exc).__name__}): check the "
        "file, its folder and the disk",
        kind="unopenable",
    )

"""Everything Syndicator raises on purpose, grouped by what the caller does with it.

One root, :class:`SyndicatorError`, and under it one group per way of handling a failure.
A caller catches a group, never a list of unrelated classes: the sync pass stops a channel
on :class:`StopAndAlert`, waits on :class:`Wait`, retries :class:`Retry` (through the one
:class:`~syndicator.channels.calls.Caller`), records :class:`RecordAndGoOn` against the one
item and goes on; the command line prints :class:`FixInput` with its file and line and
exits 2; a reader that meets a :class:`Fallback` does the same work the long, exact way. ::

    SyndicatorError
    ├── FixInput              the input is wrong: say where and what to write instead
    │   ├── ConfigError           the daemon config; each problem names file, line and key
    │   ├── Unreadable            a file that cannot be read at all (config, catalog, rates)
    │   │                         (both carry Problems: syndicator.common.problems)
    │   ├── InvalidValue          one value that does not parse (also a ValueError)
    │   ├── ScopeError            --cooperative or --channel names nothing in the config
    │   ├── PluginError           an installed plugin that does not load or describe itself
    │   └── (the emulators': ApiError, SpecError: a request the marketplace refuses as sent;
    │        SandboxError: a config the sandbox cannot stand in for; see sandbox/)
    ├── StopAndAlert          stop this channel (or the daemon) and alert: a person must act
    │   ├── AuthError             the channel refuses the credentials       (ChannelError)
    │   ├── SetupError            the config or the account cannot work      (ChannelError)
    │   ├── LeaseHeld             another daemon holds the database
    │   ├── DaemonStartError      the daemon cannot start
    │   └── StoreError            the store cannot be used (read-only, damaged, full, lost)
    ├── Wait                  wait as long as told, then go on
    │   ├── Throttled             over the channel's quota (``retry_after``) (ChannelError)
    │   └── QuotaWait             the next call is further off than a call may wait: the
    │                             rest waits for the next pass (also a TimeoutError)
    ├── Retry                 may pass: retried with jittered backoff, a bounded number of times
    │   └── Transient             a 5xx, a timeout, a dropped or empty answer (ChannelError)
    ├── RecordAndGoOn         record it against the one item and go on with the others
    │   └── ItemRejected          the channel refuses this one item           (ChannelError)
    └── Fallback              a shortcut does not hold for this input: take the long way
        └── NotSimple             a CSV file the quick cut cannot read: read it whole
                                  (syndicator.catalog.csv_reader)

:class:`ChannelError` is what the five channel failures share: the channel's own words
(``message``, ``code``, HTTP ``status``, the API ``operation``). A rejected item is normally
reported as a failed outcome, not raised: a batch never stops for one bad listing.
"""

from __future__ import annotations

import errno
import os
from typing import Protocol

__all__ = [
    "AuthError",
    "ChannelError",
    "DaemonStartError",
    "Fallback",
    "FixInput",
    "InvalidValue",
    "ItemRejected",
    "LeaseHeld",
    "PluginError",
    "QuotaWait",
    "RecordAndGoOn",
    "Retry",
    "ScopeError",
    "SetupError",
    "StopAndAlert",
    "StoreError",
    "SyndicatorError",
    "Throttled",
    "Transient",
    "Wait",
    "out_of_files",
]


class SyndicatorError(Exception):
    """The root of everything Syndicator raises on purpose."""

    stops_channel = False  # StopAndAlert: nothing more goes to the channel in this pass
    retryable = False  # Wait and Retry: the same call may succeed later


# --------------------------------------------------------------------------- the groups
class FixInput(SyndicatorError):
    """The input is wrong (a config key, a catalog cell, a command option): the message
    says where and what to write instead. Nothing was done with the wrong part."""


class StopAndAlert(SyndicatorError):
    """Nothing more can be done here until a person acts (credentials, account, another
    daemon): stop this channel or the daemon, raise one alert, do not retry."""

    stops_channel = True


class Wait(SyndicatorError):
    """Come back later: wait as long as told (``retry_after``), then go on."""

    retryable = True


class Retry(SyndicatorError):
    """A failure that may pass: retried with jittered backoff, a bounded number of times."""

    retryable = True


class RecordAndGoOn(SyndicatorError):
    """About one item only: record it against that item and go on with the others."""


class Fallback(SyndicatorError):
    """A shortcut that does not hold for this input: the caller does the same work the
    long, exact way (the result is the same, only slower)."""


# --------------------------------------------------------------------------- the input
class InvalidValue(FixInput, ValueError):
    """One value that does not parse (a number, a rounding rule, a catalog cell); the
    message says what to write instead. Also a ValueError, for pydantic validators."""


class ScopeError(FixInput, ValueError):
    """``--cooperative`` or ``--channel`` names something the config does not have."""


class PluginError(FixInput):
    """An installed plugin (a channel type, a sandbox) does not load or does not describe
    itself properly; the message names it."""


# --------------------------------------------------------------------------- the channels
class ChannelError(SyndicatorError):
    """A failure at the channel, in the channel's own words.

    ``message`` is what the channel said (or, for a network failure, what happened);
    ``code`` the channel's own error code when it gives one; ``status`` the HTTP status.
    ``operation`` names the API operation (``putListingsItem``, ``createDraftListing``).
    Never put a credential in any of them.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.operation = operation

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        what = " ".join(p for p in (str(self.status) if self.status else "", self.code or "") if p)
        return f"{where}{what + ': ' if what else ''}{self.message}"


class AuthError(ChannelError, StopAndAlert):
    """The channel refuses the credentials: stop this channel and alert, do not retry."""


class SetupError(ChannelError, StopAndAlert):
    """The config or the account cannot work (unknown shop, missing permission, bad
    setting): stop this channel and alert, do not retry."""


class Throttled(ChannelError, Wait):
    """Over the channel's quota: wait ``retry_after`` seconds (None: the channel did not
    say; back off), then try again."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Transient(ChannelError, Retry):
    """A failure that may pass: a 5xx, a timeout, a dropped connection, an empty answer
    where one was due. Retried with jittered backoff, a bounded number of times."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ItemRejected(ChannelError, RecordAndGoOn):
    """The channel refuses this one item (a missing attribute, a title too long): record
    its message and go on with the others."""


# --------------------------------------------------------------------------- waiting
class QuotaWait(Wait, TimeoutError):
    """A call would have to wait for its quota longer than a call may wait: the rest of
    the batch is left for the next pass (also a TimeoutError)."""


# --------------------------------------------------------------------------- the daemon
class _Described(Protocol):
    def describe(self) -> str: ...


class LeaseHeld(StopAndAlert):
    """Another process holds the lease; ``holder`` says who."""

    def __init__(self, name: str, holder: _Described) -> None:
        super().__init__(f"{name} is held by {holder.describe()}")
        self.name = name
        self.holder = holder


class DaemonStartError(StopAndAlert):
    """The daemon cannot start (another one holds the database, ...); the message says why
    and what to do."""


class StoreError(StopAndAlert):
    """The store cannot be used as it is: read-only, damaged, its disk full, deleted under a
    running daemon, no file descriptor left to open it. ``kind`` names which
    (``read-only``, ``corrupt``, ``full``, ``lost``, ``files``, ``unopenable``, ``io``); the
    message names the file and what to do. Never the database URL's password."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------- local faults
def out_of_files(exc: BaseException | None = None) -> bool:
    """Whether this process has run out of file descriptors: ``exc`` (or what it was raised
    from) says so, or, without one, no file can be opened now."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return True
        exc = exc.__cause__ or exc.__context__
    if seen:
        return False
    try:
        os.close(os.open(os.devnull, os.O_RDONLY))
    except OSError as err:
        return err.errno in (errno.EMFILE, errno.ENFILE)
    return False

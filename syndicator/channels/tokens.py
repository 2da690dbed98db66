"""Access tokens from a refresh token, written once for every connector that logs in.

:class:`AccessTokens` holds one connector's access token, used until a margin before it
expires, and gets the next one through the connector's
:class:`~syndicator.channels.calls.Caller` (quota, classification, bounded retries). A
subclass gives the grant call (the channel's token endpoint, :meth:`AccessTokens.grant`)
and says whether the refresh token rotates:

- **A refresh token that stays** (Login with Amazon): the configured one, given as
  ``refresh_token``. Access tokens live in memory only. Once the channel refuses it, the
  same :class:`~syndicator.errors.AuthError` is raised again without asking: a refused
  credential does not hammer the token endpoint.
- **A refresh token that works once** (Etsy: each refresh answers a new one), given as the
  ``store`` that keeps it (:class:`~syndicator.channels.interface.TokenStore`). A refresh
  runs under ``store.exclusive()``: it reloads the newest refresh token, adopts the access
  token another worker stored meanwhile (same chain, good past the margin), or else spends
  the token and saves the rotated one with the access token, its expiry and the chain's
  digest in one transaction. So two workers never spend the same token, and a restart goes
  on from the newest one. Another worker may cure a refusal: it is not remembered.

Either way a call the channel refuses for the token alone (a 401,
:meth:`AccessTokens.stale`) gets one new token and one more try
(:meth:`AccessTokens.authorized`), and every token is fed to the connector's
:class:`~syndicator.common.logs.Redactor`.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from syndicator.common.logs import CREDENTIAL_MIN_LENGTH, Redactor
from syndicator.errors import AuthError

if TYPE_CHECKING:
    from syndicator.channels.calls import Caller
    from syndicator.channels.interface import TokenStore

__all__ = [
    "CREDENTIAL_MIN_LENGTH",
    "AccessTokens",
    "Grant",
    "aware",
    "credentials_redactor",
    "digest",
]

T = TypeVar("T")

# The names a rotating chain is kept under in the token store: the refresh token (the name
# of the configured credential), and the access token it last gave, with its expiry and the
# digest of the refresh token it came from (an operator's new refresh token starts a chain).
REFRESH, ACCESS, EXPIRES, CHAIN = "refresh_token", "access_token", "access_expires", "access_chain"


def credentials_redactor(credentials: Mapping[str, str]) -> Redactor:
    """The redactor a connector's messages go through: its credential values masked (the
    tokens it is granted later are added to it)."""
    return Redactor(credentials.values(), min_length=CREDENTIAL_MIN_LENGTH)


def digest(value: str) -> str:
    """SHA-256 of ``value`` in hex: names a secret without showing it."""
    return hashlib.sha256(value.encode()).hexdigest()


def aware(value: datetime) -> datetime:
    """``value`` in UTC; a time with no zone is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token endpoint answered: the access token, when it expires, and the refresh
    token to use next time when the channel rotates it (None: the same one goes on)."""

    access: str
    expires: datetime
    refresh: str | None = None


class AccessTokens(abc.ABC):
    """One connector's access tokens (see the module's docstring).

    Give ``refresh_token`` for a refresh token that stays, or ``store`` for one the channel
    rotates. ``operation`` is the grant's name for the quota and in errors (``lwaToken``,
    ``oauthToken``); ``margin``: seconds before expiry when a token is no longer used (at
    most half its life, for a token granted here).
    """

    def __init__(
        self,
        caller: Caller,
        operation: str,
        *,
        refresh_token: str | None = None,
        store: TokenStore | None = None,
        margin: float = 300.0,
        redactor: Redactor | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if (refresh_token is None) == (store is None):
            raise ValueError("give the refresh token, or the store that keeps it")
        self.caller = caller
        self.operation = operation
        self.store = store
        self._refresh_token = refresh_token
        self.margin = timedelta(seconds=margin)
        self.redactor = redactor
        self.clock = clock
        self.access: str | None = None
        self.expires: datetime | None = None
        self._good_until: datetime | None = None
        self._refused: AuthError | None = None
        self.granted = 0  # tokens the channel granted, for tests and metrics

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def grant(self, refresh_token: str) -> Grant:
        """Spend ``refresh_token`` at the channel's token endpoint (called through the
        Caller: raise the error tree, or what the Caller's classifier sorts)."""

    def adopted(self, access: str, expires: datetime) -> None:  # noqa: B027 - optional
        """A new access token is in use from now on (hand it to the client library)."""

    def refreshed(self) -> None:  # noqa: B027 - optional
        """A grant was made and kept (log it here)."""

    def missing(self) -> AuthError:
        """The error when the store holds no refresh token at all."""
        return AuthError("no refresh token: authorise the app and put the token in the config")

    def stale(self, exc: AuthError) -> bool:
        """Whether the channel refused a call for the access token alone (a 401): then
        :meth:`authorized` gets one new token and tries once more."""
        return exc.status == 401

    # ------------------------------------------------------------------ use
    def token(self) -> str:
        """A valid access token: the one held, else the one another worker stored, else a
        new one. A refresh token that stays and was refused: that refusal again."""
        if self._refused is not None:
            r = self._refused
            raise AuthError(r.message, code=r.code, status=r.status, operation=r.operation)
        if self.access and self._good_until is not None and self.clock() < self._good_until:
            return self.access
        if self.store is not None:
            stored = self._stored(self.store, self.store.load(REFRESH))
            if stored is not None and stored[0] != self.access:
                self._adopt(*stored)
                return stored[0]
        return self.refresh(stale=self.access)

    def authorized(self, call: Callable[[], T]) -> T:
        """``call()`` with a valid token; refused for the token alone (:meth:`stale`), once
        more with a new one."""
        self.token()
        try:
            return call()
        except AuthError as exc:
            if not self.stale(exc):
                raise
            self.refresh(stale=self.access)
            return call()

    def refresh(self, *, stale: str | None = None) -> str:
        """A new access token, now (``stale``: the one the channel just refused, not to be
        taken from the store again)."""
        try:
            return self.caller(self.operation, lambda: self._renew(stale))
        except AuthError as exc:
            if self.store is None:  # the configured token, refused: it stays refused
                self._refused = exc
            raise

    def keep(self, grant: Grant, tokens: TokenStore | None = None) -> None:
        """Use ``grant`` from now on; with a rotating refresh token, save it first in
        ``tokens`` (the store, or the one locked for this refresh): the rotated refresh
        token, the access token, its expiry and the chain, all at once."""
        store = tokens if tokens is not None else self.store
        self.hide(grant.access, *([grant.refresh] if grant.refresh else []))
        if store is not None:
            refresh = grant.refresh or store.load(REFRESH)
            if not refresh:
                raise self.missing()
            store.save(self._chain(grant.access, refresh, grant.expires))
        self._adopt(grant.access, grant.expires, self.clock())

    def hide(self, *values: str) -> None:
        """Mask these values in the connector's messages from now on."""
        if self.redactor is not None:
            self.redactor.add(*values)

    # ------------------------------------------------------------------ inside
    def _renew(self, stale: str | None) -> str:
        if self.store is None:
            assert self._refresh_token is not None
            grant = self.grant(self._refresh_token)
            self.granted += 1
            self.keep(grant)
            self.refreshed()
            return grant.access
        with self.store.exclusive() as tokens:
            refresh = tokens.load(REFRESH)
            if not refresh:
                raise self.missing()
            self.hide(refresh)
            stored = self._stored(tokens, refresh)
            if stored is not None and stored[0] != stale:
                self._adopt(*stored)
                return stored[0]
            grant = self.grant(refresh)
            self.granted += 1
            self.keep(Grant(grant.access, grant.expires, grant.refresh or refresh), tokens)
            self.refreshed()
            return grant.access

    def _stored(self, tokens: TokenStore, refresh: str | None) -> tuple[str, datetime] | None:
        """The access token in the store, when it comes from ``refresh`` (not from a chain
        an operator has replaced) and is good past the margin."""
        if not refresh:
            return None
        access, chain, expires = (tokens.load(n) for n in (ACCESS, CHAIN, EXPIRES))
        if not access or not expires or chain != digest(refresh):
            return None
        try:
            when = aware(datetime.fromisoformat(expires))
        except ValueError:
            return None
        if when - self.margin <= self.clock():
            return None
        return access, when

    @staticmethod
    def _chain(access: str, refresh: str, expires: datetime) -> Mapping[str, str]:
        return {
            REFRESH: refresh,
            ACCESS: access,
            EXPIRES: aware(expires).isoformat(),
            CHAIN: digest(refresh),
        }

    def _adopt(self, access: str, expires: datetime, granted_at: datetime | None = None) -> None:
        """Use ``access`` until the margin before ``expires`` (for a token just granted, at
        most half its life before)."""
        expires = aware(expires)
        margin = self.margin
        if granted_at is not None:
            margin = min(margin, (expires - granted_at) / 2)
        self.access, self.expires, self._good_until = access, expires, expires - margin
        self.hide(access)
        self.adopted(access, expires)

"""Etsy's credentials and tokens.

Every call carries ``x-api-key: keystring:shared_secret`` (etsy-python sends the keystring
only, which Etsy refuses with a 403) and a bearer token. The access token lasts an hour and
the refresh token **works once**: each refresh answers a new one. :class:`EtsyTokens` is the
shared token strategy (:class:`~syndicator.connector.AccessTokens`) with the token store:
refreshed a margin before expiry under the store's lock, the rotated refresh token saved
with the access token in one transaction, a 401 refreshed once. The library's own refresh
(at expiry, with no lock) is never reached; were it reached, what it got is saved at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import requests
from etsy_python.v3.resources import EtsyClient

from syndicator.connector import (
    AccessTokens,
    AuthError,
    Caller,
    Grant,
    Redactor,
    TokenStore,
    aware,
)

__all__ = ["Credentials", "EtsyTokens", "refusal"]

log = logging.getLogger("syndicator.connectors.etsy")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The app's keystring and shared secret (the refresh token lives in the token store)."""

    keystring: str
    shared_secret: str

    @classmethod
    def of(cls, credentials: Mapping[str, str]) -> Credentials:
        return cls(
            (credentials.get("keystring") or "").strip(),
            (credentials.get("shared_secret") or "").strip(),
        )

    @property
    def api_key(self) -> str:
        """The ``x-api-key`` header Etsy wants."""
        return f"{self.keystring}:{self.shared_secret}"

    def check(self) -> None:
        """Refuse before any call what Etsy would refuse (and a refresh token spent on it)."""
        if not self.keystring:
            raise AuthError("the keystring credential is empty: Etsy needs the app's keystring")
        if not self.shared_secret:
            raise AuthError(
                "the shared_secret credential is empty: Etsy wants x-api-key "
                "keystring:shared_secret and refuses the keystring alone (403)"
            )


def refusal(code: str | None, message: str) -> str:
    """What the token endpoint's refusal means, and what the operator does about it."""
    if code == "invalid_grant":
        return (
            f"Etsy refused the refresh token (invalid_grant: {message}): it was used "
            "already, expired or was revoked. Authorise the app again (docs/etsy.md) and "
            "put the new refresh token in the config"
        )
    if code == "invalid_client":
        return f"Etsy does not know this keystring (invalid_client: {message})"
    return f"Etsy refused to refresh the access token ({code or 'error'}: {message})"


class EtsyTokens(AccessTokens):
    """The access tokens of one shop, on etsy-python's client and session."""

    def __init__(
        self,
        client: EtsyClient,
        session: requests.Session,
        caller: Caller,
        store: TokenStore,
        *,
        shop_id: int,
        margin: float,
        redactor: Redactor,
    ) -> None:
        super().__init__(caller, "oauthToken", store=store, margin=margin, redactor=redactor)
        self.client = client
        self.session = session
        self.shop_id = shop_id
        self._refreshing = False
        client.sync_refresh = self.library_refreshed

    def grant(self, refresh_token: str) -> Grant:
        self.client.refresh_token = refresh_token
        self._refreshing = True
        try:
            access, rotated, expiry = self.client.update_token()
        finally:
            self._refreshing = False
        return Grant(str(access), aware(expiry), str(rotated))

    def adopted(self, access: str, expires: datetime) -> None:
        self.client.access_token = access
        self.client.expiry = expires
        self.session.headers["Authorization"] = f"Bearer {access}"

    def refreshed(self) -> None:
        log.info("etsy shop %s: access token refreshed, refresh token rotated", self.shop_id)

    def missing(self) -> AuthError:
        return AuthError(
            "no Etsy refresh token: authorise the app (docs/etsy.md) and put the refresh "
            "token in the config"
        )

    def stale(self, exc: AuthError) -> bool:
        if exc.status != 401:
            return False
        log.info("etsy shop %s: %s answered 401, refreshing the token", self.shop_id, exc.operation)
        return True

    def library_refreshed(self, access: str, refresh: str, expiry: datetime) -> None:
        """etsy-python refreshed by itself (it does at expiry): keep what it got, at once."""
        if self._refreshing:
            return  # our own refresh: saved under the lock
        log.warning("etsy shop %s: etsy-python refreshed the token itself", self.shop_id)
        self.keep(Grant(access, aware(expiry), refresh))

"""Login with Amazon, held by one connector.

python-amazon-sp-api keeps access tokens in a process-wide cache keyed by the refresh token
alone (``sp_api.auth.access_token_client.cache``, 3,200 s): a wrong or rotated client secret
goes unnoticed while an entry lives, and in a daemon serving several sellers a token is one
typo away from another account. So the connector never lets the library log in: it hands
the library an auth class (:func:`auth_class`) whose tokens come from :class:`LwaTokens`,
which belong to this connector alone, are fetched through the connector's quota and retries
(``lwaToken``), with a timeout, and never enter the library's cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sp_api.auth import AccessTokenClient, AccessTokenResponse

from syndicator.connector import AuthError, Caller, SetupError, Transient, error_for_status

__all__ = ["LWA_URL", "LwaTokens", "auth_class"]

LWA_URL = "https://api.amazon.com/auth/o2/token"
MARGIN = 300.0  # refresh a token this long before it expires

# LWA's OAuth 2 errors that mean the credentials themselves are refused.
_REFUSED = {
    "invalid_client": "the client_id or client_secret is wrong (LWA client secrets rotate "
    "every 180 days: copy the new one from Developer Central)",
    "invalid_grant": "the refresh token is unknown, revoked, or belongs to another app: "
    "authorise the app again and store the new refresh token",
    "unauthorized_client": "this app may not use refresh tokens",
    "access_denied": "the seller withdrew the app's authorisation",
    "invalid_scope": "the app lacks the scope asked for",
}


class LwaTokens:
    """Access tokens for one (client id, client secret, refresh token)."""

    def __init__(
        self,
        url: str,
        credentials: dict[str, str],
        http: httpx.Client,
        caller: Caller,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        }
        self._http = http
        self._caller = caller
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._refused: AuthError | None = None
        self.fetched = 0  # tokens obtained, for tests and metrics

    def access_token(self) -> str:
        """A valid access token, fetched when there is none or it is about to expire. Once
        LWA refused the credentials, the same refusal again, without asking LWA again."""
        if self._refused is not None:
            r = self._refused
            raise AuthError(r.message, code=r.code, status=r.status, operation=r.operation)
        if self._token is None or self._clock() >= self._expires:
            try:
                self._token, lifetime = self._caller("lwaToken", self._fetch)
            except AuthError as exc:
                self._refused = exc
                raise
            self._expires = self._clock() + max(lifetime - MARGIN, lifetime / 2)
            self.fetched += 1
        return self._token

    def invalidate(self) -> None:
        """Forget the token (Amazon said it expired): the next call fetches another."""
        self._token = None

    def _fetch(self) -> tuple[str, float]:
        response = self._http.post(
            self.url,
            data=self._form,
            headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        status = response.status_code
        if status == 200:
            token, lifetime = body.get("access_token"), body.get("expires_in")
            if isinstance(token, str) and token:
                seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
                return token, seconds
            raise Transient("Login with Amazon answered without an access token", status=status)
        code = body.get("error") if isinstance(body.get("error"), str) else None
        said = (
            body.get("error_description") if isinstance(body.get("error_description"), str) else ""
        )
        if code in _REFUSED or status == 401:
            hint = _REFUSED.get(code or "", "the credentials are refused")
            message = f"Login with Amazon refused the credentials ({code or status}"
            message += f": {said}): {hint}" if said else f"): {hint}"
            raise AuthError(message, code=code, status=status)
        what = f"Login with Amazon answered {status}" + (f" {code}" if code else "")
        what += f": {said}" if said else ""
        err = error_for_status(status, what, code=code, headers=response.headers)
        if err.retryable or isinstance(err, AuthError):
            raise err
        raise SetupError(what, code=code, status=status)  # a request LWA cannot take


def auth_class(tokens: LwaTokens) -> type[Any]:
    """An ``auth_token_client_class`` for the library's clients: tokens from ``tokens``,
    never from the library's process-wide cache nor its own LWA call."""

    class ConnectorAuth(AccessTokenClient):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass  # no credentials, no transport: nothing to leak, nothing to reuse

        def get_auth(self) -> Any:
            return AccessTokenResponse(access_token=tokens.access_token(), token_type="bearer")

        def get_grantless_auth(self, scope: str = "") -> Any:
            raise SetupError("the Amazon connector makes no grantless calls")

        def authorize_auth_code(self, auth_code: str) -> Any:
            raise SetupError("the Amazon connector does not exchange authorisation codes")

    return ConnectorAuth

"""Login with Amazon, held by one connector.

python-amazon-sp-api keeps access tokens in a process-wide cache keyed by the refresh token
alone (``sp_api.auth.access_token_client.cache``, 3,200 s): a wrong or rotated client secret
goes unnoticed while an entry lives, and in a daemon serving several sellers a token is one
typo away from another account. So the connector never lets the library log in: it hands
the library an auth class (:func:`auth_class`) whose tokens come from :class:`LwaTokens`, the
shared token strategy (:class:`~syndicator.connector.AccessTokens`) with the configured
refresh token (LWA does not rotate it): tokens of this connector alone, fetched through its
quota and retries (``lwaToken``) with a timeout, a refusal remembered, never in the
library's cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
from sp_api.auth import AccessTokenClient, AccessTokenResponse

from connectors.amazon import CHANNEL_TYPE
from connectors.amazon.settings import AmazonSettings
from syndicator.connector import (
    AccessTokens,
    AuthError,
    Caller,
    Grant,
    Redactor,
    SetupError,
    Transient,
    error_for_status,
)

__all__ = ["LWA_URL", "LwaTokens", "auth_class", "check_credentials", "token_url"]

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


def token_url(settings: AmazonSettings, endpoint: str) -> str:
    """LWA's token URL: the configured one, else the endpoint's (the sandbox serves both),
    else Amazon's."""
    if settings.token_url:
        return str(settings.token_url)
    if settings.endpoint:
        return f"{endpoint}/auth/o2/token"
    return LWA_URL


def check_credentials(credentials: Mapping[str, str]) -> None:
    """Every credential LWA needs is there (refused before any call)."""
    for name in CHANNEL_TYPE.credentials:
        if not credentials.get(name):
            raise SetupError(f"no {name} under credentials: in the config")


class LwaTokens(AccessTokens):
    """Access tokens for one (client id, client secret, refresh token)."""

    def __init__(
        self,
        url: str,
        credentials: Mapping[str, str],
        http: httpx.Client,
        caller: Caller,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(
            caller,
            "lwaToken",
            refresh_token=credentials["refresh_token"],
            margin=MARGIN,
            redactor=redactor,
        )
        self.url = url
        self._app = {
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        }
        self._http = http

    def stale(self, exc: AuthError) -> bool:
        """Amazon's clock says the token is old (a 403 that says it expired)."""
        return exc.status == 403 and "expired" in exc.message.lower()

    def grant(self, refresh_token: str) -> Grant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **self._app}
        response = self._http.post(
            self.url,
            data=form,
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
                return Grant(token, self.clock() + timedelta(seconds=seconds))
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
            return AccessTokenResponse(access_token=tokens.token(), token_type="bearer")

        def get_grantless_auth(self, scope: str = "") -> Any:
            raise SetupError("the Amazon connector makes no grantless calls")

        def authorize_auth_code(self, auth_code: str) -> Any:
            raise SetupError("the Amazon connector does not exchange authorisation codes")

    return ConnectorAuth

"""Etsy's OAuth token endpoint (``/v3/public/oauth/token``, outside the model): a refresh
token works once and comes back rotated with each one-hour access token."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.etsy.api import EtsyApi
from sandbox.etsy.state import Grant
from sandbox.spec_etsy import FORM, SpecError, decode_body

__all__ = ["ACCESS_TOKEN_SECONDS", "REFRESH_TOKEN_SECONDS", "OAuth"]

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 90 * 86_400


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status)


class OAuth:
    """The token endpoint. No consent screen: refresh tokens come from the control API."""

    def __init__(self, api: EtsyApi) -> None:
        self.api = api

    async def token(self, request: Request) -> Response:
        """Refresh: a refresh token works once and comes back rotated with the access token."""
        content_type = request.headers.get("content-type", "")
        try:
            decoded = decode_body(content_type, await request.body())
        except SpecError as err:
            return _oauth_error(400, "invalid_request", str(err))
        if isinstance(decoded, dict) and content_type.startswith(FORM):
            decoded = {k: v[-1] for k, v in decoded.items()}
        data: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
        grant_type = data.get("grant_type")
        if grant_type != "refresh_token":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                "The sandbox has no consent screen: register a refresh token with "
                "POST /_sandbox/accounts and use grant_type=refresh_token."
                if grant_type == "authorization_code"
                else "grant_type must be refresh_token or authorization_code.",
            )
        client_id, token = data.get("client_id"), data.get("refresh_token")
        if not isinstance(client_id, str) or client_id not in self.api.auth.apps:
            return _oauth_error(401, "invalid_client", "Unknown client_id (keystring).")
        if not isinstance(token, str) or not token:
            return _oauth_error(400, "invalid_request", "refresh_token is required.")
        with self.api.lock:
            auth = self.api.auth
            grant = auth.refresh.get(token)
            now = self.api.wall()
            if grant is None or grant.keystring != client_id:
                return _oauth_error(400, "invalid_grant", "Invalid refresh token.")
            if grant.used:
                return _oauth_error(
                    400, "invalid_grant", "This refresh token was already used: keep the new one."
                )
            if now >= grant.expires:
                return _oauth_error(400, "invalid_grant", "The refresh token has expired.")
            grant.used = True
            access = f"{grant.user_id}.{secrets.token_urlsafe(32)}"
            refresh = f"{grant.user_id}.{secrets.token_urlsafe(32)}"
            keystring, user_id = grant.keystring, grant.user_id
            auth.access[access] = Grant(keystring, user_id, now + ACCESS_TOKEN_SECONDS)
            auth.refresh[refresh] = Grant(keystring, user_id, now + REFRESH_TOKEN_SECONDS)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "refresh_token": refresh,
            }
        )

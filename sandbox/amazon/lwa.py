"""Login with Amazon, emulated: a refresh token for a one-hour access token."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.amazon.api import Part
from sandbox.amazon.state import Token
from sandbox.base import ApiError

__all__ = ["TOKEN_LIFETIME", "Lwa"]

TOKEN_LIFETIME = timedelta(hours=1)


class Lwa(Part):
    """The LWA token endpoint. Its errors take OAuth 2's shape (``AmazonApi.error``)."""

    def routes(self) -> list[BaseRoute]:
        return [self.api.route("POST", "/auth/o2/token", "lwaToken", self.token)]

    async def token(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        if form.get("grant_type") != "refresh_token":
            raise ApiError(
                400,
                "unsupported_grant_type",
                f"The authorization grant type {form.get('grant_type')!r} is not supported.",
            )
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not form.get(k)]
        if missing:
            raise ApiError(400, "invalid_request", f"Missing parameter: {missing[0]}")
        with self.api.lock:
            secret = self.state.clients.get(form["client_id"])
            sent = form["client_secret"].encode()
            if secret is None or not secrets.compare_digest(secret.encode(), sent):
                raise ApiError(401, "invalid_client", "Client authentication failed")
            grant = self.state.grants.get(form["refresh_token"])
            if grant is None or grant.revoked or grant.client_id != form["client_id"]:
                raise ApiError(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            access = "Atza|" + secrets.token_urlsafe(48)
            self.state.tokens[access] = Token(grant.seller_id, self.api.now() + TOKEN_LIFETIME)
        return self.api.answer(
            {
                "access_token": access,
                "refresh_token": form["refresh_token"],
                "token_type": "bearer",
                "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            }
        )

    def revoke(self, refresh_token: str) -> None:
        """The seller withdraws the application's authorisation: LWA refuses the token."""
        with self.api.lock:
            self.state.grants[refresh_token].revoked = True

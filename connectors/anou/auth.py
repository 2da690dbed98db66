"""The API key of an ANOU-style marketplace: sent in the header the settings name (with a
scheme word before it when they say, ``Bearer``), and named in messages and quotas by a
short digest, never by itself."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.anou.settings import AnouSettings
from syndicator.connector import SetupError, digest

__all__ = ["ApiKey"]


class ApiKey:
    """One shop's API key."""

    def __init__(self, credentials: Mapping[str, str], channel: str = "") -> None:
        key = credentials.get("api_key")
        if not key:
            raise SetupError(f"{channel}: no api_key under credentials")
        self._key = key

    @staticmethod
    def account(credentials: Mapping[str, str]) -> str:
        """``anou:`` and a short hash of the API key: who the quota counts against."""
        return f"anou:{digest(credentials.get('api_key', ''))[:16]}"

    def headers(self, settings: AnouSettings) -> dict[str, str]:
        """The header that carries the key."""
        scheme = settings.auth_scheme
        return {settings.auth_header: f"{scheme} {self._key}" if scheme else self._key}

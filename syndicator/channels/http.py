"""HTTP pieces every connector shares: a timeout on every call, Retry-After, and the
mapping from an HTTP status to the error tree of :mod:`syndicator.connector`."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from syndicator.errors import (
    AuthError,
    ChannelError,
    ItemRejected,
    SetupError,
    Throttled,
    Transient,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "TimeoutAdapter",
    "error_for_status",
    "parse_retry_after",
    "with_timeout",
]

DEFAULT_TIMEOUT = 30.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_for_status(
    status: int,
    message: str,
    *,
    code: str | None = None,
    operation: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ChannelError:
    """The error a status stands for: 401 and 403 stop the channel; 429 waits; 408 and 5xx
    retry; any other 4xx is about the item and goes in its outcome."""
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    kw: dict[str, Any] = {"code": code, "status": status, "operation": operation}
    if status in (401, 403):
        return AuthError(message, **kw)
    if status == 429:
        return Throttled(message, retry_after=retry_after, **kw)
    if status == 408 or status >= 500:
        return Transient(message, retry_after=retry_after, **kw)
    if status == 404 and operation is None:
        return SetupError(message, **kw)
    return ItemRejected(message, **kw)


class TimeoutAdapter(HTTPAdapter):
    """A requests adapter that puts a timeout on every call that does not set one
    (etsy-python sets none: a stalled socket would hang a pass for ever)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, **kw: Any) -> None:
        self.timeout = timeout
        super().__init__(**kw)

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        if kw.get("timeout") is None:
            kw["timeout"] = self.timeout
        return super().send(request, **kw)


def with_timeout(session: requests.Session, timeout: float = DEFAULT_TIMEOUT) -> requests.Session:
    adapter = TimeoutAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

"""Raw calls to an ANOU-style API: httpx with a timeout, the key in its header, every call
through the :class:`~syndicator.connector.Caller` (quota, classification, bounded retries).

What a failure becomes (the runner acts on the class, see :mod:`syndicator.connector`):

==========================================  ==========================================
401, 403                                    :class:`AuthError` (not retried)
429                                         :class:`Throttled` (waits ``Retry-After``)
408, 5xx, a timeout, a dropped connection,  :class:`Transient` (retried with backoff)
an answer that is not the JSON due
any other 4xx (422, 404, 415 ...)           :class:`ItemRejected`, with the marketplace's
                                            own message and code
==========================================  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from connectors.anou.records import get_path
from connectors.anou.settings import FieldMap
from syndicator.connector import (
    Caller,
    ChannelError,
    Quota,
    Redactor,
    RetryPolicy,
    SetupError,
    Transient,
    __version__,
    credentials_redactor,
    error_for_status,
)

__all__ = ["AnouClient", "classify"]


def classify(exc: BaseException, operation: str) -> ChannelError | None:
    """httpx's own failures: every one of them may pass (timeouts, resets, cut answers)."""
    if isinstance(exc, httpx.TimeoutException):
        return Transient(f"no answer in time ({type(exc).__name__})", operation=operation)
    if isinstance(exc, httpx.RequestError):
        return Transient(f"connection failed: {type(exc).__name__}: {exc}", operation=operation)
    return None


def _error_text(response: httpx.Response, fields: FieldMap) -> tuple[str, str | None]:
    """The marketplace's own message and code for a failed call."""
    try:
        data = response.json()
    except ValueError:
        data = None
    message = get_path(data, fields.get("message"))
    code = get_path(data, fields.get("code"))
    if message is None and isinstance(data, Mapping):
        message = next((data[k] for k in ("message", "detail", "error") if data.get(k)), None)
    if not isinstance(message, str) or not message.strip():
        text = response.text.strip()
        message = text[:300] if text else response.reason_phrase or f"HTTP {response.status_code}"
    return message, None if code is None else str(code)


class AnouClient:
    """One API key on one ANOU-style marketplace (``auth``: the header that carries it)."""

    def __init__(
        self,
        base_url: str,
        auth: Mapping[str, str],
        *,
        error_fields: FieldMap,
        account: str,
        quota: Quota,
        timeout: float,
        policy: RetryPolicy | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # The key masked in every message: the answer's words, the library's errors.
        self.redactor = redactor or credentials_redactor(auth)
        self.error_fields = error_fields
        self.account = account  # names the key in messages (a hash of it, never the key)
        self.http = httpx.Client(
            timeout=timeout,
            headers={
                **auth,
                "Accept": "application/json",
                "User-Agent": f"syndicator/{__version__}",
            },
            follow_redirects=False,
        )
        self.caller = Caller(quota, self.classify, policy or RetryPolicy())

    def classify(self, exc: BaseException, operation: str) -> ChannelError | None:
        """:func:`classify`, the key masked in what the library said (h11 quotes a header
        it refuses, the key in it)."""
        err = classify(exc, operation)
        if err is not None:
            err.message = self.redactor.redact(err.message)
        return err

    def url(self, endpoint: str, sku: str | None = None) -> tuple[str, str]:
        """The method and the full URL of ``endpoint`` (``"PUT /products/{sku}"``)."""
        method, _, path = endpoint.partition(" ")
        if sku is not None:
            path = path.replace("{sku}", quote(sku, safe=""))
        return method, f"{self.base_url}{path}"

    def call(
        self,
        operation: str,
        endpoint: str,
        *,
        sku: str | None = None,
        body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        """Call ``endpoint``; the JSON answer (None when the answer has no body). Raises the
        error tree of :mod:`syndicator.connector` (retried failures: the last one)."""
        method, url = self.url(endpoint, sku)
        headers: dict[str, str] = {}
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        if content_type is not None:
            headers["Content-Type"] = content_type

        def send() -> Any:
            response = self.http.request(
                method, url, content=content, headers=headers, params=params
            )
            if response.status_code >= 400:
                message, code = _error_text(response, self.error_fields)
                message = self.redactor.redact(message)
                if response.status_code in (401, 403):
                    host = response.request.url.netloc.decode("ascii", "replace")
                    message = f"{host} refuses the API key {self.account}: {message}"
                raise error_for_status(
                    response.status_code,
                    message,
                    code=code,
                    operation=operation,
                    headers=response.headers,
                )
            if response.is_redirect:  # never followed: a body or the key could go astray
                raise SetupError(
                    f"{method} {url} answers {response.status_code}, moved to "
                    f"{response.headers.get('location', '?')}: set base_url to the new address",
                    status=response.status_code,
                    operation=operation,
                )
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise Transient(
                    f"the answer was not JSON ({response.headers.get('content-type', '?')})",
                    status=response.status_code,
                    operation=operation,
                ) from None

        return self.caller(operation, send, retry=retry)

    def close(self) -> None:
        self.http.close()

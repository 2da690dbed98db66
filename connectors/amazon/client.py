"""Raw calls to the SP-API: python-amazon-sp-api's clients on this connector's login,
transport and store, every call through the :class:`~syndicator.connector.Caller`, and the
library's exceptions sorted into the error tree.

What the library does not do, or does in a way a daemon cannot live with, is done here:

* **Login.** The connector logs in itself (:mod:`connectors.amazon.auth`), so a wrong
  credential is never masked and another seller's token is never reused.
* **Empty answers.** The library raises only when a body has ``errors``: a 429 or 5xx with
  no body (a gateway's) comes back as an empty response. Every answer goes through a response
  hook that turns an error status without an ``errors`` body into Throttled/Transient, and
  an answer missing what it must hold is Transient too (``expect``).
* **Timeouts and transport.** One httpx client per connector, with the context's timeout,
  under every library client; httpx transport errors are Transient.
* **Marketplace ids** are always passed (the library's defaults come from an environment
  variable).
"""

from __future__ import annotations

import gzip
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from sp_api.api import Feeds, ListingsItems, Orders, Reports
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces, SellingApiException
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import FromCodeCredentialProvider, MissingCredentials

from connectors.amazon.auth import LwaTokens, auth_class, check_credentials, token_url
from connectors.amazon.settings import AmazonSettings
from syndicator.connector import (
    AuthError,
    Caller,
    ChannelError,
    ConnectorContext,
    ItemRejected,
    SetupError,
    Transient,
    credentials_redactor,
    error_for_status,
    or_missing,
)

__all__ = ["AmazonApi"]

T = TypeVar("T")

REGION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
FINISHED = ("DONE", "FATAL", "CANCELLED")
# The library wants credentials even though it never logs in here (see auth.py).
_LIBRARY_CREDENTIALS = {
    "refresh_token": "unused: the connector logs in",
    "lwa_app_id": "unused: the connector logs in",
    "lwa_client_secret": "unused: the connector logs in",
}
_APIS: dict[str, tuple[type[Any], dict[str, str]]] = {
    "listings": (ListingsItems, {"version": "2021-08-01"}),
    "feeds": (Feeds, {"version": "2021-06-30"}),
    "orders": (Orders, {"version": "2026-01-01"}),
    "reports": (Reports, {}),
}


class AmazonApi:
    """The calls of one seller (``seller_id``) in one store (``mid``)."""

    def __init__(self, context: ConnectorContext, settings: AmazonSettings) -> None:
        self.settings = settings
        self.seller_id = settings.seller_id
        self.mid = settings.marketplace_id
        self.timeout = context.timeout
        self.redactor = credentials_redactor(context.credentials)
        self.sleep: Callable[[float], None] = time.sleep
        self._operation = ""
        self._last_status: int | None = None
        # One TLS context for every client of this connector (each costs ~50 ms to make).
        self._tls = ssl.create_default_context()
        timeout = httpx.Timeout(context.timeout)
        self.http = httpx.Client(timeout=timeout, verify=self._tls)  # LWA, documents
        self._api_http = httpx.Client(
            timeout=timeout, verify=self._tls, event_hooks={"response": [self._on_response]}
        )
        self.caller = Caller(context.quota, self.classify, context.retry)
        self.endpoint = (
            str(settings.endpoint).rstrip("/")
            if settings.endpoint
            else REGION_ENDPOINTS[settings.region]
        )
        url = token_url(settings, self.endpoint)
        check_credentials(context.credentials)
        self.tokens = LwaTokens(url, context.credentials, self.http, self.caller, self.redactor)
        self._auth = auth_class(self.tokens)
        self._clients: dict[str, Any] = {}

    def close(self) -> None:
        self.http.close()
        self._api_http.close()
        self._clients.clear()

    def client(self, name: str) -> Any:
        """A library client (``listings``, ``feeds``, ``orders``, ``reports``) on this
        connector's login, timeout, endpoint and store."""
        client = self._clients.get(name)
        if client is None:
            api, extra = _APIS[name]
            library_marketplace = next(
                (m for m in Marketplaces if m.marketplace_id == self.mid), Marketplaces.US
            )
            client = api(
                marketplace=library_marketplace,
                credentials=_LIBRARY_CREDENTIALS,
                credential_providers=(FromCodeCredentialProvider,),  # never env, never files
                auth_token_client_class=self._auth,
                verify=self._tls,
                timeout=self.timeout,
                **extra,
            )
            client._transport.close()
            client._transport = HttpxTransport(client=self._api_http)
            client.endpoint = self.endpoint
            client.marketplace_id = self.mid  # not SP_API_DEFAULT_MARKETPLACE's
            self._clients[name] = client
        return client

    def _on_response(self, response: httpx.Response) -> None:
        """Every SP-API answer: an error status whose body has no ``errors`` would reach us
        as an empty success (the library raises only on ``errors``)."""
        self._last_status = response.status_code
        if response.status_code < 400:
            return
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("errors"):
            return  # the library raises, with Amazon's own words
        raise error_for_status(
            response.status_code,
            f"Amazon answered HTTP {response.status_code} with no error body",
            operation=self._operation or "amazon",
            headers=response.headers,
        )

    def classify(self, exc: BaseException, operation: str) -> ChannelError | None:
        """The library's and httpx's exceptions as the error tree."""
        scrub = self.redactor.redact
        if isinstance(exc, SellingApiException):
            status = exc.code if exc.code != 999 else (self._last_status or 0)
            errors = exc.error if isinstance(getattr(exc, "error", None), list) else []
            first = errors[0] if errors and isinstance(errors[0], dict) else {}
            message = str(first.get("message") or type(exc).__name__)
            if first.get("details"):
                message += f" ({first['details']})"
            headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
            code = first.get("code") if isinstance(first.get("code"), str) else None
            if status < 400:
                return Transient(scrub(message), code=code, status=status or None)
            return error_for_status(
                status, scrub(message), code=code, operation=operation, headers=headers
            )
        if isinstance(exc, AuthorizationError):
            what = f"Login with Amazon refused the credentials ({exc.error_code})"
            return AuthError(scrub(what), code=exc.error_code, status=exc.status_code)
        if isinstance(exc, httpx.TimeoutException):
            return Transient(
                f"no answer from Amazon within {self.timeout:g} s ({type(exc).__name__})"
            )
        if isinstance(exc, httpx.HTTPError):
            return Transient(scrub(f"the connection to Amazon failed: {exc!r}"))
        if isinstance(exc, MissingCredentials):
            return SetupError("the client library found no credentials")
        return None

    def call(self, operation: str, fn: Callable[[], T], *, expect: str | None = None) -> T:
        """``fn()`` as ``operation``: logged in, within the quota, retried when it may pass,
        and an answer without ``expect`` in its payload taken as the empty answer it is."""

        def run() -> T:
            self._operation = operation
            self._last_status = None
            answer = fn()
            if expect is not None:
                payload = getattr(answer, "payload", None)
                if not isinstance(payload, dict) or expect not in payload:
                    raise Transient(
                        f"Amazon answered {operation} with no {expect} (an empty answer)",
                        status=self._last_status,
                    )
            return answer

        return self.tokens.authorized(lambda: self.caller(operation, run))

    def found(self, operation: str, fn: Callable[[], T], *, expect: str | None = None) -> T | None:
        """:meth:`call`, or None when Amazon does not have what was asked for (404)."""
        answer = or_missing(lambda: self.call(operation, fn, expect=expect))
        return None if isinstance(answer, ItemRejected) else answer

    def poll(self, operation: str, fn: Callable[[], Any], every: float) -> dict[str, Any] | None:
        """Call ``fn`` every ``every`` seconds until a finished status (None: not within
        job_timeout_seconds)."""
        deadline = time.monotonic() + self.settings.job_timeout_seconds
        while True:
            payload: dict[str, Any] = self.call(operation, fn, expect="processingStatus").payload
            if payload["processingStatus"] in FINISHED:
                return payload
            if time.monotonic() + every > deadline:
                return None
            self.sleep(every)

    def upload(self, url: str, data: bytes, content_type: str) -> None:
        """PUT a document to its presigned URL: bytes as they are, the declared type."""
        response = self.http.put(url, content=data, headers={"content-type": content_type})
        if 200 <= response.status_code < 300:
            return
        said = response.text[:300].replace("\n", " ")
        message = f"the feed document upload was refused ({response.status_code}): {said}"
        if response.status_code >= 500 or response.status_code == 429 or "expired" in said:
            raise Transient(message, status=response.status_code)
        raise ItemRejected(message, status=response.status_code)

    def download(self, url: str, compression: str | None) -> str:
        """A document from its presigned URL, with our timeout, unzipped, decoded by its
        charset (Amazon's flat files are not always UTF-8)."""
        response = self.http.get(url)
        if response.status_code >= 400:
            raise error_for_status(
                response.status_code,
                f"the report document could not be read ({response.status_code})",
                operation="downloadReport",
                headers=response.headers,
            )
        data = response.content
        if compression == "GZIP":
            data = gzip.decompress(data)
        for encoding in (response.charset_encoding, "utf-8", "cp1252"):
            if encoding:
                try:
                    return data.decode(encoding)
                except (UnicodeDecodeError, LookupError):
                    continue
        return data.decode("latin-1")

"""Raw calls to one Etsy shop: etsy-python on a requests session fixed for what the
connector needs, every call through the :class:`~syndicator.connector.Caller`, and
etsy-python's exceptions sorted into the error tree.

The session (:class:`EtsySession`):

- **Exact prices.** etsy-python hands its bodies to requests as ``json=``, which the standard
  encoder refuses for :class:`~decimal.Decimal` (and a float would put binary rounding
  between the catalog and Etsy): this session writes JSON itself, a Decimal as the number
  it is (``538.99``), never through a float.
- **A timeout on every call** (etsy-python sets none):
  :func:`~syndicator.connector.with_timeout`.
- **The headers of the last answer**: etsy-python's ``RequestException`` keeps the status and
  Etsy's rate-limit counters but drops ``Retry-After``; :meth:`EtsyApi.classify` reads it here.

etsy-python reads its URLs from process-wide class attributes (``Env.environment``): the
client points them at ``settings.endpoint`` (or Etsy's own hosts) before every call, so one
process can talk to one Etsy endpoint at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import requests
from etsy_python.v3.common import Env
from etsy_python.v3.exceptions import RequestException as EtsyRequestException
from etsy_python.v3.resources import EtsyClient
from requests.structures import CaseInsensitiveDict

from connectors.etsy.auth import Credentials, EtsyTokens, refusal
from connectors.etsy.settings import EtsySettings
from syndicator.connector import (
    DEFAULT_TIMEOUT,
    AuthError,
    Caller,
    ChannelError,
    ConnectorContext,
    Page,
    SetupError,
    Throttled,
    Transient,
    aware,
    credentials_redactor,
    error_for_status,
    latest,
    offset_pages,
    with_timeout,
)

__all__ = ["EtsyApi", "EtsySession", "dumps"]

R = TypeVar("R")

PRODUCTION_API = "https://openapi.etsy.com/v3/application"
PRODUCTION_TOKEN = "https://api.etsy.com/v3/public/oauth/token"
# Operations about the shop itself: a 404 there means the shop id is wrong (SetupError).
SHOP_OPERATIONS = frozenset(
    {
        "getShop",
        "getShopShippingProfiles",
        "getListingsByShop",
        "getShopReceipts",
        "getReviewsByShop",
    }
)


def dumps(value: object) -> str:
    """JSON text with every Decimal written exactly as a number (no exponent, no float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


class EtsySession(requests.Session):
    """A requests session for etsy-python: exact JSON, a timeout, the last answer kept."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        with_timeout(self, timeout)
        self.last_status: int | None = None
        self.last_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        self.hooks["response"].append(self._remember)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_status = response.status_code
        self.last_headers = CaseInsensitiveDict(response.headers)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.last_status, self.last_headers = None, CaseInsensitiveDict()
        body = kwargs.pop("json", None)
        if body is not None:
            kwargs["data"] = dumps(body).encode("utf-8")
            headers = dict(kwargs.get("headers") or {})  # None values unset session headers
            headers["Content-Type"] = "application/json"
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


def limit_wait(limits: Any) -> float | None:
    """Seconds until Etsy's counters allow a call, from its x-remaining-* headers."""
    if limits is None:
        return None
    if str(getattr(limits, "remaining_today", "")) == "0":
        return 3600.0  # the daily limit is a sliding 24 h: come back later, not soon
    if str(getattr(limits, "remaining_this_second", "")) == "0":
        return 1.0
    return None


class EtsyApi:
    """The calls of one Etsy shop (``settings.shop_id``)."""

    def __init__(self, context: ConnectorContext, settings: EtsySettings) -> None:
        self.settings = settings
        self.shop_id = settings.shop_id
        self.credentials = Credentials.of(context.credentials)
        self.redactor = credentials_redactor(context.credentials)
        self.caller = Caller(context.quota, self.classify, context.retry)
        self.point_env()
        self.session = EtsySession(context.timeout)
        self.client = EtsyClient(
            keystring=self.credentials.keystring,
            access_token="",
            refresh_token="",
            expiry=datetime.fromtimestamp(0, UTC),
        )
        self.client.session.close()
        self.client.session = self.session
        self.session.headers.update(
            {"Accept": "application/json", "x-api-key": self.credentials.api_key}
        )
        self.tokens = EtsyTokens(
            self.client,
            self.session,
            self.caller,
            context.tokens,
            shop_id=self.shop_id,
            margin=settings.token_margin,
            redactor=self.redactor,
        )

    def point_env(self) -> None:
        """etsy-python's URLs are class attributes, shared by the whole process."""
        if self.settings.endpoint is None:
            api, token = PRODUCTION_API, PRODUCTION_TOKEN
        else:
            base = str(self.settings.endpoint).rstrip("/")
            api, token = f"{base}/v3/application", f"{base}/v3/public/oauth/token"
        Env.environment.request_url = api
        Env.environment.token_url = token

    def call(self, operation: str, fn: Callable[[EtsyClient], Any], *, retry: bool = True) -> Any:
        """One Etsy call: credentials checked, token fresh, quota, errors sorted, retried
        when ``retry`` and the failure may pass; a 401 refreshes the token once."""
        self.credentials.check()
        self.point_env()
        answer = self.tokens.authorized(
            lambda: self.caller(operation, lambda: fn(self.client), retry=retry)
        )
        return getattr(answer, "message", answer)

    def pages(
        self,
        operation: str,
        fn: Callable[[EtsyClient, int], Any],
        *,
        most: int | None = None,
    ) -> Iterator[Page[Mapping[str, Any]]]:
        """An offset-paged list: ``fn(client, offset)`` asks for one page."""

        def fetch(offset: int) -> tuple[list[Mapping[str, Any]], int]:
            page = self.call(operation, lambda c: fn(c, offset))
            return page.get("results") or [], int(page.get("count") or 0)

        return offset_pages(fetch, most=most)

    def pull(
        self,
        operation: str,
        fn: Callable[[EtsyClient, int], Any],
        *,
        since: datetime | None,
        parse: Callable[[Mapping[str, Any]], R],
        changed: Callable[[R], datetime],
    ) -> Iterator[tuple[tuple[R, ...], datetime | None]]:
        """Records page by page (``parse`` reads one); only the last page carries the new
        watermark, the latest change seen (Etsy pages by offset: a pull broken off halfway
        starts again from ``since``)."""
        since = None if since is None else aware(since)
        seen = since
        for page in self.pages(operation, fn):
            records = tuple(parse(r) for r in page.items)
            seen = latest(map(changed, records), seen)
            yield records, seen if page.last else since

    def classify(self, exc: BaseException, operation: str) -> ChannelError | None:
        """etsy-python's RequestException and requests' failures, in the error tree."""
        if isinstance(exc, EtsyRequestException):
            try:
                status = int(exc.code)
            except (TypeError, ValueError):
                status = 0
            error = None if exc.error is None else str(exc.error)
            description = None if exc.error_description is None else str(exc.error_description)
            message = self.redactor.redact(description or error or f"Etsy answered {status}")
            code = error if description else None
            headers = self.session.last_headers if self.session.last_status == status else {}
            if operation == "oauthToken" and status < 500 and status != 429:
                return AuthError(refusal(code, message), code=code, status=status)
            err = error_for_status(
                status,
                message,
                code=code,
                operation=None if operation in SHOP_OPERATIONS else operation,
                headers=headers,
            )
            if isinstance(err, Throttled) and err.retry_after is None:
                err.retry_after = limit_wait(exc.rate_limits)
            if status == 401:
                err.message = f"Etsy refused the access token: {message}"
            elif status == 403:
                err.message = (
                    f"Etsy refused the call: {message} (is the shared_secret the app's, and "
                    f"does the token's user own shop {self.shop_id}?)"
                )
            return err
        if isinstance(
            exc,
            requests.ConnectionError
            | requests.Timeout
            | requests.exceptions.ChunkedEncodingError
            | requests.exceptions.ContentDecodingError,
        ):
            return Transient(f"no full answer from Etsy ({type(exc).__name__})")
        if isinstance(exc, requests.RequestException):
            return SetupError(f"Etsy cannot be called ({type(exc).__name__}); check the endpoint")
        return None

    def close(self) -> None:
        self.session.close()

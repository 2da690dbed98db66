"""The requests session etsy-python runs on, fixed for what the connector needs.

- **Exact prices.** etsy-python hands its bodies to requests as ``json=``, which the standard
  encoder refuses for :class:`~decimal.Decimal` (and a float would put binary rounding
  between the catalog and Etsy): this session writes JSON itself, a Decimal as the number
  it is (``538.99``), never through a float.
- **A timeout on every call** (etsy-python sets none):
  :class:`syndicator.channels.http.TimeoutAdapter`.
- **The headers of the last answer**: etsy-python's ``RequestException`` keeps the status and
  Etsy's rate-limit counters but drops ``Retry-After``; the connector reads it here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from syndicator.connector import DEFAULT_TIMEOUT, with_timeout

__all__ = ["EtsySession", "dumps"]


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

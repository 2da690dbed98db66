"""Everything a connector needs from the core, in one place: the connector's only import.

A marketplace package (``connectors/amazon``, ``connectors/etsy`` ...) imports this module
and nothing else of Syndicator; import-linter holds it to that (see pyproject.toml). What is
here:

- **describing a marketplace**: :class:`ChannelType`, :class:`Capability`, :class:`Settings`;
- **the interface**: :class:`Connector` built from a :class:`ConnectorContext`, the
  :class:`ListingChange` it is asked for (an :class:`Action` and a :class:`Projection`),
  the :class:`ItemOutcome` it answers, :class:`RemoteListing` for read-back,
  :class:`OrderPage` of :class:`Order` and :class:`ReviewPage` of :class:`Review`;
- **the error tree**, grouped by what the runner does (:mod:`syndicator.errors`),
  :func:`reclassify` to tell a failure as another kind, and :func:`or_missing` for a 404
  that means "not there";
- **calls**: :class:`Caller` (quota, classification, bounded retries, and
  :meth:`Caller.pause` for a write retried by hand), :class:`RetryPolicy`,
  :class:`QuotaRule`, and the HTTP pieces (:func:`error_for_status`, timeouts,
  ``Retry-After``);
- **the shared strategies**: paging (:func:`offset_pages`, :func:`cursor_pages`,
  :func:`latest` for a watermark), access tokens from a refresh token, rotated or not
  (:class:`AccessTokens`, :class:`Grant`), secrets masked in messages (:class:`Redactor`),
  a fetch that goes only to public addresses (:func:`fetch_public`, :class:`FetchLimits`,
  :class:`Origin`, :func:`origin_of`, :func:`shown`), and serving an app in the foreground
  (:func:`listen`, :func:`server_config`, :class:`QuietServer`);
- **money**: :class:`Money` and its currencies.

Each name is loaded from its home the first time it is asked for, so that a connector
package's ``CHANNEL_TYPE`` (read whenever a config is checked) loads no HTTP library. Core
modules never import this module: they import where things are defined.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicator import __version__
    from syndicator.channels.calls import Caller, RetryPolicy
    from syndicator.channels.http import (
        DEFAULT_TIMEOUT,
        TimeoutAdapter,
        error_for_status,
        parse_retry_after,
        with_timeout,
    )
    from syndicator.channels.interface import (
        Connector,
        ConnectorContext,
        ItemOutcome,
        ListingChange,
        OrderPage,
        Quota,
        RemoteListing,
        ReviewPage,
        TokenStore,
        decimal_or_none,
        load_connector,
        or_missing,
        reclassify,
    )
    from syndicator.channels.paging import Page, cursor_pages, latest, offset_pages
    from syndicator.channels.tokens import (
        AccessTokens,
        Grant,
        aware,
        credentials_redactor,
        digest,
    )
    from syndicator.common.logs import Redactor
    from syndicator.common.netsafe import FetchLimits, Origin, fetch_public, origin_of, shown
    from syndicator.common.problems import did_you_mean
    from syndicator.common.serving import QuietServer, listen, server_config
    from syndicator.domain.money import CURRENCY_EXPONENTS, Money, is_currency, minor_unit
    from syndicator.domain.orders import Order, OrderLine, OrderStatus
    from syndicator.domain.quotas import QuotaRule
    from syndicator.domain.reviews import Review, ReviewSource
    from syndicator.errors import (
        AuthError,
        ChannelError,
        ItemRejected,
        RecordAndGoOn,
        Retry,
        SetupError,
        StopAndAlert,
        SyndicatorError,
        Throttled,
        Transient,
        Wait,
    )
    from syndicator.planning.operations import Action
    from syndicator.planning.projection import ATTRIBUTE_KEYS, Projection
    from syndicator.plugins import Capability, ChannelType, Settings

# Where each name lives.
_HOMES: dict[str, str] = {
    "ATTRIBUTE_KEYS": "syndicator.planning.projection",
    "AccessTokens": "syndicator.channels.tokens",
    "Action": "syndicator.planning.operations",
    "AuthError": "syndicator.errors",
    "CURRENCY_EXPONENTS": "syndicator.domain.money",
    "Caller": "syndicator.channels.calls",
    "Capability": "syndicator.plugins",
    "ChannelError": "syndicator.errors",
    "ChannelType": "syndicator.plugins",
    "Connector": "syndicator.channels.interface",
    "ConnectorContext": "syndicator.channels.interface",
    "DEFAULT_TIMEOUT": "syndicator.channels.http",
    "FetchLimits": "syndicator.common.netsafe",
    "Grant": "syndicator.channels.tokens",
    "ItemOutcome": "syndicator.channels.interface",
    "ItemRejected": "syndicator.errors",
    "ListingChange": "syndicator.channels.interface",
    "Money": "syndicator.domain.money",
    "Order": "syndicator.domain.orders",
    "OrderLine": "syndicator.domain.orders",
    "OrderPage": "syndicator.channels.interface",
    "OrderStatus": "syndicator.domain.orders",
    "Origin": "syndicator.common.netsafe",
    "Page": "syndicator.channels.paging",
    "Projection": "syndicator.planning.projection",
    "QuietServer": "syndicator.common.serving",
    "Quota": "syndicator.channels.interface",
    "QuotaRule": "syndicator.domain.quotas",
    "RecordAndGoOn": "syndicator.errors",
    "Redactor": "syndicator.common.logs",
    "RemoteListing": "syndicator.channels.interface",
    "Retry": "syndicator.errors",
    "RetryPolicy": "syndicator.channels.calls",
    "Review": "syndicator.domain.reviews",
    "ReviewPage": "syndicator.channels.interface",
    "ReviewSource": "syndicator.domain.reviews",
    "Settings": "syndicator.plugins",
    "SetupError": "syndicator.errors",
    "StopAndAlert": "syndicator.errors",
    "SyndicatorError": "syndicator.errors",
    "Throttled": "syndicator.errors",
    "TimeoutAdapter": "syndicator.channels.http",
    "TokenStore": "syndicator.channels.interface",
    "Transient": "syndicator.errors",
    "Wait": "syndicator.errors",
    "__version__": "syndicator",
    "aware": "syndicator.channels.tokens",
    "credentials_redactor": "syndicator.channels.tokens",
    "cursor_pages": "syndicator.channels.paging",
    "decimal_or_none": "syndicator.channels.interface",
    "did_you_mean": "syndicator.common.problems",
    "digest": "syndicator.channels.tokens",
    "error_for_status": "syndicator.channels.http",
    "fetch_public": "syndicator.common.netsafe",
    "is_currency": "syndicator.domain.money",
    "latest": "syndicator.channels.paging",
    "listen": "syndicator.common.serving",
    "load_connector": "syndicator.channels.interface",
    "minor_unit": "syndicator.domain.money",
    "offset_pages": "syndicator.channels.paging",
    "or_missing": "syndicator.channels.interface",
    "origin_of": "syndicator.common.netsafe",
    "parse_retry_after": "syndicator.channels.http",
    "reclassify": "syndicator.channels.interface",
    "server_config": "syndicator.common.serving",
    "shown": "syndicator.common.netsafe",
    "with_timeout": "syndicator.channels.http",
}

__all__ = [
    "ATTRIBUTE_KEYS",
    "CURRENCY_EXPONENTS",
    "DEFAULT_TIMEOUT",
    "AccessTokens",
    "Action",
    "AuthError",
    "Caller",
    "Capability",
    "ChannelError",
    "ChannelType",
    "Connector",
    "ConnectorContext",
    "FetchLimits",
    "Grant",
    "ItemOutcome",
    "ItemRejected",
    "ListingChange",
    "Money",
    "Order",
    "OrderLine",
    "OrderPage",
    "OrderStatus",
    "Origin",
    "Page",
    "Projection",
    "QuietServer",
    "Quota",
    "QuotaRule",
    "RecordAndGoOn",
    "Redactor",
    "RemoteListing",
    "Retry",
    "RetryPolicy",
    "Review",
    "ReviewPage",
    "ReviewSource",
    "Settings",
    "SetupError",
    "StopAndAlert",
    "SyndicatorError",
    "Throttled",
    "TimeoutAdapter",
    "TokenStore",
    "Transient",
    "Wait",
    "__version__",
    "aware",
    "credentials_redactor",
    "cursor_pages",
    "decimal_or_none",
    "did_you_mean",
    "digest",
    "error_for_status",
    "fetch_public",
    "is_currency",
    "latest",
    "listen",
    "load_connector",
    "minor_unit",
    "offset_pages",
    "or_missing",
    "origin_of",
    "parse_retry_after",
    "reclassify",
    "server_config",
    "shown",
    "with_timeout",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once found, found for good
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

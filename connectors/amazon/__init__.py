"""Amazon Selling Partner API (Listings Items, Feeds, Orders 2026-01-01, Reports).

The channel's settings are :class:`AmazonSettings` (``connectors.amazon.settings``).
Importing this package does not import the client library: the connector
(``connectors.amazon.connector``) is loaded only when a channel is used. docs/amazon.md is
the operator's guide.
"""

from __future__ import annotations

from connectors.amazon.settings import ATTRIBUTE_SOURCES, DEFAULT_ATTRIBUTES, AmazonSettings
from syndicator.connector import Capability, ChannelType

__all__ = ["ATTRIBUTE_SOURCES", "CHANNEL_TYPE", "DEFAULT_ATTRIBUTES", "AmazonSettings"]


CHANNEL_TYPE = ChannelType(
    name="amazon",
    title="Amazon",
    settings_model=AmazonSettings,
    credentials=("refresh_token", "client_id", "client_secret"),
    capabilities=frozenset(Capability),
    required_fields=("description", "images"),
    requires_category=True,  # the product type, such as RUG or HOME
    max_title_length=200,
    connector="connectors.amazon.connector:AmazonConnector",
)

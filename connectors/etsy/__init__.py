"""Etsy Open API v3 (listings, inventory, images, receipts, reviews).

Importing this package does not import the client library: the connector
(``connectors.etsy.connector``) is loaded only when a channel is used. docs/etsy.md is the
operator's guide.
"""

from __future__ import annotations

from connectors.etsy.settings import EtsySettings
from syndicator.connector import Capability, ChannelType

__all__ = ["CHANNEL_TYPE", "EtsySettings"]


CHANNEL_TYPE = ChannelType(
    name="etsy",
    title="Etsy",
    settings_model=EtsySettings,
    credentials=("keystring", "shared_secret", "refresh_token"),
    capabilities=frozenset(Capability) - {Capability.BULK},
    required_fields=("description", "images", "who_made", "when_made"),
    requires_category=True,  # the taxonomy id
    max_title_length=140,
    max_tags=13,
    max_tag_length=20,
    connector="connectors.etsy.connector:EtsyConnector",
)

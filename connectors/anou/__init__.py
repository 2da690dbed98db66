"""ANOU-style cooperative marketplace: a JSON API described by configuration.

The connector (``connectors.anou.connector``) speaks the API of docs/anou-api.md, or any
cooperative marketplace's own endpoints and field names given in the channel's settings
(``connectors.anou.settings``); ``connectors.anou.feed`` publishes a catalog in ANOU's open
product database shape. See docs/anou.md.
"""

from __future__ import annotations

from connectors.anou.settings import AnouSettings
from syndicator.connector import Capability, ChannelType

__all__ = ["CHANNEL_TYPE", "AnouSettings"]


CHANNEL_TYPE = ChannelType(
    name="anou",
    title="ANOU-style cooperative marketplace",
    settings_model=AnouSettings,
    credentials=("api_key",),
    capabilities=frozenset(Capability) - {Capability.BULK},
    required_fields=("images",),
    requires_category=False,
    connector="connectors.anou.connector:AnouConnector",
    feed="connectors.anou.feed:FEED",
)

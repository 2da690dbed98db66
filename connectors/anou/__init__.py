"""ANOU-style cooperative marketplace: a JSON API described by configuration."""

from __future__ import annotations

from pydantic import HttpUrl

from connectors.base import Capability, ChannelType, Settings

__all__ = ["CHANNEL_TYPE", "AnouSettings"]


class AnouSettings(Settings):
    base_url: HttpUrl


CHANNEL_TYPE = ChannelType(
    name="anou",
    title="ANOU-style cooperative marketplace",
    settings_model=AnouSettings,
    credentials=("api_key",),
    capabilities=frozenset(Capability) - {Capability.BULK},
    required_fields=("images",),
    requires_category=False,
)

"""Etsy Open API v3 (listings, inventory, images, receipts, reviews)."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from connectors.base import Capability, ChannelType, Settings

__all__ = ["CHANNEL_TYPE", "EtsySettings"]


class EtsySettings(Settings):
    shop_id: int = Field(gt=0)
    shipping_profile_id: int | None = Field(default=None, gt=0)
    endpoint: HttpUrl | None = None  # another API host, such as the local sandbox


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
)

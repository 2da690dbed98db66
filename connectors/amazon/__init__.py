"""Amazon Selling Partner API (Listings Items, Feeds, Orders 2026-01-01, Reports)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl

from connectors.base import Capability, ChannelType, Settings

__all__ = ["CHANNEL_TYPE", "AmazonSettings"]


class AmazonSettings(Settings):
    seller_id: str = Field(min_length=1, max_length=32)
    marketplace_id: str = Field(min_length=1, max_length=32)
    region: Literal["NA", "EU", "FE"] = "NA"
    endpoint: HttpUrl | None = None  # another SP-API host, such as the local sandbox
    feed_threshold: int = Field(default=50, ge=1)  # batches at least this large go by feed


CHANNEL_TYPE = ChannelType(
    name="amazon",
    title="Amazon",
    settings_model=AmazonSettings,
    credentials=("refresh_token", "client_id", "client_secret"),
    capabilities=frozenset(Capability),
    required_fields=("description", "images"),
    requires_category=True,  # the product type, such as RUG or HOME
    max_title_length=200,
)

"""What the core knows of its plugins, found through entry points; never their names.

Each connector package describes its marketplace with a :class:`ChannelType` and publishes it
under the ``syndicator.channel_types`` entry point group (see pyproject.toml). The core uses
it to check the daemon config (settings, credential names) and to plan (which product fields
the channel needs, how long a title may be, whether a category mapping is required).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points

from pydantic import BaseModel, ConfigDict, Field

from syndicator.errors import PluginError

__all__ = ["Capability", "ChannelType", "Settings", "load_channel_types"]

ENTRY_POINT_GROUP = "syndicator.channel_types"


class Capability(StrEnum):
    LISTINGS = "listings"
    PRICE_STOCK = "price_stock"
    BULK = "bulk"
    ORDERS = "orders"
    REVIEWS = "reviews"
    READ_BACK = "read_back"
    DELIST = "delist"


class Settings(BaseModel):
    """Base of every channel type's settings: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Scales the quotas Syndicator keeps to: only for a sandbox started with --quota-factor.
    quota_factor: float = Field(default=1.0, gt=0, le=10_000)


@dataclass(frozen=True, slots=True)
class ChannelType:
    """A marketplace as the core sees it.

    ``required_fields``: catalog fields a product needs to be listed there (``description``,
    ``images``, ``who_made``, ``when_made``); a product without them is held on that channel
    with a message. ``requires_category``: the channel's own category must come from the
    channel's ``categories`` map in the config or the product's override.
    """

    name: str
    title: str
    settings_model: type[BaseModel]
    credentials: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    required_fields: tuple[str, ...] = ()
    requires_category: bool = False
    max_title_length: int | None = None
    max_tags: int | None = None
    max_tag_length: int | None = None  # longer tags are left out, with a warning
    connector: str | None = None  # "module:Class" of its syndicator.connector.Connector


def load_channel_types() -> Mapping[str, ChannelType]:
    """The installed channel types, by name, from the entry point group."""
    found: dict[str, ChannelType] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            value = ep.load()
        except Exception as exc:  # a broken plugin must be named, not crash the daemon
            raise PluginError(f"channel type {ep.name} ({ep.value}) fails to load: {exc}") from exc
        if not isinstance(value, ChannelType) or value.name != ep.name:
            raise PluginError(f"{ep.value} is not the ChannelType named {ep.name}")
        found[ep.name] = value
    return found

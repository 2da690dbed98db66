"""What the emulated Etsy knows: apps, shops and tokens (``Auth``) apart from listings,
receipts and reviews (``State``), so that a "lost write" fault puts back the data and never
revives a used refresh token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEMO_ACCOUNTS", "Auth", "DemoAccount", "Grant", "Shop", "State"]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """An app (keystring and shared secret) with the refresh token of a shop's owner."""

    keystring: str
    shared_secret: str
    user_id: int
    shop_id: int
    shop_name: str
    currency: str
    shipping_profile_id: int
    refresh_token: str


# The demo config's two cooperatives (config/demo.yaml). Each refresh token works once per
# sandbox start or reset: a connector must keep the one every refresh gives back.
DEMO_ACCOUNTS = (
    DemoAccount(
        keystring="sandboxatlasrugs00000001",
        shared_secret="atlassecret",
        user_id=51000001,
        shop_id=41000001,
        shop_name="AtlasRugsCoop",
        currency="USD",
        shipping_profile_id=2100001,
        refresh_token="51000001.sandbox-refresh-atlas-rugs",
    ),
    DemoAccount(
        keystring="sandboxzelligefes0000002",
        shared_secret="fessecret2",
        user_id=51000002,
        shop_id=41000002,
        shop_name="ZelligeFesCoop",
        currency="EUR",
        shipping_profile_id=2100002,
        refresh_token="51000002.sandbox-refresh-zellige-fes",
    ),
)


@dataclass(slots=True)
class Shop:
    shop_id: int
    user_id: int
    shop_name: str
    currency: str
    shipping_profile_id: int
    created: int


@dataclass(slots=True)
class Grant:
    keystring: str
    user_id: int
    expires: float
    used: bool = False


@dataclass
class Auth:
    apps: dict[str, str] = field(default_factory=dict)  # keystring -> shared secret
    shops: dict[int, Shop] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)


@dataclass
class State:
    listings: dict[int, dict[str, Any]] = field(default_factory=dict)
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)  # {shop_id, receipt}
    reviews: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1_000_000_000

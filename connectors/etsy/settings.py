"""The settings of an Etsy channel (the ``settings:`` block; docs/etsy.md explains each one).

Imported when the config is read: nothing here imports an HTTP library.
"""

from __future__ import annotations

from pydantic import Field, HttpUrl

from syndicator.connector import Settings

__all__ = ["EtsySettings"]


class EtsySettings(Settings):
    """One Etsy shop."""

    shop_id: int = Field(gt=0)
    # The shipping profile of new listings; None: the shop's only profile (check() says so
    # when the shop has several).
    shipping_profile_id: int | None = Field(default=None, gt=0)
    endpoint: HttpUrl | None = None  # another API host, such as the local sandbox
    # Etsy's processing profile of new offerings (readiness_state_id); None: Etsy's default.
    readiness_state_id: int | None = Field(default=None, gt=0)
    # Variation option name (as the catalog writes it, e.g. size) -> Etsy property id; an
    # option not named here takes one of Etsy's two custom properties (513, 514).
    option_properties: dict[str, int] = Field(default_factory=dict)
    # Orders are read from this many seconds before the last watermark, so a receipt written
    # late (or during the previous pull) is not missed; the ledger counts each line once.
    order_overlap: int = Field(default=600, ge=0, le=7 * 86_400)
    # Etsy filters reviews by creation time only: re-read this far back to see recent edits.
    review_overlap: int = Field(default=3 * 86_400, ge=0, le=90 * 86_400)
    # Refresh the access token this many seconds before it expires (it lasts an hour).
    token_margin: int = Field(default=300, ge=0, le=1_800)
    page_size: int = Field(default=100, ge=1, le=100)  # Etsy's limit: 1 to 100

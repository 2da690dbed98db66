"""The settings of an Amazon channel (the ``settings:`` block; docs/amazon.md explains each
one to an operator).

Imported when the config is read: nothing here imports the client library.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from syndicator.connector import ATTRIBUTE_KEYS, Settings

__all__ = ["ATTRIBUTE_SOURCES", "DEFAULT_ATTRIBUTES", "AmazonSettings"]

# Catalog fields an attribute of the mapping table can be filled from (a projection's
# attributes, its tags and materials), besides "option:<name>" (a variant option) and
# "=<text>" (the same text for every product).
ATTRIBUTE_SOURCES = frozenset({*ATTRIBUTE_KEYS, "tags", "materials"})

# Product type ("*": every product type) -> Amazon attribute -> where its value comes from.
# A source may end in "|unit" for a measured value: {"value": 2.5, "unit": "kilograms"}.
DEFAULT_ATTRIBUTES: dict[str, dict[str, str]] = {
    "*": {"generic_keyword": "tags"},
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PRODUCT_TYPE = re.compile(r"^(\*|[A-Z][A-Z0-9_]*)$")


class AmazonSettings(Settings):
    """One seller in one Amazon store."""

    seller_id: str = Field(min_length=1, max_length=32)
    marketplace_id: str = Field(min_length=1, max_length=32)
    region: Literal["NA", "EU", "FE"] = "NA"
    endpoint: HttpUrl | None = None  # another SP-API host, such as the local sandbox
    # Login with Amazon's token URL; default Amazon's, or <endpoint>/auth/o2/token when an
    # endpoint is set (the sandbox serves both).
    token_url: HttpUrl | None = None
    feed_threshold: int = Field(default=50, ge=1)  # batches at least this large go by feed
    feed_max_messages: int = Field(default=10_000, ge=1, le=10_000)  # messages per feed
    feed_poll_seconds: float = Field(default=30.0, gt=0, le=600)
    report_poll_seconds: float = Field(default=30.0, gt=0, le=600)
    job_timeout_seconds: float = Field(default=1800.0, gt=0, le=86_400)  # a feed or a report
    issue_locale: str = Field(default="en_US", pattern=r"^[a-z]{2}_[A-Z]{2}$")

    # What a listing says beyond the catalog's own fields.
    brand: str | None = Field(default=None, min_length=1, max_length=100)  # None: "Generic"
    image_base_url: HttpUrl | None = None  # where the catalog's local photos are published
    handling_days: int | None = Field(default=None, ge=0, le=30)  # days to ship
    attributes: dict[str, dict[str, str]] = Field(default_factory=lambda: DEFAULT_ATTRIBUTES)

    # Variations: a parent listing per variant family, and how options become attributes.
    variation_parents: bool = True
    # catalog option -> Amazon attribute (default: size, color ... as they are)
    variation_attributes: dict[str, str] = Field(default_factory=dict)
    # product type -> variation theme (default: the attributes, COLOR first: COLOR/SIZE)
    variation_themes: dict[str, str] = Field(default_factory=dict)

    # Orders and seller feedback.
    order_overlap: timedelta = timedelta(minutes=15)
    order_lookback_days: int = Field(default=30, ge=1, le=730)  # first pull
    order_page_size: int = Field(default=100, ge=1, le=100)
    feedback_lookback_days: int = Field(default=90, ge=1, le=365)  # first pull
    # The day order of the feedback report's dates; None: month first in NA, else day first.
    feedback_date_order: Literal["MDY", "DMY", "YMD"] | None = None

    @field_validator("order_overlap")
    @classmethod
    def _overlap(cls, value: timedelta) -> timedelta:
        if value < timedelta(0) or value > timedelta(days=7):
            raise ValueError("order_overlap is between 0 and 7 days")
        return value

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for product_type, table in value.items():
            if not _PRODUCT_TYPE.match(product_type):
                raise ValueError(f'"{product_type}": a product type such as RUG, or "*"')
            for name, source in table.items():
                if not _NAME.match(name):
                    raise ValueError(f'{product_type}: "{name}" is not an Amazon attribute name')
                field, _, unit = source.partition("|")
                if source.startswith("="):
                    continue
                if field.startswith("option:") and len(field) > len("option:"):
                    continue
                if field not in ATTRIBUTE_SOURCES:
                    known = ", ".join(sorted(ATTRIBUTE_SOURCES))
                    raise ValueError(
                        f'{product_type}.{name}: "{field}" is not a catalog field ({known}, '
                        'option:<name>, or "=text")'
                    )
                if "|" in source and not unit:
                    raise ValueError(f"{product_type}.{name}: name a unit after |")
        return value

    @field_validator("variation_attributes")
    @classmethod
    def _variation_attributes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [v for v in value.values() if not _NAME.match(v)]
        if bad:
            raise ValueError(f"not Amazon attribute names: {', '.join(bad)}")
        return value

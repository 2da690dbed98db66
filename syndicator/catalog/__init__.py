"""The catalog: reading, validating and modelling a cooperative's one file of products."""

from __future__ import annotations

from syndicator.catalog.loader import CatalogLimits, CatalogRows, load_catalog, read_catalog
from syndicator.catalog.model import (
    Catalog,
    ChannelOverride,
    Dimensions,
    Product,
    Unit,
    Variant,
)

__all__ = [
    "Catalog",
    "CatalogLimits",
    "CatalogRows",
    "ChannelOverride",
    "Dimensions",
    "Product",
    "Unit",
    "Variant",
    "load_catalog",
    "read_catalog",
]

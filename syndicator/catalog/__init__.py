"""The catalog: reading, validating and modelling a cooperative's one file of products."""

from __future__ import annotations

from syndicator.catalog.loader import (
    CatalogLimits,
    CatalogRows,
    CatalogScan,
    NotSimple,
    load_catalog,
    read_catalog,
    scan_catalog,
)
from syndicator.catalog.model import Catalog, ChannelOverride, Dimensions, Product, Unit, Variant

__all__ = [
    "Catalog",
    "CatalogLimits",
    "CatalogRows",
    "CatalogScan",
    "ChannelOverride",
    "Dimensions",
    "NotSimple",
    "Product",
    "Unit",
    "Variant",
    "load_catalog",
    "read_catalog",
    "scan_catalog",
]

"""A cooperative's catalog file as the config names it: where it is, which channel ids its
overrides may name, how large it may be, and whose it is (a YAML file naming another
cooperative is refused)."""

from __future__ import annotations

from collections.abc import Mapping

from syndicator.catalog import CatalogLimits, CatalogRows, CatalogScan, read_catalog, scan_catalog
from syndicator.config import Config, CooperativeConfig

__all__ = ["read_cooperative_catalog", "scan_cooperative_catalog"]


def read_cooperative_catalog(
    config: Config, coop: CooperativeConfig, limits: CatalogLimits | None = None
) -> CatalogRows:
    """The cooperative's catalog read whole into rows; raises
    :class:`~syndicator.common.problems.Unreadable` when it cannot be used at all."""
    return read_catalog(
        config.catalog_path(coop),
        channels=[c.id for c in coop.channels],
        display=config.catalog_display(coop),
        cooperative=coop.id,
        limits=limits or CatalogLimits(max_bytes=config.max_catalog_bytes),
    )


def scan_cooperative_catalog(
    config: Config,
    coop: CooperativeConfig,
    known: Mapping[str, tuple[str, str]],
    limits: CatalogLimits | None = None,
) -> CatalogScan:
    """The cooperative's CSV catalog cut into records, only those ``known`` does not know
    parsed (see :func:`~syndicator.catalog.scan_catalog`; raises its
    :class:`~syndicator.catalog.csv_reader.NotSimple`)."""
    return scan_catalog(
        config.catalog_path(coop),
        known,
        channels=[c.id for c in coop.channels],
        display=config.catalog_display(coop),
        cooperative=coop.id,
        limits=limits or CatalogLimits(max_bytes=config.max_catalog_bytes),
    )

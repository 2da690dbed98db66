"""Syndicator: one catalog file per cooperative, pushed to every marketplace.

The core package knows no marketplace. It reads and validates catalogs, loads the daemon
config, prices products per channel, keeps the state store and plans what each channel needs.
Marketplaces live in the ``connectors`` package and are found through the
``syndicator.channel_types`` entry point group.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

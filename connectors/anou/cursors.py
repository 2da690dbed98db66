"""Where to start reading a cursor-paged list (orders, reviews) for a time watermark.

The core keeps a time watermark per channel (the latest change it stored); an ANOU-style API
pages by an opaque cursor (``since=<cursor>``, changes in the order they happened). To start
near the watermark instead of at the beginning, the connector keeps checkpoints: after each
page, ``(W, C)`` says "every record at or before cursor ``C`` last changed at or before
``W``" (a record that changes again comes back after a later cursor). A pull from watermark
``T`` starts at the newest checkpoint with ``W`` strictly before ``T`` less the overlap, or
at the beginning when none is.

Safe when the core did not store what a pull gave (a crash between the page and its
transaction): its watermark is older, so an older checkpoint (or none) is used, and the
records are read again. The checkpoints are an optimisation: a store that cannot keep them
only costs re-reading.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from syndicator.connector import TokenStore

__all__ = ["Checkpoints"]

log = logging.getLogger("syndicator.connectors.anou")

KEEP = 32  # checkpoints kept per list: the newest


@dataclass(frozen=True, slots=True)
class _Point:
    changed_until: datetime
    cursor: str


class Checkpoints:
    """The checkpoints of one list (``orders``) of one channel, in its token store.

    ``scope`` names what the cursors belong to (the API's address and endpoint): cursors
    kept for another scope are never used.
    """

    def __init__(self, tokens: TokenStore, name: str, scope: str) -> None:
        self.tokens = tokens
        self.name = f"cursor_checkpoints.{name}"
        self.scope = scope
        self._points: list[_Point] | None = None

    def _load(self) -> list[_Point]:
        if self._points is None:
            self._points = []
            try:
                raw = self.tokens.load(self.name)
                data = json.loads(raw) if raw else {}
                if isinstance(data, dict) and data.get("scope") == self.scope:
                    self._points = [
                        _Point(datetime.fromisoformat(w), str(c)) for w, c in data["points"]
                    ]
            except Exception:  # a checkpoint is an optimisation: read from the start
                log.warning("cursor_checkpoints_unreadable", extra={"list": self.name})
        return self._points

    def start(self, threshold: datetime | None) -> str | None:
        """The cursor to read on from for changes at or after ``threshold`` (None: from the
        beginning)."""
        if threshold is None:
            return None
        usable = [p for p in self._load() if p.changed_until < threshold]
        return usable[-1].cursor if usable else None  # sorted by time, ties as added

    def add(self, changed_until: datetime, cursor: str) -> None:
        """Every record up to ``cursor`` last changed at or before ``changed_until``."""
        points = [p for p in self._load() if p.cursor != cursor]
        points.append(_Point(changed_until, cursor))
        points.sort(key=lambda p: p.changed_until)
        self._points = points[-KEEP:]
        data = {
            "scope": self.scope,
            "points": [[p.changed_until.isoformat(), p.cursor] for p in self._points],
        }
        try:
            self.tokens.save({self.name: json.dumps(data)})
        except Exception:  # the next pull reads a little more; nothing is lost
            log.warning("cursor_checkpoint_not_saved", extra={"list": self.name}, exc_info=True)

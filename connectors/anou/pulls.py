"""Orders and reviews from an ANOU-style marketplace, page by page since a watermark.

The list is paged by the marketplace's cursor (``since: cursor``: the cursor of the last page
goes back in ``since_param``; the pull starts near the watermark thanks to the
:class:`~connectors.anou.cursors.Checkpoints`), or by time (``since: time``: the watermark less
the overlap in ``since_param``, then ``cursor_param`` for the next page, or, without a
cursor, the time of the page's last change).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from connectors.anou.client import AnouClient
from connectors.anou.cursors import Checkpoints
from connectors.anou.records import MappingError, get_path
from connectors.anou.settings import AnouSettings, FieldMap
from syndicator.connector import SetupError, TokenStore, Transient, cursor_pages, latest

__all__ = ["Pulls"]

T = TypeVar("T")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _Ask:
    """The query of the next page; ``stuck``: why there can be none, said only when it is
    asked for (after the page before was taken)."""

    params: Mapping[str, str]
    stuck: str | None = None


class Pulls:
    """The lists of one shop (``lists``: where a page keeps its items and the next cursor;
    ``tokens``: where the checkpoints are kept)."""

    def __init__(
        self, client: AnouClient, settings: AnouSettings, lists: FieldMap, tokens: TokenStore
    ) -> None:
        self.client = client
        self.settings = settings
        self.lists = lists
        self.tokens = tokens

    def pull(
        self,
        kind: str,
        since: datetime | None,
        parse: Callable[[Any], T],
        changed: Callable[[T], datetime],
        endpoint: str,
    ) -> Iterator[tuple[tuple[T, ...], datetime | None]]:
        """Pages of ``kind`` (``orders``, ``reviews``) changed at or after ``since`` less the
        overlap, each with the latest change seen so far; at least one page, so the
        watermark is always given."""
        client, lists, tokens = self.client, self.lists, self.tokens
        s = self.settings
        operation = "listOrders" if kind == "orders" else "listReviews"
        threshold = None if since is None else since - s.order_overlap
        checkpoints = Checkpoints(tokens, kind, f"{s.api_url} {endpoint}")
        params = {s.limit_param: str(s.page_size)}
        if s.since == "cursor":
            start = checkpoints.start(threshold)
            if start is not None:
                params[s.since_param] = start
        elif threshold is not None:
            params[s.since_param] = _iso(threshold)
        watermark = since

        def fetch(ask: _Ask) -> tuple[tuple[tuple[T, ...], datetime | None], _Ask | None]:
            nonlocal watermark
            if ask.stuck is not None:
                raise SetupError(ask.stuck, operation=operation)
            data = client.call(operation, endpoint, params=ask.params)
            raw = get_path(data, lists[kind])
            if not isinstance(raw, list):
                raise SetupError(
                    f"the {kind} answer has no list at {lists[kind]!r}: check fields.lists.{kind}",
                    operation=operation,
                )
            try:
                records = [parse(item) for item in raw]
            except MappingError as exc:
                raise Transient(f"{kind}: {exc}", operation=operation) from None
            watermark = latest(map(changed, records), watermark)
            cursor = get_path(data, lists["next_cursor"])
            cursor = None if cursor is None or cursor == "" else str(cursor)
            if s.since == "cursor" and cursor is not None and watermark is not None:
                checkpoints.add(watermark, cursor)
            kept = tuple(r for r in records if threshold is None or changed(r) >= threshold)
            return (kept, watermark), _following(ask.params, len(raw), records, cursor)

        def _following(
            asked: Mapping[str, str], count: int, records: list[T], cursor: str | None
        ) -> _Ask | None:
            if count < s.page_size:
                return None
            if lists["next_cursor"] is not None:  # it pages by cursor
                key = s.since_param if s.since == "cursor" else s.cursor_param
                if cursor is None or cursor == asked.get(key):
                    return None
                return _Ask({**asked, key: cursor})
            # By time alone: ask again from the last change of this page.
            moved = _iso(max(changed(r) for r in records))
            if moved == asked.get(s.since_param):
                return _Ask(
                    asked,
                    f"{count} {kind} changed at {moved}, a full page, and the marketplace gives no "
                    "cursor to page on: raise page_size",
                )
            return _Ask({**asked, s.since_param: moved})

        given = False
        for kept, mark in cursor_pages(fetch, _Ask(params)):
            if kept or not given:
                given = True
                yield kept, mark

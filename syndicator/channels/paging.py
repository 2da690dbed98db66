"""Paging written once, for every connector: offset paging (a limit, an offset and the total
count: Etsy) and cursor paging (an opaque token for the next page: Amazon's ``nextToken``,
an ANOU-style ``since`` cursor), as generators a connector loops over.

A page is fetched only when the loop asks for it: a caller that has found what it looks for
stops iterating and no further call is made. :func:`latest` keeps a pull's watermark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["Page", "cursor_pages", "latest", "offset_pages"]

T = TypeVar("T")
P = TypeVar("P")
C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an offset-paged list; ``last``: no page follows it."""

    items: Sequence[T]
    last: bool


def offset_pages(
    fetch: Callable[[int], tuple[Sequence[T], int]], *, most: int | None = None
) -> Iterator[Page[T]]:
    """The pages ``fetch(offset) -> (items, total count)`` gives, from offset 0 on, until a
    page comes back empty, the count is reached, or ``most`` items were read."""
    offset = 0
    while True:
        items, count = fetch(offset)
        offset += len(items)
        last = not items or offset >= count or (most is not None and offset >= most)
        yield Page(items, last)
        if last:
            return


def cursor_pages(fetch: Callable[[C], tuple[P, C | None]], start: C) -> Iterator[P]:
    """The pages ``fetch(cursor) -> (page, next cursor)`` gives, from ``start`` on, until
    there is no next cursor (None)."""
    cursor = start
    while True:
        page, following = fetch(cursor)
        yield page
        if following is None:
            return
        cursor = following


def latest(moments: Iterable[datetime], start: datetime | None = None) -> datetime | None:
    """The latest of ``start`` and ``moments`` (None when there is none): a pull's
    watermark, moved on by the records of each page."""
    found = start
    for moment in moments:
        if found is None or moment > found:
            found = moment
    return found

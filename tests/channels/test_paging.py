"""Paging written once: offset pages until the count, cursor pages until no cursor, each page
fetched only when the loop asks for it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from syndicator.channels.paging import cursor_pages, latest, offset_pages


class OffsetApi:
    """``total`` numbered records, ``size`` a page, answered as (items, count)."""

    def __init__(self, total: int, size: int) -> None:
        self.total, self.size = total, size
        self.asked: list[int] = []

    def __call__(self, offset: int) -> tuple[Sequence[int], int]:
        self.asked.append(offset)
        return list(range(offset, min(offset + self.size, self.total))), self.total


def test_offset_pages_read_to_the_count_and_say_which_page_is_last() -> None:
    api = OffsetApi(total=7, size=3)
    pages = list(offset_pages(api))
    assert [list(p.items) for p in pages] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [p.last for p in pages] == [False, False, True]
    assert api.asked == [0, 3, 6]


def test_offset_pages_stop_at_an_empty_page_and_at_most() -> None:
    api = OffsetApi(total=0, size=3)
    assert [(list(p.items), p.last) for p in offset_pages(api)] == [([], True)]
    api = OffsetApi(total=100, size=3)
    pages = list(offset_pages(api, most=5))  # the newest few: two pages, not all of them
    assert [list(p.items) for p in pages] == [[0, 1, 2], [3, 4, 5]] and pages[-1].last
    # A count that is wrong (Etsy's grows while paging) never loops on an empty page.
    assert list(offset_pages(lambda offset: ([], 10)))[-1].last


def test_a_page_is_fetched_only_when_asked_for() -> None:
    api = OffsetApi(total=9, size=3)
    for page in offset_pages(api):
        if 4 in page.items:
            break
    assert api.asked == [0, 3]


def test_cursor_pages_follow_the_cursor_until_there_is_none() -> None:
    tokens = {None: ("first", "t1"), "t1": ("second", "t2"), "t2": ("third", None)}
    asked: list[str | None] = []

    def fetch(token: str | None) -> tuple[str, str | None]:
        asked.append(token)
        return tokens[token]

    assert list(cursor_pages(fetch, None)) == ["first", "second", "third"]
    assert asked == [None, "t1", "t2"]
    # From a cursor kept before (a checkpoint), and lazily.
    asked.clear()
    pages = cursor_pages(fetch, "t1")
    assert next(pages) == "second" and asked == ["t1"]


def test_latest_is_the_watermark_of_what_was_seen() -> None:
    t = [datetime(2026, 11, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert latest([t[1], t[0]], None) == t[1]
    assert latest([], t[2]) == t[2]
    assert latest([t[0]], t[2]) == t[2]
    assert latest([]) is None

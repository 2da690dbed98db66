"""JSON listings feeds (``JSON_LISTINGS_FEED``, schema v2): messages, documents within
Amazon's limits, and the processing report read back into one outcome per change. Pure:
:mod:`connectors.amazon.bulk` sends and polls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.amazon.records import Scrub, outcome_from
from syndicator.connector import ItemOutcome

__all__ = ["FEED_MAX_BYTES", "FeedMessage", "chunks", "document", "report_outcomes"]

FEED_MAX_BYTES = 9 * 1024 * 1024  # Amazon takes 10 MiB a document; keep a margin


@dataclass(slots=True)
class FeedMessage:
    """One message, and what it answers for: a change (by its index in the batch), or a
    variant family's parent listing (``parent``), whose fate its children carry."""

    body: dict[str, Any]
    index: int | None
    parent: str | None = None
    children: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(json.dumps(self.body, ensure_ascii=False).encode("utf-8")) + 16

    def indexes(self) -> list[int]:
        return [self.index] if self.index is not None else list(self.children)


def chunks(
    messages: Sequence[FeedMessage], max_messages: int, max_bytes: int = FEED_MAX_BYTES
) -> Iterator[list[FeedMessage]]:
    """Feeds of at most ``max_messages`` messages and ``max_bytes`` bytes, in order (a
    parent always comes before its children, in the same feed or an earlier one)."""
    chunk: list[FeedMessage] = []
    size = 0
    for message in messages:
        length = message.size
        if chunk and (len(chunk) >= max_messages or size + length > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += length
    if chunk:
        yield chunk


def document(seller_id: str, issue_locale: str, chunk: list[FeedMessage]) -> bytes:
    """The feed document: numbered messages, as UTF-8 bytes (never a str: the library would
    send it as ISO-8859-1, and Arabic cannot even be written there)."""
    messages = [{"messageId": n, **m.body} for n, m in enumerate(chunk, start=1)]
    feed = {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": issue_locale},
        "messages": messages,
    }
    return json.dumps(feed, ensure_ascii=False).encode("utf-8")


def report_outcomes(
    chunk: list[FeedMessage],
    skus: Sequence[str],
    report: dict[str, Any],
    status: str,
    warnings: dict[int, list[str]],
    scrub: Scrub,
) -> dict[int, ItemOutcome]:
    """The processing report, message by message: each change's outcome with Amazon's own
    message and code (by index in the batch). A FATAL feed refuses every change."""
    number = {id(m): n for n, m in enumerate(chunk, start=1)}
    by_sku = {m.body["sku"]: n for n, m in enumerate(chunk, start=1)}
    found: dict[int, list[dict[str, Any]]] = {}
    general: list[dict[str, Any]] = []
    for issue in report.get("issues") or []:
        if not isinstance(issue, dict):
            continue
        n = issue.get("messageId")
        if not isinstance(n, int) or not 1 <= n <= len(chunk):
            n = by_sku.get(issue.get("sku"))
        if n is None:
            general.append(issue)
        else:
            found.setdefault(n, []).append(issue)
    out: dict[int, ItemOutcome] = {}
    if status == "FATAL":
        refused = outcome_from("", False, general, scrub, refused="Amazon refused the feed")
        message = f"the feed was refused whole: {refused.message}"
        for m in chunk:
            for i in m.indexes():
                out[i] = ItemOutcome(skus[i], False, message=message, code=refused.code)
        return out
    notes: dict[int, list[str]] = {}
    for m in chunk:
        if m.parent is None:
            continue
        parent = outcome_from(m.parent, True, found.get(number[id(m)], []), scrub)
        if not parent.ok:
            for child in m.children:
                notes.setdefault(child, []).append(f"parent {m.parent} refused: {parent.message}")
    for m in chunk:
        if m.index is None:
            continue
        out[m.index] = outcome_from(
            skus[m.index],
            True,
            found.get(number[id(m)], []),
            scrub,
            warnings=[*warnings.get(m.index, []), *notes.get(m.index, [])],
        )
    return out

"""The Feeds API 2021-06-30 with ``JSON_LISTINGS_FEED``: a feed document uploaded to a
presigned URL, a feed applied message by message when it finishes (as the Listings Items
API would apply each), and a processing report in the official schema."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox import spec_amazon as spec
from sandbox.amazon.api import AmazonApi
from sandbox.amazon.catalog import Catalog, Outcome, issue, item_json
from sandbox.amazon.documents import Documents
from sandbox.amazon.jobs import JobKind, Jobs
from sandbox.amazon.state import Job
from sandbox.base import ApiError

__all__ = ["FEED_TYPES", "Feeds"]

FEEDS = "/feeds/2021-06-30"
FEED_TYPES = ("JSON_LISTINGS_FEED",)
MAX_FEED = 10 * 1024 * 1024  # a feed document
# The sandbox's own issue codes: a message the schema refuses, a feed refused whole.
BAD_MESSAGE, FATAL = "100001", "999999"


class Feeds(Jobs):
    kind = JobKind(
        noun="feed",
        types=FEED_TYPES,
        first_id=50_000_000_000,
        id_key="feedId",
        type_key="feedType",
        document_key="resultFeedDocumentId",
        document_kinds=frozenset({"feed", "feed-result"}),
        document_id_key="feedDocumentId",
    )

    def __init__(self, api: AmazonApi, documents: Documents, catalog: Catalog) -> None:
        super().__init__(api, documents)
        self.catalog = catalog

    def jobs(self) -> dict[str, Job]:
        return self.state.feeds

    def routes(self) -> list[BaseRoute]:
        route = self.api.route
        return [
            route(
                "POST",
                f"{FEEDS}/documents",
                "createFeedDocument",
                self.create_document,
                write=True,
            ),
            route(
                "GET", f"{FEEDS}/documents/{{document_id}}", "getFeedDocument", self.get_document
            ),
            route("POST", f"{FEEDS}/feeds", "createFeed", self.create, write=True),
            route("GET", f"{FEEDS}/feeds/{{job_id}}", "getFeed", self.get),
        ]

    async def create_document(self, request: Request) -> Response:
        body = await self.api.body(request, "createFeedDocument")
        with self.api.lock:
            document = self.documents.new(
                self.api.seller(request), "feed", body["contentType"], None
            )
            url = self.documents.url(document)
        return self.api.answer({"feedDocumentId": document.document_id, "url": url}, 201)

    async def create(self, request: Request) -> Response:
        body = await self.api.body(request, "createFeed")
        seller = self.api.seller(request)
        self.check_type(body["feedType"])
        with self.api.lock:
            marketplaces = self.api.marketplaces(seller, body["marketplaceIds"])
            document = self.state.documents.get(body["inputFeedDocumentId"])
            if document is None or document.seller_id != seller or document.kind != "feed":
                raise ApiError(400, "InvalidInput", "Invalid inputFeedDocumentId.")
            job = self.add(
                seller, body["feedType"], marketplaces, input_document=document.document_id
            )
        return self.created(job)

    def finish(self, job: Job) -> None:
        report, fatal = self._process(job)
        job.status = "FATAL" if fatal else "DONE"
        data = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8")
        document = self.documents.new(
            job.seller_id, "feed-result", "application/json; charset=UTF-8", data
        )
        job.result_document = document.document_id

    def _process(self, job: Job) -> tuple[dict[str, Any], bool]:
        """Apply a JSON listings feed message by message; the processing report, and whether
        the whole feed was refused (FATAL)."""
        header: dict[str, Any] = {"sellerId": job.seller_id, "version": "2.0", "feedId": job.job_id}
        counts = ("warnings", "messagesProcessed", "messagesAccepted", "messagesInvalid")
        empty = {"errors": 1, **dict.fromkeys(counts, 0)}

        def fatal(message: str) -> tuple[dict[str, Any], bool]:
            refusal = {"code": FATAL, "severity": "ERROR", "message": message}
            return {"header": header, "issues": [refusal], "summary": empty}, True

        document = self.state.documents.get(job.input_document or "")
        if document is None or document.data is None:
            return fatal("The feed document was never uploaded.")
        if len(document.data) > MAX_FEED:
            return fatal(f"The feed document is larger than {MAX_FEED} bytes.")
        try:
            text = document.data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as err:
            return fatal(
                f"The feed document is not UTF-8 (byte 0x{document.data[err.start]:02x} at "
                f"position {err.start}): encode it as UTF-8."
            )
        try:
            feed = json.loads(text)
        except ValueError as err:
            return fatal(f"The feed document is not JSON: {err}.")
        problems = spec.feed_envelope_problems(feed)
        if problems:
            return fatal(
                "The feed does not follow the JSON listings feed schema: " + "; ".join(problems)
            )
        if feed["header"]["sellerId"] != job.seller_id:
            return fatal(
                f"The feed header's sellerId {feed['header']['sellerId']} is not the seller "
                "who submitted the feed."
            )
        included = feed["header"].get("report", {}).get("includedData")
        if included:
            header["report"] = feed["header"]["report"]
        issues: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        accepted = invalid = 0
        seen: set[int] = set()
        marketplace = job.marketplace_ids[0]
        for message in feed["messages"]:
            status, found = self._apply(job.seller_id, marketplace, message, seen)
            where = {k: message[k] for k in ("messageId", "sku") if _report_key(message, k)}
            for problem in found:
                entry = {**where, **{k: problem[k] for k in ("code", "severity", "message")}}
                if problem.get("attributeNames"):
                    entry["attributeName"] = problem["attributeNames"][0]
                issues.append(entry)
            if status == "ACCEPTED":
                accepted += 1
                listing = self.state.listings.get((job.seller_id, message["sku"]))
                if included and listing is not None:
                    items.append(item_json(listing, included))
            else:
                invalid += 1
        report: dict[str, Any] = {
            "header": header,
            "issues": issues,
            "summary": {
                "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
                "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }
        if included:
            report["summary"]["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
            report["items"] = items
        return report, False

    def _apply(
        self, seller: str, marketplace: str, message: dict[str, Any], seen: set[int]
    ) -> Outcome:
        """One feed message, applied as the Listings Items API would apply it."""
        problems = spec.message_problems(message)
        if problems:
            return "INVALID", [issue(BAD_MESSAGE, f"The message is invalid: {p}") for p in problems]
        if message["messageId"] in seen:
            return "INVALID", [issue(BAD_MESSAGE, "The messageId is used by another message.")]
        seen.add(message["messageId"])
        sku, operation = message["sku"], message["operationType"]
        if operation == "UPDATE":
            return self.catalog.put(
                seller,
                sku,
                marketplace,
                message["productType"],
                message.get("requirements", "LISTING"),
                message["attributes"],
            )
        if operation == "DELETE":
            return self.catalog.delete(seller, sku, marketplace)
        patches = message.get("patches") or [
            {"op": "replace", "path": f"/attributes/{name}", "value": value}
            for name, value in message["attributes"].items()
        ]
        return self.catalog.patch(seller, sku, marketplace, message["productType"], patches)


def _report_key(message: Any, key: str) -> bool:
    """Whether a message's messageId or sku can go into its issue (the schema's types)."""
    value = message.get(key) if isinstance(message, dict) else None
    if key == "messageId":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return isinstance(value, str) and value != ""

"""The Reports API 2021-06-30 with ``GET_SELLER_FEEDBACK_DATA``: as on Amazon, only the 1 to
3 star feedback, in a tab-separated flat file; a report without rows is ``CANCELLED``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.amazon.api import moment
from sandbox.amazon.jobs import JobKind, Jobs
from sandbox.amazon.state import Job
from sandbox.base import ApiError

__all__ = ["REPORT_TYPES", "Reports"]

REPORTS = "/reports/2021-06-30"
REPORT_TYPES = ("GET_SELLER_FEEDBACK_DATA",)
FEEDBACK_HEADER = ("Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email")


class Reports(Jobs):
    kind = JobKind(
        noun="report",
        types=REPORT_TYPES,
        first_id=60_000_000_000,
        id_key="reportId",
        type_key="reportType",
        document_key="reportDocumentId",
        document_kinds=frozenset({"report"}),
        document_id_key="reportDocumentId",
    )

    def jobs(self) -> dict[str, Job]:
        return self.state.reports

    def routes(self) -> list[BaseRoute]:
        route = self.api.route
        return [
            route("POST", f"{REPORTS}/reports", "createReport", self.create, write=True),
            route("GET", f"{REPORTS}/reports/{{job_id}}", "getReport", self.get),
            route(
                "GET",
                f"{REPORTS}/documents/{{document_id}}",
                "getReportDocument",
                self.get_document,
            ),
        ]

    async def create(self, request: Request) -> Response:
        body = await self.api.body(request, "createReport")
        seller = self.api.seller(request)
        self.check_type(body["reportType"])
        start, end = (_body_time(body, k) for k in ("dataStartTime", "dataEndTime"))
        if start and end and end < start:
            raise ApiError(400, "InvalidInput", "dataEndTime is before dataStartTime.")
        with self.api.lock:
            marketplaces = self.api.marketplaces(seller, body["marketplaceIds"])
            job = self.add(seller, body["reportType"], marketplaces, data_start=start, data_end=end)
        return self.created(job)

    def finish(self, job: Job) -> None:
        """Only 1 to 3 star feedback, as Amazon's report; no rows: CANCELLED, as Amazon."""
        rows = [
            f
            for f in self.state.feedback
            if f.seller_id == job.seller_id
            and f.marketplace_id in job.marketplace_ids
            and f.rating <= 3
            and (job.data_start is None or f.date >= job.data_start)
            and (job.data_end is None or f.date <= job.data_end)
        ]
        if not rows:
            job.status = "CANCELLED"
            return
        lines = ["\t".join(FEEDBACK_HEADER)]
        for f in sorted(rows, key=lambda f: f.date):
            comment = " ".join(f.text.split())  # a flat file: no tabs nor line breaks inside
            day = f"{f.date.month}/{f.date.day}/{f.date:%y}"
            lines.append("\t".join((day, str(f.rating), comment, "", f.order_id, f.rater_email)))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        document = self.documents.new(
            job.seller_id, "report", "text/tab-separated-values; charset=UTF-8", data
        )
        job.status, job.result_document = "DONE", document.document_id


def _body_time(body: dict[str, Any], name: str) -> datetime | None:
    raw = body.get(name)
    if raw is None:
        return None
    return moment(str(raw), f"{name} is not an ISO 8601 date-time.")

"""Seller feedback through its report (``GET_SELLER_FEEDBACK_DATA``): requested, awaited,
downloaded and read (:func:`connectors.amazon.records.feedback_from`).

Amazon gives only the 1 to 3 star ratings of the seller, never product reviews, so every
review says ``complete_sample=False``: never a satisfaction rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from connectors.amazon.client import AmazonApi
from connectors.amazon.records import feedback_from, iso
from syndicator.connector import ReviewPage, Transient, latest

__all__ = ["pull_feedback"]

FEEDBACK_REPORT = "GET_SELLER_FEEDBACK_DATA"


def pull_feedback(api: AmazonApi, since: datetime | None, region: str) -> Iterator[ReviewPage]:
    """The seller's feedback since ``since`` (two days early: it is dated by the day; the
    review ids dedupe), as one page. ``region``: the store's, for its usual date order."""
    s = api.settings
    now = datetime.now(UTC)
    start = since - timedelta(days=2) if since else now - timedelta(days=s.feedback_lookback_days)
    reports = api.client("reports")
    created = api.call(
        "createReport",
        lambda: reports.create_report(
            reportType=FEEDBACK_REPORT,
            marketplaceIds=[api.mid],
            dataStartTime=iso(min(start, now)),
        ),
        expect="reportId",
    )
    report_id = str(created.payload["reportId"])
    payload = api.poll("getReport", lambda: reports.get_report(report_id), s.report_poll_seconds)
    if payload is None:
        raise Transient(
            f"report {report_id} was not ready within {s.job_timeout_seconds:g} s",
            operation="getReport",
        )
    status = payload["processingStatus"]
    if status == "CANCELLED":  # Amazon's way of saying: no feedback in that time
        yield ReviewPage((), since)
        return
    if status != "DONE" or not payload.get("reportDocumentId"):
        raise Transient(f"report {report_id} ended {status}", operation="getReport")
    text = _report_text(api, str(payload["reportDocumentId"]))
    try:
        reviews = feedback_from(
            text,
            seller_id=api.seller_id,
            date_order=s.feedback_date_order,
            default_order="MDY" if region == "NA" else "DMY",
        )
    except ValueError as exc:
        raise Transient(str(exc), operation="getReportDocument") from None
    yield ReviewPage(tuple(reviews), latest((r.created_at for r in reviews), since))


def _report_text(api: AmazonApi, document_id: str) -> str:
    """A report document, downloaded with our timeout, unzipped, decoded by its charset."""
    reports = api.client("reports")
    answer = api.call(
        "getReportDocument",
        lambda: reports.get_report_document(document_id, download=False),
        expect="url",
    )
    url = str(answer.payload["url"])
    compression = answer.payload.get("compressionAlgorithm")
    return api.caller("downloadReport", lambda: api.download(url, compression))

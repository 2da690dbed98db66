"""What Feeds and Reports share: a job is created for a seller's stores, then moves one step
per poll (``IN_QUEUE``, ``IN_PROGRESS``, then finished), and its result is a document."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from sandbox.amazon.api import AmazonApi, Part
from sandbox.amazon.documents import Documents
from sandbox.amazon.state import Job, iso
from sandbox.base import ApiError

__all__ = ["JobKind", "Jobs"]


@dataclass(frozen=True, slots=True)
class JobKind:
    """How an API names its jobs (``feed``: feedId, feedType, resultFeedDocumentId ...)."""

    noun: str  # "feed", "report": in the error messages
    types: tuple[str, ...]  # the job types the sandbox serves
    first_id: int  # ids are this plus a sequence number
    id_key: str
    type_key: str
    document_key: str  # the result document's id, in the job
    document_kinds: frozenset[str]  # the documents get<Noun>Document shows
    document_id_key: str  # the document's id, in get<Noun>Document


class Jobs(Part, ABC):
    """The jobs of one API: how it names them (``kind``), and how one finishes."""

    kind: ClassVar[JobKind]

    def __init__(self, api: AmazonApi, documents: Documents) -> None:
        super().__init__(api)
        self.documents = documents

    @abstractmethod
    def jobs(self) -> dict[str, Job]:
        """Where the state keeps this API's jobs, by id."""

    @abstractmethod
    def finish(self, job: Job) -> None:
        """The last step: the job's final status and its result document."""

    def check_type(self, job_type: str) -> None:
        if job_type not in self.kind.types:
            raise ApiError(
                400,
                "InvalidInput",
                f"{self.kind.noun.capitalize()} type {job_type} is not supported by the sandbox "
                f"(it serves {', '.join(self.kind.types)}).",
            )

    def add(self, seller: str, job_type: str, marketplaces: list[str], **extra: Any) -> Job:
        """A new job, queued (call under the lock)."""
        job_id = str(self.kind.first_id + self.api.next_seq())
        job = Job(job_id, seller, job_type, marketplaces, self.api.stamp(), **extra)
        self.jobs()[job.job_id] = job
        return job

    def created(self, job: Job) -> Response:
        return self.api.answer({self.kind.id_key: job.job_id}, 202)

    async def get(self, request: Request) -> Response:
        """getFeed, getReport: the job, one step further."""
        with self.api.lock:
            job = self.jobs().get(request.path_params["job_id"])
            if job is None or job.seller_id != self.api.seller(request):
                raise ApiError(404, "NotFound", f"The {self.kind.noun} was not found.")
            self._poll(job)
            return self.api.answer(self._json(job))

    async def get_document(self, request: Request) -> Response:
        """getFeedDocument, getReportDocument."""
        kind = self.kind
        return self.documents.located(request, kind.document_kinds, kind.noun, kind.document_id_key)

    def _poll(self, job: Job) -> None:
        """One step per poll: IN_QUEUE, then IN_PROGRESS, then finished."""
        if job.status == "IN_QUEUE" and job.polls >= 1:
            job.status, job.started = "IN_PROGRESS", self.api.stamp()
        elif job.status == "IN_PROGRESS":
            self.finish(job)
            job.ended = self.api.stamp()
        job.polls += 1

    def _json(self, job: Job) -> dict[str, Any]:
        out: dict[str, Any] = {
            self.kind.id_key: job.job_id,
            self.kind.type_key: job.job_type,
            "marketplaceIds": job.marketplace_ids,
            "createdTime": iso(job.created),
            "processingStatus": job.status,
        }
        times: tuple[tuple[str, datetime | None], ...] = (
            ("dataStartTime", job.data_start),
            ("dataEndTime", job.data_end),
            ("processingStartTime", job.started),
            ("processingEndTime", job.ended),
        )
        out.update((key, iso(when)) for key, when in times if when)
        if job.result_document:
            out[self.kind.document_key] = job.result_document
        return out

"""Feed and report documents behind loopback URLs that act like S3 presigned URLs: no token,
the upload's Content-Type must be the one declared, and they expire after 5 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.amazon.api import Part
from sandbox.amazon.state import Document, digest
from sandbox.base import ApiError

__all__ = ["URL_LIFETIME", "Documents"]

URL_LIFETIME = timedelta(minutes=5)


def _s3_error(status: int, code: str, message: str) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(xml, status_code=status, media_type="application/xml")


class Documents(Part):
    """The documents of every seller, and the presigned URLs that read and write them."""

    def routes(self) -> list[BaseRoute]:
        return [Route("/_documents/{document_id}", self.serve, methods=["GET", "PUT"])]

    def new(self, seller: str, kind: str, content_type: str, data: bytes | None) -> Document:
        prefix = "amzn1.spdoc.1.4.na." if kind == "report" else "amzn1.tortuga.4.na."
        document = Document(prefix + self.api.new_id(kind), seller, kind, content_type, data)
        self.state.documents[document.document_id] = document
        return document

    def url(self, document: Document) -> str:
        stamp = self.api.stamp().strftime("%Y%m%dT%H%M%SZ")
        expires = int(URL_LIFETIME.total_seconds())
        return (
            f"{self.api.base_url}/_documents/{document.document_id}"
            f"?X-Amz-Date={stamp}&X-Amz-Expires={expires}"
        )

    def located(self, request: Request, kinds: frozenset[str], noun: str, key: str) -> Response:
        """getFeedDocument and getReportDocument: a seller's document of these ``kinds``
        (404 naming the ``noun`` otherwise), with its URL under ``key``."""
        with self.api.lock:
            document = self.state.documents.get(request.path_params["document_id"])
            if (
                document is None
                or document.seller_id != self.api.seller(request)
                or document.kind not in kinds
            ):
                raise ApiError(404, "NotFound", f"The {noun} document was not found.")
            return self.api.answer({key: document.document_id, "url": self.url(document)})

    async def serve(self, request: Request) -> Response:
        """A presigned URL: no token, but it expires, and an upload must keep the declared
        Content-Type (it is part of the signature)."""
        try:
            signed = datetime.strptime(request.query_params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            lifetime = timedelta(seconds=int(request.query_params["X-Amz-Expires"]))
        except (KeyError, ValueError):
            return _s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the X-Amz-Date and X-Amz-Expires parameters",
            )
        if self.api.now() > signed.replace(tzinfo=UTC) + lifetime:
            return _s3_error(403, "AccessDenied", "Request has expired")
        data = await request.body()
        with self.api.lock:
            document = self.state.documents.get(request.path_params["document_id"])
            if document is None:
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            if request.method == "GET":
                if document.data is None:
                    return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
                return Response(document.data, media_type=document.content_type)
            if document.kind != "feed":
                return _s3_error(403, "AccessDenied", "Access Denied")
            sent = request.headers.get("content-type", "")
            if sent.replace(" ", "").lower() != document.content_type.replace(" ", "").lower():
                return _s3_error(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you "
                    f"provided (Content-Type {sent!r}, signed for {document.content_type!r}).",
                )
            document.data = data
        return Response(b"", status_code=200, headers={"ETag": f'"{digest(document.document_id)}"'})

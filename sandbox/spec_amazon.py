"""The official Amazon SP-API models as validators: the sandbox is held to them.

The API models in ``specs/amazon`` are Swagger 2.0, whose schemas are JSON Schema draft 4
with ``$ref`` into ``#/definitions`` of the same file; the JSON listings feed, its messages and
its processing report are plain JSON Schema draft 07. The emulator uses these validators to
refuse what Amazon refuses (request bodies, query parameters), and the conformance tests use
them to check every answer it gives. ``date-time`` and ``date`` formats are really checked
(jsonschema skips them unless an optional package is installed).

LWA (``lwaToken``) is not an SP-API model: its two answer shapes, from the Login with Amazon
documentation, are written here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jsonschema import (  # type: ignore[import-untyped]
    Draft4Validator,
    Draft7Validator,
    FormatChecker,
)

from sandbox.base import Exchange

__all__ = [
    "LWA_ERROR",
    "LWA_TOKEN",
    "MODELS",
    "Operation",
    "definition",
    "feed_envelope_problems",
    "feed_problems",
    "message_problems",
    "operation",
    "operations",
    "parameter_problems",
    "report_problems",
    "request_problems",
    "response_problems",
    "validate_exchange",
]

SPECS = Path(__file__).parent / "specs" / "amazon"

# Short name -> Swagger file, for the APIs the sandbox serves.
MODELS = {
    "listingsItems": "listingsItems_2021-08-01.json",
    "feeds": "feeds_2021-06-30.json",
    "orders": "orders_2026-01-01.json",
    "ordersV0": "ordersV0.json",
    "reports": "reports_2021-06-30.json",
}
FEED_SCHEMA = "listings-feed-schema-v2.json"
MESSAGE_SCHEMA = "listings-feed-message-schema-v2.json"
REPORT_SCHEMA = "listings-feed-processing-report-schema-v2.json"

# Login with Amazon: a token, or an OAuth 2 error.
LWA_TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "refresh_token"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"const": "bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
        "refresh_token": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
LWA_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    "additionalProperties": False,
}
_LWA_REQUEST_KEYS = ("grant_type", "refresh_token", "client_id", "client_secret")

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_datetime(value: object) -> bool:
    """RFC 3339: a date, a time and an offset (``Z`` or ``+hh:mm``)."""
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError("no time part")
    return datetime.fromisoformat(value).tzinfo is not None


@_FORMATS.checks("date", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@dataclass(frozen=True, eq=False)
class Operation:
    """One operation of a model: where it is served and what it takes and answers."""

    model: str
    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches a served path ending in this operation's path (any prefix, e.g. /amazon)."""
        return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.path)) + "$")

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]

    def body_schema(self) -> dict[str, Any] | None:
        body = self.parameters("body")
        return body[0]["schema"] if body else None

    def response_schema(self, status: int) -> dict[str, Any] | None:
        return self.spec["responses"][str(status)].get("schema")  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return f"{self.model}.{self.operation_id}"


@cache
def _document(file: str) -> dict[str, Any]:
    return json.loads((SPECS / file).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def definition(model: str, name: str) -> dict[str, Any]:
    """A schema under ``#/definitions`` of a model (e.g. an enum the emulator must follow)."""
    return _document(MODELS[model])["definitions"][name]  # type: ignore[no-any-return]


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the models the sandbox serves."""
    found = []
    for model, file in MODELS.items():
        for path, methods in _document(file)["paths"].items():
            for method, spec in methods.items():
                if method != "parameters":
                    found.append(Operation(model, spec["operationId"], method.upper(), path, spec))
    return tuple(found)


def operation(operation_id: str, method: str | None = None, path: str | None = None) -> Operation:
    """The operation with this id; method and served path settle ids two models share
    (``getOrder`` is in Orders v0 and 2026-01-01)."""
    found = [
        op
        for op in operations()
        if op.operation_id == operation_id
        and (method is None or op.method == method.upper())
        and (path is None or op.pattern.search(path))
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} operations match {operation_id} {method} {path}")
    return found[0]


def _strict(node: Any) -> Any:
    """A copy where objects that do not say otherwise allow no other properties: the sandbox
    must not answer with fields the model does not have (a typo would pass otherwise)."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@cache
def _swagger_validator(file: str, schema_json: str, strict: bool) -> Any:
    """A draft 4 validator for a schema of a Swagger file, its definitions alongside."""
    definitions = _document(file)["definitions"]
    schema = json.loads(schema_json)
    root = {**schema, "definitions": definitions}
    if strict:
        root = _strict(root)
    return Draft4Validator(root, format_checker=_FORMATS)


@cache
def _draft7_validator(file: str) -> Any:
    return Draft7Validator(_document(file), format_checker=_FORMATS)


@cache
def _envelope_validator() -> Any:
    """The feed schema with any object as a message: one bad message must not sink the
    feed, it gets its own issues."""
    schema = copy.deepcopy(_document(FEED_SCHEMA))
    schema["properties"]["messages"]["items"] = {"type": "object"}
    return Draft7Validator(schema, format_checker=_FORMATS)


def _problems(validator: Any, instance: Any) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def _body_problems(
    op: Operation,
    schema: dict[str, Any] | None,
    body: Any,
    *,
    strict: bool,
    unexpected: str,
    missing: str,
) -> list[str]:
    """A request or answer body against its schema in the operation's model (``None``: no
    body is due); ``unexpected`` and ``missing`` say a body that should not be, or is not,
    there."""
    if schema is None:
        return [] if body is None else [unexpected]
    if body is None:
        return [missing]
    file = MODELS[op.model]
    return _problems(_swagger_validator(file, json.dumps(schema, sort_keys=True), strict), body)


def request_problems(op: Operation, body: Any) -> list[str]:
    """What is wrong with a request body, by the model (extra properties are allowed)."""
    return _body_problems(
        op,
        op.body_schema(),
        body,
        strict=False,
        unexpected=f"{op} takes no body",
        missing=f"{op} needs a body",
    )


def response_problems(op: Operation, status: int, body: Any, *, strict: bool = True) -> list[str]:
    """What is wrong with an answer, by the model; ``strict``: no property the model lacks."""
    if str(status) not in op.spec["responses"]:
        return [f"{op} has no {status} answer in its model"]
    return _body_problems(
        op,
        op.response_schema(status),
        body,
        strict=strict,
        unexpected=f"{op} answers {status} with no body",
        missing=f"{op} answers {status} with a body",
    )


def _parameter_value(param: dict[str, Any], raw: Sequence[str]) -> Any:
    """A query value as the model types it: arrays are comma-separated or repeated."""
    if param.get("type") == "array":
        items = param.get("items", {})
        values = [v for r in raw for v in r.split(",") if v != ""]
        return [_scalar(items, v) for v in values]
    return _scalar(param, raw[-1])


def _scalar(schema: Mapping[str, Any], value: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return value == "true"
    return value


_PARAM_KEYWORDS = ("type", "enum", "items", "format", "maxItems", "minItems", "minimum",
                   "maximum", "maxLength", "minLength", "pattern")  # fmt: skip


def parameter_problems(op: Operation, query: Mapping[str, Sequence[str]]) -> list[str]:
    """What is wrong with the query of a call: required, typed and enumerated as the model
    says. Parameters the model does not have are not refused (Amazon ignores them)."""
    problems = []
    for param in op.parameters("query"):
        name = param["name"]
        raw = [v for v in query.get(name, []) if v != ""]
        if not raw:
            if param.get("required"):
                problems.append(f"{name} is required")
            continue
        try:
            value = _parameter_value(param, raw)
        except ValueError:
            problems.append(f"{name}: {raw[-1]!r} is not of type {param.get('type')}")
            continue
        schema = {k: v for k, v in param.items() if k in _PARAM_KEYWORDS}
        validator = Draft4Validator(schema, format_checker=_FORMATS)
        problems += [f"{name}: {e.message}" for e in validator.iter_errors(value)]
    return problems


def feed_problems(feed: Any) -> list[str]:
    """A JSON listings feed against listings-feed-schema-v2.json, messages included."""
    return _problems(_draft7_validator(FEED_SCHEMA), feed)


def feed_envelope_problems(feed: Any) -> list[str]:
    """The feed's header and message list, not the messages themselves."""
    return _problems(_envelope_validator(), feed)


def message_problems(message: Any) -> list[str]:
    """One feed message against listings-feed-message-schema-v2.json."""
    return _problems(_draft7_validator(MESSAGE_SCHEMA), message)


def report_problems(report: Any) -> list[str]:
    """A processing report against listings-feed-processing-report-schema-v2.json."""
    return _problems(_draft7_validator(REPORT_SCHEMA), report)


def _lwa_problems(exchange: Exchange) -> list[str]:
    problems = []
    if exchange.status == 200:
        form = parse_qs(exchange.request_body.decode("utf-8"))
        problems = [f"request: no {k}" for k in _LWA_REQUEST_KEYS if k not in form]
    schema = LWA_TOKEN if exchange.status == 200 else LWA_ERROR
    problems += [f"response: {p}" for p in _problems(Draft7Validator(schema), _json(exchange))]
    return problems


def _json(exchange: Exchange) -> Any:
    try:
        return exchange.response_json()
    except ValueError:
        return "<not JSON>"


def validate_exchange(exchange: Exchange) -> list[str]:
    """Everything wrong with a recorded call, by the model of its operation; empty when it
    conforms. The answer (status, content type, body) is always checked; the request (query
    and body) when the sandbox accepted it: a refused request may be wrong on purpose, but
    an accepted one must be one the model allows."""
    if exchange.operation == "lwaToken":
        return _lwa_problems(exchange)
    try:
        op = operation(exchange.operation, exchange.method, exchange.path)
    except LookupError as err:
        return [str(err)]
    problems = []
    if exchange.status < 400:
        problems += [f"request: {p}" for p in parameter_problems(op, exchange.query)]
        if op.body_schema() is not None:
            try:
                body = exchange.request_json()
            except ValueError:
                body = "<not JSON>"
            problems += [f"request: {p}" for p in request_problems(op, body)]
    if exchange.response_body and not exchange.response_type.startswith("application/json"):
        problems.append(f"response: content type {exchange.response_type}, not JSON")
    problems += [f"response: {p}" for p in response_problems(op, exchange.status, _json(exchange))]
    return problems

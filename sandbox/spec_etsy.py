"""Etsy's OpenAPI model (``specs/etsy/openapi-v3.json``), as the emulator and its tests read it.

The emulator decodes every request with it and refuses what the model does not allow (types,
enums, required fields, bounds), so that the sandbox cannot drift from Etsy's own contract.
Conformance tests then hold each recorded exchange, answer included, to the same model with
jsonschema: an independent check of the emulator, in the OpenAPI 3.0 dialect (``nullable``).

jsonschema is a test dependency: the sandbox itself runs without it (``exchange_problems``
imports it when called).

Etsy takes JSON as well as the form encoding its model declares (etsy-python sends JSON),
so a JSON body is checked against the form schema of its operation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from sandbox.base import Exchange
from syndicator.errors import FixInput

__all__ = [
    "TOKEN_OPERATION",
    "Operation",
    "SpecError",
    "coerce",
    "decode_body",
    "exchange_problems",
    "operation",
    "problem",
    "spec",
]

Fields = dict[str, list[Any]]  # decoded form or multipart fields: str values, bytes for files

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class SpecError(FixInput, ValueError):
    """A request the model does not allow (the emulator answers 400 with the message).

    A :class:`~syndicator.errors.FixInput`: the request is wrong as sent and the message
    names the part and the rule (``listing_id must be an integer``). Also a ValueError, as
    the decoding errors it stands for.
    """


@cache
def spec() -> dict[str, Any]:
    """The model, loaded once from the package."""
    text = resources.files("sandbox").joinpath("specs/etsy/openapi-v3.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


_OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
_GRANT = {
    "type": "object",
    "required": ["grant_type", "client_id"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
        "client_id": {"type": "string"},
        "refresh_token": {"type": "string"},
        "code": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string"},
    },
}

# The token endpoint is not in the model (it lives under /v3/public); this is its contract as
# Etsy's OAuth 2 documentation gives it, in the model's own shape.
TOKEN_OPERATION: dict[str, Any] = {
    "operationId": "oauthToken",
    "requestBody": {"content": {FORM: {"schema": _GRANT}, JSON: {"schema": _GRANT}}},
    "responses": {
        "200": {
            "content": {
                JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["access_token", "token_type", "expires_in", "refresh_token"],
                        "properties": {
                            "access_token": {"type": "string"},
                            "token_type": {"type": "string", "enum": ["Bearer"]},
                            "expires_in": {"type": "integer", "minimum": 1},
                            "refresh_token": {"type": "string"},
                        },
                    }
                }
            }
        },
        "400": {"content": {JSON: {"schema": _OAUTH_ERROR}}},
        "401": {"content": {JSON: {"schema": _OAUTH_ERROR}}},
    },
}
TOKEN_PATH = "/v3/public/oauth/token"


@dataclass(frozen=True)
class Operation:
    """One operation of the model: where it is served and what it takes and answers."""

    id: str
    method: str
    path: str
    doc: Mapping[str, Any]

    @property
    def needs_oauth(self) -> bool:
        """Operations whose security names oauth2 need a user's bearer token."""
        return any("oauth2" in s for s in self.doc.get("security", ()))

    def parameters(self, where: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.doc.get("parameters", ()) if p["in"] == where}

    def body_schema(self, content_type: str) -> tuple[str, dict[str, Any]] | None:
        """The media type a body sent as ``content_type`` is read as, and its schema; None
        when the operation takes no body. A media type it does not take is refused."""
        content = self.doc.get("requestBody", {}).get("content", {})
        if not content:
            return None
        media = _media(content_type) or JSON
        if media in content:
            return media, content[media]["schema"]
        if media == JSON and FORM in content:  # Etsy reads JSON for its form operations
            return JSON, content[FORM]["schema"]
        raise SpecError(f"{self.id} takes {' or '.join(content)}, not {media}.")

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The answer's schema; an undocumented error status has Etsy's error shape."""
        responses = self.doc.get("responses", {})
        answer = responses.get(str(status))
        if answer is None:
            if status < 400:
                raise SpecError(f"{self.id} documents no {status} answer")
            return {"$ref": "#/components/schemas/ErrorSchema"}
        content = answer.get("content") or {}
        return content[JSON]["schema"] if JSON in content else None

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` (from ``/v3/`` on) is this operation's."""
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@cache
def _operations() -> dict[str, Operation]:
    found = {
        op["operationId"]: Operation(op["operationId"], method.upper(), path, op)
        for path, item in spec()["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    found["oauthToken"] = Operation("oauthToken", "POST", TOKEN_PATH, TOKEN_OPERATION)
    return found


def operation(operation_id: str) -> Operation:
    try:
        return _operations()[operation_id]
    except KeyError:
        raise SpecError(f"{operation_id} is not an operation of Etsy's model") from None


# ---------------------------------------------------------------- decoding bodies and params
def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def decode_body(content_type: str, raw: bytes) -> Any:
    """JSON (decimals kept exact, never float), or form and multipart fields."""
    media = _media(content_type)
    if not raw:
        return None
    if media in (JSON, ""):
        try:
            return json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise SpecError("The request body is not valid JSON.") from None
    if media == FORM:
        fields: Fields = {}
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise SpecError("The form body is not UTF-8.") from None
        for name, value in pairs:
            fields.setdefault(name.removesuffix("[]"), []).append(value)
        return fields
    if media == MULTIPART:
        return _multipart(content_type, raw)
    raise SpecError(f"Unsupported content type {media}.")


def _multipart(content_type: str, raw: bytes) -> Fields:
    """Split a multipart/form-data body: files stay bytes, other fields become text."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise SpecError("The multipart body has no boundary.")
    fields: Fields = {}
    for part in raw.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, sep, body = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = next(
            (
                line.split(":", 1)[1]
                for line in head.decode("utf-8", "replace").split("\r\n")
                if line.lower().startswith("content-disposition:")
            ),
            "",
        )
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not sep or name is None:
            raise SpecError("A multipart part has no name.")
        body = body.removesuffix(b"\r\n")
        is_file = re.search(r'filename="', disposition) is not None
        try:
            value = body if is_file else body.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(f"The multipart field {name.group(1)} is not UTF-8 text.") from None
        fields.setdefault(name.group(1), []).append(value)
    return fields


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow $ref, and a oneOf of one choice (how the model wraps its references)."""
    while True:
        if "$ref" in schema:
            schema = spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "type" not in schema and len(schema.get("oneOf", ())) == 1:
            schema = {**_resolve(schema["oneOf"][0]), "nullable": schema.get("nullable", False)}
        else:
            return schema


def coerce(values: list[Any], schema: Mapping[str, Any]) -> Any:
    """Text from a query, form or multipart field, as the type its schema declares.

    Arrays come repeated or comma-separated (``tags=a,b``); what does not parse stays text,
    for :func:`problem` to name.
    """
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "array":
        if values in ([], [""]):
            return None if schema.get("nullable") else []
        items = [
            part.strip()
            for value in values
            for part in (value.split(",") if isinstance(value, str) else [value])
        ]
        return [coerce([item], schema.get("items", {})) for item in items]
    value = values[-1]
    if not isinstance(value, str):
        return value
    if value == "" and schema.get("nullable") and kind != "string":
        return None
    if kind == "integer" and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if kind == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def _is(value: Any, kind: str, schema: Mapping[str, Any]) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    return {
        "integer": isinstance(value, int),
        "number": isinstance(value, int | Decimal | float),
        "string": isinstance(value, str)
        or (isinstance(value, bytes) and schema.get("format") == "binary"),
        "boolean": False,
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(kind, True)


_ARTICLE = {"integer": "an integer", "array": "an array", "object": "an object"}


def problem(value: Any, schema: Mapping[str, Any], where: str) -> str | None:
    """What in ``value`` the schema refuses (the first thing), or None.

    A small checker for the part of OpenAPI 3.0 Etsy's model uses (type, nullable, enum,
    minimum, maximum, required, properties, items), so that the sandbox needs no jsonschema.
    """
    schema = _resolve(schema)
    if value is None:
        return None if schema.get("nullable") else f"{where} cannot be null"
    kind = schema.get("type")
    if kind and not _is(value, kind, schema):
        return f"{where} must be {_ARTICLE.get(kind, f'a {kind}')}, not {value!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} must be one of {', '.join(map(str, schema['enum']))}; got {value!r}"
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} must be at most {schema['maximum']}"
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = problem(item, schema.get("items", {}), f"{where}[{i}]")
            if found:
                return found
    if isinstance(value, dict):
        prefix = f"{where}." if where else ""
        for name in schema.get("required", ()):
            if name not in value:
                return f"{prefix}{name} is required"
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found = problem(value[name], sub, f"{prefix}{name}")
                if found:
                    return found
    return None


# ---------------------------------------------------------------- exchanges, with jsonschema
def _to_json_schema(schema: Any, closed: bool) -> Any:
    """OpenAPI 3.0 to JSON Schema: ``nullable`` becomes a null type; ``closed`` forbids
    properties the model does not declare (for answers: the emulator invents no field)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: _to_json_schema(s, closed) for name, s in value.items()}
        elif key in ("items", "not"):
            out[key] = _to_json_schema(value, closed)
        elif key in ("oneOf", "anyOf", "allOf"):
            out[key] = [_to_json_schema(s, closed) for s in value]
        else:
            out[key] = value
    if closed and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _components(closed: bool) -> dict[str, Any]:
    schemas = spec()["components"]["schemas"]
    return {"schemas": {name: _to_json_schema(s, closed) for name, s in schemas.items()}}


def _validate(value: Any, schema: Mapping[str, Any], closed: bool, what: str) -> list[str]:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    root = {**_to_json_schema(dict(schema), closed), "components": _components(closed)}
    validator = Draft202012Validator(root)
    return [
        f"{what}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
    ]


def _binary_as_text(value: Any) -> Any:
    return "<binary>" if isinstance(value, bytes) else value


def exchange_problems(exchange: Exchange) -> list[str]:
    """Where a recorded exchange departs from the model, empty when it conforms.

    The answer is always checked (closed: no undeclared field). The request is checked when
    the emulator accepted it (status below 400): a refusal may well be of a request the model
    forbids, but an acceptance of one is a divergence.
    """
    try:
        op = operation(exchange.operation)
    except SpecError as err:
        return [str(err)]
    problems: list[str] = []
    at = exchange.path.find("/v3/")
    path_params = op.match(exchange.path[at:]) if at >= 0 else None
    if path_params is None:
        return [f"{exchange.path} is not the path of {op.id} ({op.path})"]
    if exchange.method != op.method:
        problems.append(f"{op.id} is {op.method}, not {exchange.method}")
    if exchange.status < 400:
        problems += _request_problems(op, path_params, exchange)
    problems += _response_problems(op, exchange)
    return [f"{op.id} {exchange.status}: {p}" for p in problems]


def _request_problems(op: Operation, path: dict[str, str], exchange: Exchange) -> list[str]:
    problems: list[str] = []
    for where, given in (("path", {k: [v] for k, v in path.items()}), ("query", exchange.query)):
        for name, param in op.parameters(where).items():
            if name not in given:
                if param.get("required"):
                    problems.append(f"{where} parameter {name} is required")
                continue
            value = coerce(list(given[name]), param["schema"])
            problems += _validate(value, param["schema"], False, f"{where} {name}")
    try:
        declared = op.body_schema(exchange.request_type)
        if declared is None:
            if exchange.request_body:
                problems.append("a body was sent to an operation that takes none")
            return problems
        body = decode_body(exchange.request_type, exchange.request_body)
    except SpecError as err:
        return [*problems, f"request body: {err}"]
    media, schema = declared
    if media in (FORM, MULTIPART):
        properties = schema.get("properties", {})
        body = {
            name: _binary_as_text(coerce(values, properties.get(name, {})))
            for name, values in (body or {}).items()
        }
    return problems + _validate(body, schema, False, "request body")


def _response_problems(op: Operation, exchange: Exchange) -> list[str]:
    try:
        schema = op.response_schema(exchange.status)
    except SpecError as err:
        return [str(err)]
    if schema is None:
        return ["an answer without content has a body"] if exchange.response_body else []
    if _media(exchange.response_type) != JSON:
        return [f"the answer is {exchange.response_type or 'untyped'}, not {JSON}"]
    try:
        body = json.loads(exchange.response_body)
    except ValueError:
        return ["the answer is not JSON"]
    return _validate(body, schema, True, "response body")

"""The daemon's logs: one shape for every line, bound context, secrets masked everywhere.

:func:`configure_logging` routes structlog *and* the standard library (``syndicator.sync``'s
``%``-style messages, httpx, urllib3, requests, uvicorn, apscheduler, python-amazon-sp-api)
through one handler, so that every line carries the same fields: ``timestamp`` (ISO 8601,
UTC, ``Z``), ``level``, ``logger``, ``event``, then the context bound with :func:`bound`
(``cooperative``, ``channel``, ``sku``, ``run_id``) and the event's own fields. Lines are
JSON when the stream is not a terminal, readable colour when it is.

The handler holds a :class:`Redactor`, and every line passes through it twice: each field
of the event (exception tracebacks are rendered to text first), then the finished line. It
masks the secret values it was given (:meth:`Config.secret_values` reads them off the config) and
anything shaped like a credential even when nobody told it (a bearer token, an Amazon
refresh token, ``client_secret=`` in a form body, ``"api_key": "..."`` in JSON).

:class:`FailureLog` logs a failure once and its recovery once, as Home Assistant's
``DataUpdateCoordinator`` does, instead of a stack trace at every scheduled run.

See docs/logging.md.
"""

from __future__ import annotations

import json as _json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import IO, Any
from urllib.parse import quote, quote_plus

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "CONTEXT_FIELDS",
    "CREDENTIAL_MIN_LENGTH",
    "MASK",
    "FailureLog",
    "Redactor",
    "add_secrets",
    "bound",
    "configure_logging",
    "current_redactor",
    "get_logger",
    "standard_structlog",
]

MASK = "***"
# A credential of at least this many characters is masked (shorter ones would mask ordinary
# words in a channel's message); the log's redactor, knowing more, keeps its own default.
CREDENTIAL_MIN_LENGTH = 4
# Fields bound by the runner, shown right after the event in this order.
CONTEXT_FIELDS = ("cooperative", "channel", "sku", "run_id")
_FIRST = ("timestamp", "level", "logger", "event", *CONTEXT_FIELDS)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Third-party loggers and the level they are held at unless the daemon logs at DEBUG:
# one line per HTTP request (httpx, urllib3) or per scheduled job is noise for an operator.
# At DEBUG they all log everything, still through the redactor.
NOISY: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "urllib3": logging.WARNING,
    "requests": logging.WARNING,
    "requests_oauthlib": logging.WARNING,
    "oauthlib": logging.WARNING,
    "sp_api": logging.WARNING,
    # python-amazon-sp-api sets these to INFO when imported; at DEBUG they log request
    # headers, access token included (masked here, but only shown when asked for).
    "sp_api.base.client": logging.WARNING,
    "sp_api.auth.access_token_client": logging.WARNING,
    "apscheduler": logging.WARNING,
    "watchfiles": logging.WARNING,
    "uvicorn": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "uvicorn.error": logging.WARNING,
    "asyncio": logging.WARNING,
}
# uvicorn installs its own handlers on these (propagate off): taken back to ours. Start
# uvicorn with ``log_config=None`` so it does not put them back when a server starts.
_UVICORN = ("uvicorn", "uvicorn.access", "uvicorn.error")


# --------------------------------------------------------------------------- redaction
_SECRET_NAMES = (
    r"access_token|refresh_token|id_token|client_secret|shared_secret|api_key|apikey"
    r"|x-api-key|x-amz-access-token|password|passwd"
)
_TOKEN = r"[A-Za-z0-9\-._~+/=|%]"
# Order matters: a quoted pair first, so that the later patterns see its value as ***.
_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "access_token": "…" in JSON, 'x-amz-access-token': '…' in a Python repr
    (
        re.compile(
            r"""(?P<key>(?P<kq>["'])(?:"""
            + _SECRET_NAMES
            + r"""|authorization|proxy-authorization|token|secret)(?P=kq)\s*:\s*)"""
            r"""(?P<q>["'])(?:\\.|(?!(?P=q)).)*(?P=q)""",
            re.IGNORECASE,
        ),
        rf"\g<key>\g<q>{MASK}\g<q>",
    ),
    # Authorization: Bearer …, X-Api-Key: … as a header line
    (
        re.compile(
            r"(?P<key>\b(?:authorization|proxy-authorization|x-api-key|x-amz-access-token)"
            r"\s*[:=]\s*(?:(?:bearer|basic|token|lwa)\s+)?)[^\s,;'\"}\]]+",
            re.IGNORECASE,
        ),
        rf"\g<key>{MASK}",
    ),
    # access_token=… in a query string or a form body
    (
        re.compile(r"(?P<key>(?<![\w-])(?:" + _SECRET_NAMES + r")=)[^&\s'\"<>#]+", re.I),
        rf"\g<key>{MASK}",
    ),
    # Amazon LWA refresh (Atzr|) and access (Atza|) tokens, also URL-encoded
    (re.compile(r"\bAtz[ar](?:\||%7C)" + _TOKEN + "+", re.IGNORECASE), MASK),
    # Amazon LWA client secrets
    (re.compile(r"\bamzn1\.oa2-cs\.[A-Za-z0-9.\-_]+"), MASK),
    # the user and password inside a URL (https://user:pass@host/), as urllib3 and
    # requests log and quote it: the config refuses them, a catalog or an answer may not
    (
        re.compile(r"(?P<key>\b[a-z][a-z0-9+.\-]*://)[^\s/@'\"<>]+@", re.IGNORECASE),
        rf"\g<key>{MASK}@",
    ),
)
_BEARER = re.compile(r"(?P<key>\bbearer\s+)(?P<token>" + _TOKEN + "+)", re.IGNORECASE)
_SECRET_KEYS = frozenset(
    n.replace("-", "_") for n in (_SECRET_NAMES + "|authorization|secret|token").split("|")
)


def _bearer(match: re.Match[str]) -> str:
    """``Bearer <token>``, but not "a Bearer token was refused": a word without digits or
    punctuation is prose unless it is long."""
    token = match["token"]
    prose = token.isalpha() and len(token) < 20
    return match[0] if prose or len(token) < 8 else match["key"] + MASK


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in _SECRET_KEYS


def _forms(value: str) -> set[str]:
    """A secret as it may be written: itself, URL-encoded (in a query string or a form
    body, ``|`` becomes ``%7C``), JSON-escaped, and as Python quotes it in an exception
    (``'...'`` and ``b'...'``: http.client's and h11's "Illegal header value b'...'");
    a value of several lines, also each line (a library may quote only one)."""
    forms = {value, quote(value, safe=""), quote_plus(value), _json.dumps(value)[1:-1]}
    forms |= {repr(value)[1:-1], repr(value.encode("utf-8", "replace"))[2:-1]}
    lines = [line.strip() for line in value.splitlines()]
    if len(lines) > 1:
        forms |= {f for line in lines if line for f in _forms(line)}
    return forms


class Redactor:
    """Masks secrets in text: the values it knows, and what looks like a credential.

    Held by the handler :func:`configure_logging` installs (not a global): the daemon adds
    a token it rotated with :meth:`add` (or :func:`add_secrets`). Values shorter than
    ``min_length`` (:attr:`MIN_LENGTH` unless told) are ignored: masking "abc" everywhere
    would hide more than it protects. Safe to use from several threads.
    """

    MIN_LENGTH = 6

    def __init__(self, values: Iterable[str] = (), *, min_length: int = MIN_LENGTH) -> None:
        self.min_length = min_length
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._known: re.Pattern[str] | None = None
        self.add(*values)

    def __len__(self) -> int:
        """How many secret values it knows (their encoded forms not counted)."""
        return len(self._values)

    def add(self, *values: str) -> None:
        """Mask these values too from now on (a rotated token, a new key)."""
        new = {v.strip() for v in values if isinstance(v, str)}
        new = {v for v in new if len(v) >= self.min_length}
        with self._lock:
            if new <= self._values:
                return
            self._values = self._values | new
            forms = {f for v in self._values for f in _forms(v) if len(f) >= self.min_length}
            # Longest first: a secret that contains another is masked whole.
            alternatives = sorted(forms, key=lambda f: (-len(f), f))
            self._known = re.compile("|".join(re.escape(f) for f in alternatives))

    def redact(self, text: str) -> str:
        """``text`` with every known secret and credential-shaped string replaced by ***."""
        known = self._known  # one read: add() may swap it from another thread
        if known is not None:
            text = known.sub(MASK, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return _BEARER.sub(_bearer, text)

    __call__ = redact

    def scrub(self, value: object) -> object:
        """A field's value made safe to render: text redacted, containers walked (a value
        under a key such as ``access_token`` masked whole), any other object turned into
        its text first, since a renderer would call its ``repr`` anyway."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {
                k: MASK if _is_secret_key(k) and value[k] else self.scrub(value[k]) for k in value
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self.scrub(v) for v in value]
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, bytes):
            return self.redact(value.decode("utf-8", "replace"))
        return self.redact(str(value))

    def processor(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        """The structlog processor: every field of the event, scrubbed."""
        return {
            key: MASK if _is_secret_key(key) and value else self.scrub(value)
            for key, value in event_dict.items()
        }


# --------------------------------------------------------------------------- context
@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Bind ``fields`` to every line logged inside the block (in this thread or task),
    then restore what was bound before. ``None`` values are left out: bind what is known.

    >>> with bound(cooperative="atlas-rugs", channel="etsy", run_id=run_id):  # doctest: +SKIP
    ...     log.info("orders_pulled", orders=3)

    A thread starts with nothing bound; to carry the context into one, start it with
    ``contextvars.copy_context().run``.
    """
    tokens = structlog.contextvars.bind_contextvars(
        **{k: v for k, v in fields.items() if v is not None}
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def get_logger(name: str = "syndicator") -> structlog.stdlib.BoundLogger:
    """A structlog logger over the stdlib logger ``name`` (its level applies). Its events
    go through the standard logging (:func:`standard_structlog`): to
    :func:`configure_logging`'s handler when it was called, else to Python's last resort
    (warnings and up, on standard error)."""
    if not structlog.is_configured():
        standard_structlog()
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def standard_structlog() -> None:
    """structlog set to hand every event to the standard logging, through the one chain.
    Left unconfigured, structlog prints every event on standard output: a command's
    ``--json`` or a benchmark's results would carry log lines. (structlog's settings are
    the process's, like the standard logging's; :func:`configure_logging` sets the same.)"""
    structlog.configure(
        processors=_chain(),
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger first used before a later setup must not keep an old chain.
        cache_logger_on_first_use=False,
    )


def _chain() -> list[Processor]:
    """What every Syndicator event goes through before the standard logging's handler."""
    return [
        structlog.stdlib.filter_by_level,
        *_shared(),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]


# --------------------------------------------------------------------------- rendering
def _ordered(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """timestamp, level, logger, event, the bound context; the exception text last."""
    head = {k: event_dict[k] for k in _FIRST if k in event_dict}
    rest = {k: v for k, v in event_dict.items() if k not in head and k != "exception"}
    tail = {"exception": event_dict["exception"]} if "exception" in event_dict else {}
    return {**head, **rest, **tail}


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler on the root logger; its :class:`Redactor` sees every line, once
    field by field (in the formatter) and once whole."""

    def __init__(self, stream: IO[str], redactor: Redactor, renderer: Processor) -> None:
        super().__init__(stream)
        self.redactor = redactor
        # Rendered to text before redaction: a traceback's message may hold a secret.
        exceptions: list[Processor] = [
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
        ]
        self.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder()],
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *exceptions,
                    redactor.processor,
                    _ordered,
                    renderer,
                ],
            )
        )

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.redact(super().format(record))


def _shared() -> list[Processor]:
    """Added to every event, from structlog or from a stdlib logger."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]


def configure_logging(
    *,
    json: bool | None = None,
    level: str = "INFO",
    stream: IO[str] | None = None,
    redact: Iterable[str] = (),
) -> Redactor:
    """Send every log line, structlog's and the stdlib's, to ``stream`` (stderr) in one
    shape, with the secrets in ``redact`` (and anything credential-shaped) masked.

    ``json``: True for JSON lines, False for readable lines (in colour on a terminal),
    None to choose by whether ``stream`` is a terminal. ``level``: DEBUG, INFO, WARNING,
    ERROR or CRITICAL; below DEBUG the third-party loggers in :data:`NOISY` are held at
    WARNING. Calling it again replaces the previous setup. Returns the handler's
    :class:`Redactor`, to add rotated secrets to.
    """
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    numeric = logging.getLevelName(name)
    out: IO[str] = stream if stream is not None else _Stderr()  # type: ignore[assignment]
    tty = _isatty(out)
    as_json = (not tty) if json is None else json
    renderer: Processor
    if as_json:
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=tty and "NO_COLOR" not in os.environ,
            # Not Rich's traceback: it shows local variables, credentials among them.
            exception_formatter=structlog.dev.plain_traceback,
        )
    redactor = Redactor(redact)
    handler = _Handler(out, redactor, renderer)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for logger_name, quiet in NOISY.items():
        logger = logging.getLogger(logger_name)
        logger.setLevel(logging.DEBUG if numeric <= logging.DEBUG else max(quiet, numeric))
    for logger_name in _UVICORN:
        logger = logging.getLogger(logger_name)
        for own in list(logger.handlers):
            logger.removeHandler(own)
        logger.propagate = True

    standard_structlog()
    return redactor


class _Stderr:
    """Standard error as it is when a line is written, not when logging was set up: a
    command run inside another (a test's runner) swaps it, and closes its own after."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _json_dumps(event_dict: Mapping[str, Any], **_: Any) -> str:
    """One JSON line, UTF-8 text as is (Arabic stays Arabic, not \\u escapes)."""
    return _json.dumps(event_dict, ensure_ascii=False, default=str)


def _isatty(stream: IO[str]) -> bool:
    with suppress(AttributeError, ValueError, OSError):
        return bool(stream.isatty())
    return False


def current_redactor() -> Redactor | None:
    """The redactor of the handler :func:`configure_logging` installed, if any."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            return handler.redactor
    return None


def add_secrets(*values: str) -> None:
    """Mask these values in every line from now on (a token a channel just rotated); does
    nothing when logging was not set up with :func:`configure_logging`."""
    redactor = current_redactor()
    if redactor is not None:
        redactor.add(*values)


# --------------------------------------------------------------------------- failures
class FailureLog:
    """A failure logged once, its recovery once (Home Assistant's coordinator style).

    ``failed(key, message)`` logs at ERROR the first time ``key`` fails and whenever its
    message changes; the same failure again is logged at DEBUG only. ``recovered(key)``
    logs "recovered" at INFO once, and only if ``key`` was failing. Keys are whatever
    names one upstream: ``("atlas-rugs", "etsy", "orders")``. Thread-safe.
    """

    def __init__(
        self,
        logger: Any | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = logger if logger is not None else get_logger("syndicator.failures")
        self._clock = clock
        self._lock = threading.Lock()
        self._failing: dict[Hashable, tuple[str, float, int]] = {}  # message, since, count

    def is_failing(self, key: Hashable) -> bool:
        return key in self._failing

    def failing(self) -> dict[Hashable, str]:
        """The keys failing now, with their last message."""
        with self._lock:
            return {k: m for k, (m, _, _) in self._failing.items()}

    def failed(self, key: Hashable, message: str, **fields: Any) -> bool:
        """Record a failure; True when it was logged at ERROR (new, or a new message)."""
        with self._lock:
            before = self._failing.get(key)
            count = 1 if before is None else before[2] + 1
            since = self._clock() if before is None else before[1]
            self._failing[key] = (message, since, count)
        if before is not None and before[0] == message:
            self.log.debug("still_failing", key=_key(key), error=message, failures=count, **fields)
            return False
        self.log.error("failing", key=_key(key), error=message, failures=count, **fields)
        return True

    def recovered(self, key: Hashable, **fields: Any) -> bool:
        """Record a success; True when it ended a failure (and "recovered" was logged)."""
        with self._lock:
            before = self._failing.pop(key, None)
        if before is None:
            return False
        _, since, count = before
        self.log.info(
            "recovered",
            key=_key(key),
            failures=count,
            failing_for_s=round(self._clock() - since, 3),
            **fields,
        )
        return True


def _key(key: Hashable) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return str(key)

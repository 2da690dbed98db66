"""Serving an ASGI app with uvicorn inside this process: the sandbox marketplaces, the
daemon's own HTTP endpoint.

The socket is bound up front (:func:`listen`), so that port 0 gives a known free port before
the server starts, and with ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on every
connection: without it each answer waits for a delayed ACK (about 40 ms a call).
:class:`ServerThread` runs the server in a background thread and returns once it answers;
:class:`BackgroundServer` is the start, stop and ``with`` around it that a served object
(the sandbox, the daemon's endpoint) inherits, giving only its app and its socket.

Guards against a client that holds connections (:class:`GuardedH11`): a connection has
``header_timeout`` seconds to send a request's headers (again after each answer, kept
alive), else it is closed, however slowly it trickles bytes in; with ``max_connections``,
one more connection closes the one that has waited longest for a request, or, when every
connection has a request in flight, is answered 503 and closed at once. So a crowd of idle
sockets never takes every file descriptor of the process, nor keeps a probe out. A listening
socket that cannot accept for lack of file descriptors is logged once (asyncio would log it
with a traceback at every try), and its recovery once.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, ClassVar, Self

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from syndicator.common.logs import FailureLog, get_logger

__all__ = [
    "BackgroundServer",
    "GuardedConfig",
    "GuardedH11",
    "QuietServer",
    "ServerThread",
    "listen",
    "server_config",
]

log = get_logger("syndicator.serving")

START_TIMEOUT = 10.0  # seconds a server may take to answer after its thread starts
HEADER_TIMEOUT = 10.0  # seconds a connection has to send a request's headers
REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 21\r\n\r\ntoo many connections\n"
)


def listen(host: str, port: int, *, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port, read it back with
    ``getsockname()``); IPv4 or IPv6 as ``host`` says."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(backlog)  # connections wait in the backlog until uvicorn accepts them
    except OSError:
        sock.close()
        raise
    return sock


class GuardedConfig(uvicorn.Config):
    """uvicorn's settings with our guards (see the module's doc): ``header_timeout``,
    ``max_connections`` (None: no cap), and the server's own bookkeeping of them."""

    def __init__(
        self,
        app: Any,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        max_connections: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(app, http=GuardedH11, **kw)
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        # Connections waiting for a request, the longest waiting first (the server's loop
        # only touches it).
        self.waiting: dict[GuardedH11, None] = {}
        self.failures = FailureLog(log)


class GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a header deadline and a connection cap (the module's
    doc)."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(config, GuardedConfig)
        self.guard = config
        self._deadline: asyncio.TimerHandle | None = None
        self._seen: object = None  # the request cycle last seen starting

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.failures.recovered("accept")
        cap = self.guard.max_connections
        if cap is not None and len(self.connections) > cap:
            oldest = next(iter(self.guard.waiting), None)
            if oldest is None:  # every connection has a request in flight: refuse this one
                self.transport.write(REFUSED)
                self.transport.close()
                return
            oldest._stop_waiting()
            oldest.transport.close()
        self._wait_for_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._seen:  # a request came in
            self._seen = self.cycle
            self._stop_waiting()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._wait_for_request()  # kept alive: the next request's headers, in time too
        super().on_response_complete()

    def _wait_for_request(self) -> None:
        self._stop_waiting()
        self.guard.waiting[self] = None
        self._deadline = self.loop.call_later(self.guard.header_timeout, self._too_slow)

    def _stop_waiting(self) -> None:
        self.guard.waiting.pop(self, None)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        self._stop_waiting()
        self.transport.close()


def server_config(
    app: Any,
    *,
    log_config: dict[str, Any] | None = LOGGING_CONFIG,
    max_connections: int | None = None,
    header_timeout: float = HEADER_TIMEOUT,
    backlog: int = 2048,
) -> GuardedConfig:
    """uvicorn's settings for an in-process server: warnings only, no access log, no
    lifespan, the guards of the module's doc. ``log_config=None`` leaves logging as the
    process set it up (the daemon's structured logs); the default is uvicorn's own console
    format. ``backlog`` also bounds how many connections one turn of the loop accepts."""
    return GuardedConfig(
        app,
        max_connections=max_connections,
        header_timeout=header_timeout,
        backlog=backlog,
        log_level="warning",
        log_config=log_config,
        lifespan="off",
        access_log=False,
    )


class QuietServer(uvicorn.Server):
    """uvicorn, stopping on SIGINT and SIGTERM without re-raising them afterwards: a
    requested stop is a clean exit (status 0), not an interruption. Off the main thread it
    leaves signals alone: they belong to the process that runs it. A listening socket out
    of file descriptors is logged once, not at each try (the module's doc)."""

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        await super().serve(sockets)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            why = f"{type(exc).__name__}: {exc}" if exc is not None else "out of resources"
            failures = getattr(self.config, "failures", None)
            if isinstance(failures, FailureLog):
                failures.failed("accept", f"connections cannot be accepted: {why}")
                return
        loop.default_exception_handler(context)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


class ServerThread:
    """``config``'s app served on ``sock`` by uvicorn in a daemon thread named ``name``."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket, *, name: str) -> None:
        self.sock = sock
        self.server = QuietServer(config)
        self.thread = threading.Thread(
            target=lambda: self.server.run(sockets=[sock]), name=name, daemon=True
        )

    def start(self) -> ServerThread:
        """Start serving; returns once the server answers (RuntimeError if it cannot)."""
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                host, port = self.sock.getsockname()[:2]
                raise RuntimeError(f"{self.thread.name} could not start on {host}:{port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the requests in flight and stop (idempotent)."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=timeout)
        self.sock.close()


class BackgroundServer(abc.ABC):
    """An app served by uvicorn in a background thread of this process, for as long as it
    runs: :meth:`start` serves (returns once it answers), :meth:`stop` ends it, and ``with``
    does both. A subclass names its thread and gives two hooks: :meth:`app`, and
    :meth:`_bind` for the listening socket (where it learns its port)."""

    thread_name: ClassVar[str]
    max_connections: ClassVar[int | None] = None  # None: no cap (the module's doc)
    header_timeout: float = HEADER_TIMEOUT  # seconds to send a request's headers
    _server: ServerThread | None = None

    @abc.abstractmethod
    def app(self) -> Any:
        """The ASGI app to serve."""

    @abc.abstractmethod
    def _bind(self) -> socket.socket:
        """A listening socket for the app (:func:`listen`), taken when it starts."""

    @property
    def running(self) -> bool:
        """Serving in a background thread (:meth:`start`, until :meth:`stop`)."""
        return self._server is not None

    def start(self) -> Self:
        """Bind and serve in a background thread; returns once the server answers (nothing
        when it already serves). OSError when the port is taken."""
        if self._server is None:
            sock = self._bind()
            # log_config=None: uvicorn's lines go through the process's own logging (and
            # its redactor), not uvicorn's own handlers.
            cap = self.max_connections  # with a cap, one turn of the loop accepts no more
            config = server_config(
                self.app(),
                log_config=None,
                max_connections=cap,
                header_timeout=self.header_timeout,
                backlog=cap or 2048,
            )
            self._server = ServerThread(config, sock, name=self.thread_name).start()
        return self

    def stop(self) -> None:
        """Finish the requests in flight and stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

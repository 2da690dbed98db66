"""Serving an ASGI app with uvicorn inside this process: the sandbox marketplaces, the
daemon's own HTTP endpoint.

The socket is bound up front (:func:`listen`), so that port 0 gives a known free port before
the server starts, and with ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on every
connection: without it each answer waits for a delayed ACK (about 40 ms a call).
:class:`ServerThread` runs the server in a background thread and returns once it answers;
:class:`BackgroundServer` is the start, stop and ``with`` around it that a served object
(the sandbox, the daemon's endpoint) inherits, giving only its app and its socket.
"""

from __future__ import annotations

import abc
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

__all__ = ["BackgroundServer", "QuietServer", "ServerThread", "listen", "server_config"]

START_TIMEOUT = 10.0  # seconds a server may take to answer after its thread starts


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


def server_config(
    app: Any, *, log_config: dict[str, Any] | None = LOGGING_CONFIG
) -> uvicorn.Config:
    """uvicorn's settings for an in-process server: warnings only, no access log, no
    lifespan. ``log_config=None`` leaves logging as the process set it up (the daemon's
    structured logs); the default is uvicorn's own console format."""
    return uvicorn.Config(
        app,
        log_level="warning",
        log_config=log_config,
        lifespan="off",
        access_log=False,
    )


class QuietServer(uvicorn.Server):
    """uvicorn, stopping on SIGINT and SIGTERM without re-raising them afterwards: a
    requested stop is a clean exit (status 0), not an interruption. Off the main thread it
    leaves signals alone: they belong to the process that runs it."""

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
            config = server_config(self.app(), log_config=None)
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

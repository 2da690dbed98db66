"""Serve a small ASGI app (the product feed) with uvicorn: in the foreground for the CLI, or
in a background thread on loopback for tests and the demo."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve", "serving"]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    return uvicorn.Server(config)


def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8800,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Serve ``app`` in this thread until SIGINT or SIGTERM; ``on_ready`` gets the port
    (useful with ``port=0``)."""
    sock = _bind(host, port)
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    _server(app, host, port).run(sockets=[sock])


@contextmanager
def serving(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread; yields its base URL (``http://127.0.0.1:N``)
    and stops the server on exit."""
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    server = _server(app, host, bound)
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"could not serve on {host}:{bound}")
        time.sleep(0.01)
    try:
        yield f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

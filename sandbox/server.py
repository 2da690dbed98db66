"""Serving the emulators: one uvicorn server on loopback, each marketplace under its prefix.

``/amazon``, ``/etsy`` and ``/anou`` on one port, so that ``syndicator sandbox --port N``
serves them all and tests start them in-process on an ephemeral port.
"""

from __future__ import annotations

import importlib
import logging
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.base import Emulator
from sandbox.faults import FaultPlan
from syndicator.common.serving import BackgroundServer, QuietServer, listen, server_config

if TYPE_CHECKING:
    from sandbox.amazon import AmazonSandbox
    from sandbox.anou import AnouSandbox
    from sandbox.etsy import EtsySandbox

__all__ = ["EMULATORS", "Sandbox", "serve"]

# Marketplace -> its emulator class, imported when a sandbox serves it.
EMULATORS: dict[str, str] = {
    "amazon": "sandbox.amazon:AmazonSandbox",
    "etsy": "sandbox.etsy:EtsySandbox",
    "anou": "sandbox.anou:AnouSandbox",
}


def _emulator_class(name: str) -> type[Emulator]:
    module, _, attr = EMULATORS[name].partition(":")
    cls: type[Emulator] = getattr(importlib.import_module(module), attr)
    assert issubclass(cls, Emulator)
    return cls


class _QuietDrops(logging.Filter):
    """Dropped connections are faults we inject on purpose: no traceback for them."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionAbortedError)


class Sandbox(BackgroundServer):
    """The three emulated marketplaces, served on one loopback port: :meth:`start` serves
    them in a background thread (until :meth:`stop`), or ``with``.

    >>> with Sandbox(quota_factor=100) as sandbox:   # doctest: +SKIP
    ...     sandbox.url("etsy")   # 'http://127.0.0.1:41233/etsy'
    """

    thread_name = "sandbox"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        quota_factor: float = 1.0,
        faults: FaultPlan | None = None,
        marketplaces: tuple[str, ...] = tuple(EMULATORS),
    ) -> None:
        self.host = host
        self.port = port
        self.emulators: dict[str, Emulator] = {
            name: _emulator_class(name)(quota_factor=quota_factor, faults=faults)
            for name in marketplaces
        }
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    @property
    def amazon(self) -> AmazonSandbox:
        return self.emulators["amazon"]  # type: ignore[return-value]

    @property
    def etsy(self) -> EtsySandbox:
        return self.emulators["etsy"]  # type: ignore[return-value]

    @property
    def anou(self) -> AnouSandbox:
        return self.emulators["anou"]  # type: ignore[return-value]

    def reset(self, *, record: bool = False) -> Sandbox:
        """Every marketplace empty again, no faults, real quotas, counters at zero;
        with ``record``, every exchange is kept (``emulator.exchanges``)."""
        for emulator in self.emulators.values():
            with emulator.lock:
                emulator.reset_state()
            emulator.buckets.reset()
            emulator.buckets.factor = 1.0
            emulator.buckets.clock = time.monotonic
            emulator.wall = time.time
            emulator.faults.set(FaultPlan())
            emulator.exchanges.clear()
            emulator.record = record
        return self

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}"

    def app(self) -> Starlette:
        return Starlette(routes=[Mount(f"/{n}", app=e.app()) for n, e in self.emulators.items()])

    def _bind(self) -> socket.socket:
        """Take the port now (an ephemeral one for port 0), so every URL is known."""
        sock = listen(self.host, self.port)
        self.port = sock.getsockname()[1]
        for name, emulator in self.emulators.items():
            emulator.base_url = self.url(name)
        return sock

    def serve_forever(self, on_ready: Callable[[int], None] | None = None) -> None:
        """Serve in this thread until SIGINT or SIGTERM (the ``syndicator sandbox`` command);
        ``on_ready`` gets the port once it is bound."""
        sock = self._bind()
        if on_ready is not None:
            on_ready(self.port)
        QuietServer(server_config(self.app())).run(sockets=[sock])


def serve(
    host: str,
    port: int,
    quota_factor: float,
    on_ready: Callable[[int, Mapping[str, str]], None],
) -> None:
    """The ``serve`` hook (``syndicator sandbox``): every emulator on ``host:port`` until
    SIGINT or SIGTERM; ``on_ready(port, {marketplace: url})`` once listening."""
    served = Sandbox(host=host, port=port, quota_factor=quota_factor)
    served.serve_forever(
        lambda bound: on_ready(bound, {n: served.url(n) for n in served.emulators})
    )

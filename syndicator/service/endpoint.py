"""The daemon's HTTP endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` (docs/metrics.md).

Served by uvicorn in a background thread of the daemon (:mod:`syndicator.common.serving`), on
loopback by default (``daemon.http`` in the config). The daemon reports on itself through a
callable returning a :class:`HealthState`, read at each probe:

* ``/healthz`` (liveness): 200 while the scheduler loop beats; 503 when its last beat is
  older than ``stale_after`` seconds, or it has not beaten yet. A container runtime
  restarts the process on it.
* ``/readyz`` (readiness): 200 once the store is open (migrations done) and answers, and
  each channel's first pass has been run; 503 with the reason otherwise, while stopping, and
  for good once the store's file was deleted or replaced under the daemon.
* ``/metrics``: the Prometheus exposition of :class:`~syndicator.service.metrics.Metrics`,
  rendered at most once a second (:data:`METRICS_FRESH`), one render at a time, off the
  event loop: a crowd of scrapers costs one render a second, and ``/healthz``, answered on
  the event loop itself, is never queued behind them.

The endpoint takes at most :data:`MAX_CONNECTIONS` connections (an idle one makes room for
a new one; beyond that, 503) and closes one that does not send its request's headers in
time (:mod:`syndicator.common.serving`), so that slow or idle clients can neither exhaust
the daemon's file descriptors nor keep a probe out.

:func:`serve` is how the daemon starts it (or not, as ``daemon.http.enabled`` says).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syndicator.common.logs import get_logger
from syndicator.common.serving import BackgroundServer, listen
from syndicator.config import HttpConfig
from syndicator.service.metrics import Metrics
from syndicator.store import Store
from syndicator.store.metrics import ping

__all__ = ["MAX_CONNECTIONS", "METRICS_FRESH", "STALE_AFTER", "DaemonHttp", "HealthState", "serve"]

log = get_logger("syndicator.daemon")

STALE_AFTER = 60.0  # seconds without a heartbeat before /healthz says the loop is stuck
METRICS_FRESH = 1.0  # seconds a /metrics rendering is served again to the next scrapers
MAX_CONNECTIONS = 64  # open at once: probes and a scraper or two need a handful


@dataclass(frozen=True, slots=True)
class HealthState:
    """What the daemon says about itself at one instant.

    ``heartbeat``: ``time.monotonic()`` of the scheduler loop's last beat (None: not started);
    ``store_ready``: the store is open and migrated; ``first_pass_pending``: the channels
    (``cooperative/channel``) whose first pass has not run yet; ``stopping``: a stop was asked;
    ``store_lost``: why the store is lost (deleted or replaced under the daemon).
    """

    heartbeat: float | None = None
    store_ready: bool = False
    store_lost: str | None = None
    first_pass_pending: tuple[str, ...] = ()
    stopping: bool = False


class DaemonHttp(BackgroundServer):
    """The endpoint; :meth:`start` serves it in a background thread (a no-op when the config
    disables it), :meth:`stop` ends it. ``port`` is the bound port once started (the config's
    port 0 takes any free one)."""

    thread_name = "daemon-http"
    max_connections = MAX_CONNECTIONS

    def __init__(
        self,
        config: HttpConfig,
        store: Store | None,
        metrics: Metrics,
        health: Callable[[], HealthState],
        *,
        stale_after: float = STALE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.health = health
        self.stale_after = stale_after
        self.clock = clock
        self.port: int | None = None
        self._rendered: dict[str, tuple[float, bytes]] = {}  # content type -> (when, body)
        self._render_lock: asyncio.Lock | None = None

    @property
    def url(self) -> str:
        """``http://host:port``, once started."""
        host = self.config.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    # ------------------------------------------------------------------ probes
    def liveness(self) -> tuple[bool, dict[str, Any]]:
        """(alive, what /healthz answers)."""
        state = self._state()
        if isinstance(state, str):
            return False, {"status": "failing", "reason": state}
        return self._alive(state)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, what /readyz answers)."""
        state = self._state()
        if isinstance(state, str):
            return False, {"status": "not ready", "reason": state}
        alive, body = self._alive(state)
        reason = None
        if not alive:
            reason = body["reason"]
        elif state.stopping:
            reason = "stopping"
        elif not state.store_ready or self.store is None:
            reason = "the store is not open yet"
        elif (lost := state.store_lost or self._store_lost(self.store)) is not None:
            reason = f"the store is lost, passes stopped: {lost}"
        elif (broken := self._store_fails(self.store)) is not None:
            reason = f"the store does not answer: {broken}"
        elif state.first_pass_pending:
            reason = "waiting for the first pass of " + ", ".join(state.first_pass_pending)
        if reason is not None:
            return False, {"status": "not ready", "reason": reason}
        return True, {"status": "ready"}

    def _state(self) -> HealthState | str:
        """The daemon's state, or why it could not say (then it is not well)."""
        try:
            return self.health()
        except Exception as exc:
            return f"the health check failed: {exc}"

    def _alive(self, state: HealthState) -> tuple[bool, dict[str, Any]]:
        if state.heartbeat is None:
            return False, {"status": "starting", "reason": "the scheduler has not started yet"}
        age = round(max(0.0, self.clock() - state.heartbeat), 3)
        if age > self.stale_after:
            reason = f"the scheduler's last heartbeat was {age:.0f} s ago"
            return False, {"status": "stale", "heartbeat_age": age, "reason": reason}
        return True, {"status": "ok", "heartbeat_age": age}

    @staticmethod
    def _store_lost(store: Store) -> str | None:
        lost = store.lost()
        return None if lost is None else str(lost)

    @staticmethod
    def _store_fails(store: Store) -> str | None:
        try:
            with store.read() as conn:
                ping(conn)
        except Exception as exc:  # the error's class only: its text may hold the URL
            return type(exc).__name__
        return None

    # ------------------------------------------------------------------ the app
    def app(self) -> Starlette:
        # /healthz reads only the daemon's state in memory: answered on the event loop, never
        # queued behind other requests. /readyz asks the store: a plain endpoint, which
        # Starlette runs in its thread pool, so a slow store never holds up the loop.
        async def healthz(request: Request) -> Response:
            alive, body = self.liveness()
            return JSONResponse(body, status_code=200 if alive else 503)

        def readyz(request: Request) -> Response:
            ready, body = self.readiness()
            return JSONResponse(body, status_code=200 if ready else 503)

        async def metrics(request: Request) -> Response:
            encode, content_type = choose_encoder(request.headers.get("accept", ""))
            body = await self._render(encode, content_type)
            return Response(body, media_type=content_type)

        return Starlette(
            routes=[
                Route("/healthz", healthz),
                Route("/readyz", readyz),
                Route("/metrics", metrics),
            ]
        )

    async def _render(self, encode: Callable[[Any], bytes], content_type: str) -> bytes:
        """The exposition, rendered again only when the last one is older than
        :data:`METRICS_FRESH`; one render at a time, in a worker thread (it reads the
        store), the scrapers that come meanwhile waiting for it on the loop."""
        fresh = self._fresh(content_type)
        if fresh is not None:
            return fresh
        if self._render_lock is None:
            self._render_lock = asyncio.Lock()
        async with self._render_lock:
            fresh = self._fresh(content_type)
            if fresh is not None:
                return fresh
            body = await run_in_threadpool(encode, self.metrics.registry)
            self._rendered[content_type] = (time.monotonic(), body)
            return body

    def _fresh(self, content_type: str) -> bytes | None:
        rendered = self._rendered.get(content_type)
        if rendered is None or time.monotonic() - rendered[0] >= METRICS_FRESH:
            return None
        return rendered[1]

    # ------------------------------------------------------------------ serving
    def _bind(self) -> socket.socket:
        sock = listen(self.config.host, self.config.port)
        self.port = int(sock.getsockname()[1])
        return sock

    def start(self) -> DaemonHttp:
        """Bind and serve (returns once it answers); nothing when ``enabled`` is false.
        OSError when the port is taken."""
        return super().start() if self.config.enabled else self


def serve(
    config: HttpConfig, store: Store, metrics: Metrics, health: Callable[[], HealthState]
) -> DaemonHttp | None:
    """The daemon's endpoint, serving once this returns (logged with its URL); None when
    the config disables it. OSError when the port is taken."""
    if not config.enabled:
        return None
    http = DaemonHttp(config, store, metrics, health).start()
    log.info("http_listening", url=http.url)
    return http

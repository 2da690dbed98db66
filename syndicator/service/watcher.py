"""The daemon's catalog watcher: a save of a catalog file is checked, then a push is asked.

watchfiles sees the save; the file must then have been quiet for ``daemon.debounce``
seconds, so that a file written in several steps is never read half-written. The check logs
each problem with its file and line (an unreadable file: nothing is sent, the shops keep
their last good state), then asks the cooperative's worker for a push pass.
"""

from __future__ import annotations

import threading
from pathlib import Path

from syndicator.common.logs import bound, get_logger
from syndicator.common.problems import Severity, Unreadable
from syndicator.config import Config
from syndicator.planning.sources import read_cooperative_catalog
from syndicator.service.workers import Ask, PassRequest

__all__ = ["CatalogWatcher", "catalog_files", "check_catalog"]

log = get_logger("syndicator.daemon")

SHOWN = 20  # problems logged for one save; the count says how many there are


def catalog_files(config: Config) -> dict[Path, str]:
    """Each catalog file (resolved) -> its cooperative."""
    return {config.catalog_path(c).resolve(): c.id for c in config.cooperatives}


def check_catalog(config: Config, cooperative: str) -> bool:
    """Read the saved catalog and log what is wrong in it (file and line); False when it
    cannot be read at all (then nothing is to be sent)."""
    coop = config.cooperative(cooperative)
    with bound(cooperative=cooperative):
        try:
            catalog = read_cooperative_catalog(config, coop).build()
        except Unreadable as exc:
            log.error("catalog_unreadable", problem=str(exc.problem),
                      note="nothing is sent; the shops keep their last good state")  # fmt: skip
            return False
        errors = [p for p in catalog.problems if p.severity is Severity.ERROR]
        for problem in errors[:SHOWN]:
            log.warning("catalog_problem", problem=str(problem))
        log.info("catalog_saved", products=len(catalog.products), problems=len(errors),
                 held=len(catalog.held))  # fmt: skip
    return True


class CatalogWatcher:
    """Watches every cooperative's catalog file in a thread of its own until ``stopping``
    is set; ``ask`` asks a cooperative's worker for a pass."""

    def __init__(self, config: Config, ask: Ask, stopping: threading.Event) -> None:
        self.config = config
        self.ask = ask
        self.stopping = stopping
        self.thread = threading.Thread(target=self._watch, name="catalog-watcher", daemon=True)

    def start(self) -> CatalogWatcher:
        self.thread.start()
        return self

    def catalog_saved(self, cooperative: str) -> None:
        """A save of the catalog: check it, log what is wrong (file and line), push (not
        when it cannot be read)."""
        if check_catalog(self.config, cooperative):
            self.ask(cooperative, PassRequest({"push"}))

    def _watch(self) -> None:
        import watchfiles

        catalogs = catalog_files(self.config)
        folders = sorted({str(p.parent) for p in catalogs})

        def interesting(_: watchfiles.Change, path: str) -> bool:
            return Path(path).resolve() in catalogs

        # watchfiles yields once nothing changed for ``step`` ms (at most ``debounce`` ms
        # after the first change): the file must have been quiet for daemon.debounce, so
        # that a file written in several steps is never read half-written.
        quiet_ms = int(self.config.daemon.debounce * 1000)
        try:
            for changes in watchfiles.watch(
                *folders,
                watch_filter=interesting,
                debounce=max(10 * quiet_ms, 5000),
                step=quiet_ms,
                stop_event=self.stopping,
                yield_on_timeout=False,
                rust_timeout=1000,
            ):
                for coop in sorted({catalogs[Path(p).resolve()] for _, p in changes}):
                    self.catalog_saved(coop)
        except Exception as exc:  # pragma: no cover - the OS refused to watch
            log.error("watcher_failed", error=str(exc))

"""The catalog watcher (syndicator/service/watcher.py): a saved catalog is checked, its
problems logged with file and line, then a push is asked; an unreadable one asks nothing."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from syndicator.common.logs import configure_logging
from syndicator.service.watcher import CatalogWatcher, catalog_files
from syndicator.service.workers import PassRequest
from tests.planning.test_plan import ROWS, World, world  # noqa: F401  (the fixture)


def saved(w: World) -> tuple[list[tuple[str, PassRequest]], list[dict[str, Any]]]:
    """What one save asks for, and the log lines it writes."""
    log = io.StringIO()
    configure_logging(json=True, stream=log)
    asked: list[tuple[str, PassRequest]] = []
    watcher = CatalogWatcher(w.config, lambda c, r: asked.append((c, r)), threading.Event())
    watcher.catalog_saved("atlas")
    return asked, [json.loads(line) for line in log.getvalue().splitlines()]


def test_a_save_is_checked_then_a_push_is_asked(world: World) -> None:  # noqa: F811
    assert catalog_files(world.config) == {(world.folder / "catalog.csv").resolve(): "atlas"}
    world.write_catalog({**ROWS, "BAD-6": "BAD-6;;;Tapis;;;rugs;abc;1;;;;;;"})
    asked, lines = saved(world)
    ((coop, request),) = asked
    assert coop == "atlas" and request.kinds == {"push"}
    problems = [e for e in lines if e["event"] == "catalog_problem"]
    assert [e["problem"].split(": ")[:2] for e in problems] == [["catalog.csv:9", "BAD-6"]]
    assert 'price "abc" is not a number' in problems[0]["problem"]
    (done,) = [e for e in lines if e["event"] == "catalog_saved"]
    assert done["cooperative"] == "atlas" and done["problems"] == len(problems)


def test_an_unreadable_catalog_asks_for_nothing(world: World) -> None:  # noqa: F811
    (world.folder / "catalog.csv").unlink()
    asked, lines = saved(world)
    assert asked == []
    (error,) = [e for e in lines if e["event"] == "catalog_unreadable"]
    assert "does not exist" in error["problem"]

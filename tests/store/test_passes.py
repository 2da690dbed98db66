"""The record of every pass (syndicator/store/passes.py): how a pass ended, and a pass
recorded again replacing the first record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicator.store import Store
from syndicator.store.passes import (
    PassRecord,
    last_passes,
    pass_outcome,
    recent_passes,
    record_pass,
)


@pytest.mark.parametrize(
    ("confirmed", "refused", "failed", "stopped", "outcome"),
    [
        (0, 0, 0, False, "ok"),
        (4, 0, 0, False, "ok"),
        (3, 1, 0, False, "partial"),
        (3, 0, 1, False, "partial"),
        (0, 1, 0, False, "partial"),  # only refusals: the catalog's matter, not the channel's
        (0, 0, 2, False, "failed"),  # the channel could not take anything
        (0, 1, 1, False, "failed"),
        (4, 0, 0, True, "stopped"),
    ],
)
def test_how_a_pass_ended(
    confirmed: int, refused: int, failed: int, stopped: bool, outcome: str
) -> None:
    assert (
        pass_outcome(confirmed=confirmed, refused=refused, failed=failed, stopped=stopped)
        == outcome
    )


def test_a_pass_recorded_again_is_replaced_and_the_newest_is_the_last(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/state.db")
    t0 = datetime(2026, 11, 26, 8, tzinfo=UTC)

    def made(run_id: str, minutes: int, outcome: str) -> PassRecord:
        start = t0 + timedelta(minutes=minutes)
        return PassRecord(
            run_id, "coop", "etsy", "push", start, start + timedelta(seconds=3), outcome, {}
        )

    with store.write() as conn:
        record_pass(conn, made("r1", 0, "failed"))
        record_pass(conn, made("r2", 5, "partial"))
        record_pass(conn, made("r2", 5, "ok"))  # the same pass, recorded again
    with store.read() as conn:
        assert last_passes(conn)[("coop", "etsy")].outcome == "ok"
        assert [p.run_id for p in recent_passes(conn)] == ["r2", "r1"]
        assert recent_passes(conn)[0].seconds == 3.0
    with store.write() as conn, pytest.raises(ValueError, match="not one of"):
        record_pass(conn, made("r3", 9, "fine"))
    store.close()

"""The shop workers (syndicator/service/workers.py): one pass at a time per cooperative, the
asks made meanwhile merged into one pass after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from syndicator.service.workers import PassRequest, ShopWorker


def eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def test_a_request_names_its_pass_and_plans_one_channel_only_for_its_reads() -> None:
    assert PassRequest({"orders", "push"}).kind == "push"
    assert PassRequest({"reviews", "start"}, orders_from=None).kind == "start"
    assert PassRequest().kind == "push"
    assert PassRequest({"readback"}, readback={"etsy"}).only == "etsy"
    assert PassRequest({"readback", "reviews"}, readback={"etsy"}, reviews={"etsy"}).only == "etsy"
    assert PassRequest({"readback", "reviews"}, readback={"etsy"}, reviews={"anou"}).only is None
    assert PassRequest({"orders"}, orders_from={"etsy"}).only is None
    asked = PassRequest({"orders"}, orders_from={"etsy"})
    held = asked.copy()  # a worker merges later asks into the one it holds:
    held.merge(PassRequest({"orders"}, orders_from=None))
    assert held.orders_from is None and asked.orders_from == {"etsy"}  # the asked one is intact


def test_passes_of_one_shop_never_overlap_and_asks_in_between_are_merged() -> None:
    """Saves and timers only ask a cooperative's worker for a pass: asks that come while a
    pass runs are merged into one pass after it, and no two passes of a shop overlap."""

    class Recorder:
        def __init__(self) -> None:
            self.stopping = threading.Event()
            self.running = 0
            self.overlaps = 0
            self.passes: list[PassRequest] = []
            self.lock = threading.Lock()

        def run_pass(self, cooperative: str, request: PassRequest) -> None:
            with self.lock:
                self.running += 1
                self.overlaps += self.running > 1
            time.sleep(0.2)  # a pass takes a while: asks pile up meanwhile
            self.passes.append(request)
            with self.lock:
                self.running -= 1

    daemon = Recorder()
    worker = ShopWorker("atlas-rugs", daemon.run_pass, daemon.stopping)
    worker.thread.start()
    try:
        worker.ask(PassRequest({"start"}, orders_from=None))
        time.sleep(0.05)  # the first pass is running now
        asks = [
            PassRequest({"push"}),
            PassRequest({"orders"}, orders_from={"etsy"}),
            PassRequest({"orders"}, orders_from={"amazon"}),
            PassRequest({"reviews"}, reviews={"anou"}),
        ]
        threads = [threading.Thread(target=worker.ask, args=(a,)) for a in asks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        eventually(lambda: len(daemon.passes) >= 2, timeout=10)
        time.sleep(0.5)
    finally:
        daemon.stopping.set()
        worker.thread.join(timeout=5)
    assert daemon.overlaps == 0
    first, merged = daemon.passes  # four asks, one pass
    assert first.kind == "start" and first.orders_from is None
    assert merged.kinds == {"push", "orders", "reviews"}
    assert merged.orders_from == {"etsy", "amazon"}
    assert merged.reviews == {"anou"}

"""``syndicator sandbox``: the three marketplaces served from the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx


def test_the_sandbox_command_serves_every_marketplace_and_stops_cleanly() -> None:
    exe = Path(sys.executable).with_name("syndicator")
    proc = subprocess.Popen(
        [str(exe), "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first
        base = f"http://127.0.0.1:{match.group(1)}"
        for name in ("amazon", "etsy", "anou"):
            state = httpx.get(f"{base}/{name}/_sandbox/state", timeout=10)
            assert state.status_code == 200
            assert "listings" in state.json()
        refused = httpx.get(f"{base}/anou/api/v1/orders", timeout=10)
        assert refused.status_code == 401  # the marketplace's own rules apply
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err

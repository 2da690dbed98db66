"""Shared fixtures: small worlds built on disk, as a cooperative would write them, and the
three sandbox marketplaces they sync to."""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog

from sandbox import Sandbox
from syndicator.common.logs import NOISY, standard_structlog
from syndicator.plugins import ChannelType, load_channel_types
from syndicator.store import Store

if TYPE_CHECKING:
    from tests.connectors.kit import World

REPO = Path(__file__).resolve().parent.parent

# A tiny valid JPEG header is enough: the catalog only checks that the file exists.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"


@pytest.fixture(scope="session")
def channel_types() -> dict[str, ChannelType]:
    """The channel types installed through the entry point group (amazon, etsy, anou)."""
    return dict(load_channel_types())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store, migrated to the newest schema."""
    opened = Store(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A cooperative's folder with an images/ folder holding rug.jpg and tile.png."""
    folder = tmp_path / "coop"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "rug.jpg").write_bytes(JPEG)
    (folder / "images" / "tile.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    return folder


class FakeClock:
    """Time that moves only when the code under test sleeps: waits are exact, tests
    instant. Starts at the current second (a quota counts calls per UTC day)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock (see :class:`FakeClock`)."""
    return FakeClock()


WriteFile = Callable[..., Path]


@pytest.fixture
def write(catalog_dir: Path) -> WriteFile:
    """Write a file in the cooperative's folder: text (dedented) or bytes, any encoding."""

    def _write(
        name: str,
        content: str | bytes,
        *,
        encoding: str = "utf-8",
        dedent: bool = True,
        newline: str = "\n",
    ) -> Path:
        path = catalog_dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            text = textwrap.dedent(content).lstrip("\n") if dedent else content
            path.write_bytes(text.replace("\n", newline).encode(encoding))
        return path

    return _write


# --------------------------------------------------------------- the sandbox marketplaces
SANDBOX_QUOTA_FACTOR = 50.0  # the sandbox's quotas at start, as the kit's channels' settings say


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    """Amazon, Etsy and the ANOU-style marketplace (sandbox) on one loopback
    port, started once for a test module; each test's ``world`` empties them again."""
    with Sandbox(quota_factor=SANDBOX_QUOTA_FACTOR) as running:
        yield running


@pytest.fixture
def world(sandbox_server: Sandbox, tmp_path: Path) -> Iterator[World]:
    """One cooperative (tests/connectors/kit.py) on the three sandbox marketplaces, each
    through its real connector, credentials in files; the sandbox empty, at real quotas."""
    # Imported here, not above: these modules import REPO from this one.
    from tests.connectors.kit import World
    from tests.connectors.test_amazon import AmazonHarness
    from tests.connectors.test_anou import HARNESS as ANOU
    from tests.connectors.test_etsy import HARNESS as ETSY

    sandbox_server.reset()
    amazon = AmazonHarness()
    w = World(
        tmp_path,
        sandbox_server,
        amazon.channel(sandbox_server),
        amazon.secrets(),
        more=[
            (ETSY.channel(sandbox_server), ETSY.secrets()),
            (ANOU.channel(sandbox_server), ANOU.secrets()),
        ],
    )
    yield w
    w.close()


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """Whatever a test configures, the next one finds logging as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = [*NOISY, "uvicorn", "uvicorn.access", "uvicorn.error"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    propagate = {n: logging.getLogger(n).propagate for n in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for n, (lvl, hs) in saved.items():
        logger = logging.getLogger(n)
        logger.setLevel(lvl)
        logger.handlers[:] = hs
        logger.propagate = propagate[n]
    structlog.reset_defaults()
    standard_structlog()  # as every process of ours starts (syndicator/common/logs.py)
    structlog.contextvars.clear_contextvars()

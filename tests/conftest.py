"""Shared fixtures: small worlds built on disk, as a cooperative would write them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.channels import ChannelType, load_channel_types

REPO = Path(__file__).resolve().parent.parent

# A tiny valid JPEG header is enough: the catalog only checks that the file exists.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"


@pytest.fixture(scope="session")
def channel_types() -> dict[str, ChannelType]:
    """The channel types installed through the entry point group (amazon, etsy, anou)."""
    return dict(load_channel_types())


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A cooperative's folder with an images/ folder holding rug.jpg and tile.png."""
    folder = tmp_path / "coop"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "rug.jpg").write_bytes(JPEG)
    (folder / "images" / "tile.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    return folder


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

"""What the core knows of its plugins, found through entry points; never their names.

Two kinds of plugin, each an entry point group (see pyproject.toml):

- ``syndicator.channel_types``: each connector package describes its marketplace with a
  :class:`ChannelType`. The core uses it to check the daemon config (settings, credential
  names), to plan (which product fields the channel needs, how long a title may be, whether
  a category mapping is required), to open the channel's connector (``connector``) and, for
  marketplaces that pull products rather than receive them, to publish a feed (``feed``);
- ``syndicator.sandboxes``: local emulators of marketplaces (:class:`SandboxType`), served
  by ``syndicator sandbox`` and started in the daemon's process by ``sandbox: {enabled:
  true}`` (the demo).

A hook is named ``"module:attribute"`` and imported only when it is used (:func:`load_hook`),
so that reading a config never imports a marketplace's client library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from syndicator.errors import PluginError

__all__ = [
    "CHANNEL_TYPES",
    "SANDBOXES",
    "Capability",
    "ChannelType",
    "FeedPublisher",
    "PublishedFeed",
    "RunningSandbox",
    "SandboxType",
    "Settings",
    "load_channel_types",
    "load_hook",
    "load_sandbox",
]

CHANNEL_TYPES = "syndicator.channel_types"
SANDBOXES = "syndicator.sandboxes"


class Capability(StrEnum):
    LISTINGS = "listings"
    PRICE_STOCK = "price_stock"
    BULK = "bulk"
    ORDERS = "orders"
    REVIEWS = "reviews"
    READ_BACK = "read_back"
    DELIST = "delist"


class Settings(BaseModel):
    """Base of every channel type's settings: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Scales the quotas Syndicator keeps to: only for a sandbox started with --quota-factor.
    quota_factor: float = Field(default=1.0, gt=0, le=10_000)


@dataclass(frozen=True, slots=True)
class ChannelType:
    """A marketplace as the core sees it.

    ``required_fields``: catalog fields a product needs to be listed there (``description``,
    ``images``, ``who_made``, ``when_made``); a product without them is held on that channel
    with a message. ``requires_category``: the channel's own category must come from the
    channel's ``categories`` map in the config or the product's override. ``connector``:
    ``"module:Class"`` of its :class:`~syndicator.channels.interface.Connector`. ``feed``:
    ``"module:attribute"`` of its :class:`FeedPublisher`, for a marketplace that pulls an
    open product feed (``syndicator feed``).
    """

    name: str
    title: str
    settings_model: type[BaseModel]
    credentials: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    required_fields: tuple[str, ...] = ()
    requires_category: bool = False
    max_title_length: int | None = None
    max_tags: int | None = None
    max_tag_length: int | None = None  # longer tags are left out, with a warning
    connector: str | None = None
    feed: str | None = None


class PublishedFeed(Protocol):
    """What a written feed holds: its products, its pages and its folder."""

    @property
    def products(self) -> int: ...

    @property
    def pages(self) -> int: ...

    @property
    def folder(self) -> Path: ...


class FeedPublisher(Protocol):
    """Writes a cooperative's products as the open product feed a marketplace pulls, and
    serves it (``syndicator feed``). ``projections`` are what the channel should show."""

    def write(
        self,
        projections: Sequence[Any],
        out: Path,
        base_url: str,
        *,
        product_url: str | None,
        thumbnail_url: str | None,
        include_sold_out: bool,
        shop: str,
    ) -> PublishedFeed: ...

    def serve(self, out: Path, *, host: str, port: int, media_root: Path | None) -> None: ...


class RunningSandbox(Protocol):
    """Emulated marketplaces serving one config, in this process (the demo).

    ``config``: the config the daemon runs on instead, every channel pointed at the
    sandbox with the sandbox's own credentials. ``stop_traffic`` stops what the sandbox
    does by itself (simulated buyers) before the daemon's last passes end; ``stop`` stops
    it all, keeping what the marketplaces hold for the next start.
    """

    @property
    def config(self) -> Any: ...

    @property
    def base_url(self) -> str: ...

    def stop_traffic(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SandboxType:
    """Local emulators of marketplaces, for the demo, tests and trying a config out.

    ``serve``: ``"module:function"``, ``serve(host, port, quota_factor, on_ready)`` serves
    them in the foreground until SIGINT or SIGTERM, ``on_ready(port, {name: url})`` told
    once listening (``syndicator sandbox``). ``start``: ``"module:function"``,
    ``start(config)`` returns a :class:`RunningSandbox` (``sandbox: {enabled: true}``).
    """

    name: str
    title: str
    serve: str
    start: str


def load_hook(ref: str) -> Any:
    """The object a hook names (``"module:attribute"``), imported now."""
    module_name, _, attribute = ref.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{ref} cannot be loaded: {exc}") from exc


def _entry_points(group: str, kind: type[Any], what: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=group):
        try:
            value = ep.load()
        except Exception as exc:  # a broken plugin must be named, not crash the daemon
            raise PluginError(f"{what} {ep.name} ({ep.value}) fails to load: {exc}") from exc
        if not isinstance(value, kind) or value.name != ep.name:
            raise PluginError(f"{ep.value} is not the {kind.__name__} named {ep.name}")
        found[ep.name] = value
    return found


def load_channel_types() -> Mapping[str, ChannelType]:
    """The installed channel types, by name."""
    return _entry_points(CHANNEL_TYPES, ChannelType, "channel type")


def load_sandbox(name: str | None = None) -> SandboxType:
    """The installed sandbox named ``name``, or the only one installed."""
    found: dict[str, SandboxType] = _entry_points(SANDBOXES, SandboxType, "sandbox")
    if name is not None:
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise PluginError(f'no sandbox named "{name}" is installed (installed: {known})')
        return found[name]
    if len(found) != 1:
        known = ", ".join(sorted(found)) or "none"
        raise PluginError(f"install one sandbox plugin, or name one (installed: {known})")
    return next(iter(found.values()))


# The hooks' call shapes, for their callers.
ServeHook = Callable[[str, int, float, Callable[[int, Mapping[str, str]], None]], None]
StartHook = Callable[[Any], RunningSandbox]

"""The commands served by a plugin: ``syndicator sandbox`` (the marketplace emulators) and
``syndicator feed`` (an open product feed, for marketplaces that pull)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from syndicator.cli.common import ConfigOption, err, failure, load, out
from syndicator.common.problems import Unreadable
from syndicator.errors import PluginError
from syndicator.store import Store

__all__ = ["feed", "sandbox"]


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8700,
    quota_factor: Annotated[
        float, typer.Option(help="Multiply every marketplace quota (for fast demos).")
    ] = 1.0,
) -> None:
    """Serve the sandbox marketplaces: local emulators of the marketplaces Syndicator
    knows, each under its own prefix with its control API under /_sandbox/.

    See docs/sandbox.md.
    """
    from syndicator.plugins import ServeHook, load_hook, load_sandbox

    try:
        serving: ServeHook = load_hook(load_sandbox().serve)
    except PluginError as exc:
        raise failure(str(exc)) from None
    console = out()
    if host not in ("127.0.0.1", "localhost", "::1"):
        err().print(
            Text(
                "warning: the sandbox accepts its demo credentials; keep it off public networks",
                style="yellow",
            )
        )

    def announce(port_: int, urls: Mapping[str, str]) -> None:
        console.print(Text(f"sandbox marketplaces on http://{host}:{port_}", style="bold"))
        for name, url in urls.items():
            console.print(Text(f"  {name}: {url}  (control: /{name}/_sandbox/state)"))
        console.file.flush()

    serving(host, port, quota_factor, announce)


def feed(
    config: ConfigOption,
    cooperative: Annotated[str, typer.Option(help="The cooperative (id).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write product_data/ into.")],
    base_url: Annotated[
        str, typer.Option(help="Public address the feed's photos are served under.")
    ],
    channel: Annotated[
        str | None,
        typer.Option(
            help="The channel whose language, prices and stock it shows (default: the "
            "cooperative's one channel whose marketplace pulls a feed)."
        ),
    ] = None,
    product_url: Annotated[
        str | None, typer.Option(help="Template of a product's page, e.g. https://x/p/{sku}.")
    ] = None,
    thumbnail_url: Annotated[
        str | None, typer.Option(help="Template of a thumbnail's address.")
    ] = None,
    include_sold_out: Annotated[
        bool, typer.Option(help="Also list products with none available.")
    ] = False,
    serve: Annotated[bool, typer.Option(help="Then serve it at /product_data?page=N.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8800,
) -> None:
    """Publish a cooperative's products as an open product feed (the shape of ANOU's open
    product database: pages of 50), for marketplaces that pull rather than receive.

    See docs/anou.md.
    """
    from syndicator.planning.plan import current_projections
    from syndicator.plugins import FeedPublisher, load_hook

    cfg = load(config)
    try:
        coop = cfg.cooperative(cooperative)
        if channel is not None:
            coop.channel(channel)
    except KeyError as exc:
        raise failure(Text(f"not in the config: {exc}")) from None
    feeds = {c.id: cfg.channel_types[c.type].feed for c in coop.channels}
    if channel is None:
        pulled = [cid for cid, hook in feeds.items() if hook]
        if len(pulled) != 1:
            which = ", ".join(pulled) or "none"
            raise failure(Text(f"name the channel with --channel (channels with a feed: {which})"))
        channel = pulled[0]
    hook = feeds[channel]
    if hook is None:
        kind = cfg.channel_types[coop.channel(channel).type].title
        raise failure(Text(f"channel {channel} ({kind}) publishes no feed"))
    publisher: FeedPublisher = load_hook(hook)
    with closing(Store(cfg.database_url)) as store:
        try:
            projections = current_projections(
                cfg, store, cooperative, channel, today=datetime.now(UTC).date()
            )
        except Unreadable as exc:
            raise failure(Text(f"catalog cannot be read: {exc.problem}")) from None
        except LookupError as exc:
            raise failure(Text(str(exc))) from None
    index = publisher.write(
        projections,
        out_dir,
        base_url,
        product_url=product_url,
        thumbnail_url=thumbnail_url,
        include_sold_out=include_sold_out,
        shop=cooperative,
    )
    out().print(Text(f"{index.products} products in {index.pages} pages under {index.folder}"))
    if serve:
        publisher.serve(out_dir, host=host, port=port, media_root=cfg.catalog_path(coop).parent)

"""A small cooperative, set up on disk against the sandbox, for connector tests.

:class:`World` writes a catalog (a one-of-a-kind rug with Arabic, French and English text, a
cushion with two size variants, a lantern), a daemon config with one channel pointing at the
running sandbox (credentials in files, as an operator would keep them), and opens the
store. ``changes()`` runs the real plan and turns its operations into the
:class:`ListingChange` objects a connector receives.
"""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

from sandbox import Sandbox
from syndicator.channels.interface import Connector, ListingChange
from syndicator.common.serving import ServerThread, listen, server_config
from syndicator.config import Config, load_config
from syndicator.domain.money import Money
from syndicator.planning.operations import Action
from syndicator.planning.plan import make_plan
from syndicator.plugins import load_channel_types
from syndicator.store import Store
from syndicator.sync.opener import open_connector
from tests.conftest import REPO

IMAGES = REPO / "config" / "catalogs" / "images"

CATALOG = """\
cooperative: atlas-rugs
currency: MAD
products:
  - sku: RUG-1
    title:
      ar: زربية بني ورين من الصوف الطبيعي
      fr: Tapis Beni Ouarain en laine naturelle
      en: Beni Ourain rug in natural wool
    description:
      fr: Tissé et noué à la main par les femmes de la coopérative.
      en: Hand-knotted by the cooperative's women from undyed wool.
    category: rugs
    materials: [wool]
    tags: [beni ourain, handmade]
    price: 4500
    stock: 1
    images: [images/rug.jpg, images/rug-detail.jpg]
    who_made: collective
    when_made: 2020_2026
  - sku: CUSH-1
    title:
      fr: Coussin kilim
      en: Kilim cushion
    description:
      en: A cushion cover woven on the loom.
    category: cushions
    materials: [wool, cotton]
    price: 400
    images: [images/cushion.jpg]
    who_made: collective
    when_made: 2020_2026
    variants:
      - sku: CUSH-1-S
        options: {size: small}
        stock: 4
      - sku: CUSH-1-L
        options: {size: large}
        price: 550
        stock: 2
  - sku: LAMP-1
    title:
      fr: Lanterne en laiton ciselé
      en: Chiselled brass lantern
    description:
      en: Brass lantern chiselled by hand in Fes.
    category: lanterns
    materials: [brass]
    price: 900
    stock: 3
    images: [images/lamp.jpg]
    who_made: someone_else
    when_made: 2020_2026
"""

SKUS = ("RUG-1", "CUSH-1-S", "CUSH-1-L", "LAMP-1")


def write_catalog(folder: Path) -> None:
    """The cooperative's catalog (``atlas-rugs.yaml``) and its photos, in ``folder``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for name, source in {
        "rug.jpg": "atl-bno-001.jpg",
        "rug-detail.jpg": "atl-bno-001-detail.jpg",
        "cushion.jpg": "atl-csh-008.jpg",
        "lamp.jpg": "atl-bch-004.jpg",
    }.items():
        shutil.copyfile(IMAGES / source, folder / "images" / name)
    (folder / "atlas-rugs.yaml").write_text(CATALOG, encoding="utf-8")


class World:
    """One cooperative with one channel on the sandbox.

    ``channel``: the channel block of the config (type, currency, pricing, settings,
    categories); ``secrets``: credential name -> value, written to files.
    """

    def __init__(
        self,
        root: Path,
        sandbox: Sandbox,
        channel: Mapping[str, Any],
        secrets: Mapping[str, str],
        more: Sequence[tuple[Mapping[str, Any], Mapping[str, str]]] = (),
    ) -> None:
        """``more``: other channels (block, secrets) of the same cooperative; their secrets
        files are named ``<channel>-<name>``."""
        self.root = root
        self.sandbox = sandbox
        self.channel_id = str(channel["id"])
        write_catalog(root / "catalogs")
        (root / "secrets").mkdir(exist_ok=True)
        self.write_secrets(secrets)
        block = dict(channel)
        block["credentials"] = {name: {"file": f"secrets/{name}"} for name in secrets}
        blocks = [block]
        for other, other_secrets in more:
            extra = dict(other)
            prefix = f"{extra['id']}-"
            self.write_secrets({prefix + k: v for k, v in other_secrets.items()})
            extra["credentials"] = {k: {"file": f"secrets/{prefix}{k}"} for k in other_secrets}
            blocks.append(extra)
        config = {
            "store": {"url": "sqlite:///state.db"},
            "exchange_rates": [{"date": "2026-11-01", "USD": "0.1082", "EUR": "0.0934"}],
            "cooperatives": [
                {
                    "id": "atlas-rugs",
                    "name": "Coopérative Tissage Atlas",
                    "catalog": "catalogs/atlas-rugs.yaml",
                    "channels": blocks,
                }
            ],
        }
        self.config_path = root / "syndicator.yaml"
        self.config_path.write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        self.config: Config = load_config(self.config_path, load_channel_types())
        self.store = Store(self.config.database_url)

    def write_secrets(self, secrets: Mapping[str, str]) -> None:
        for name, value in secrets.items():
            (self.root / "secrets" / name).write_text(value + "\n", encoding="utf-8")

    def connector(self, **kw: Any) -> Connector:
        return open_connector(self.config, self.store, "atlas-rugs", self.channel_id, **kw)

    def changes(self, today: date = date(2026, 11, 25)) -> dict[str, ListingChange]:
        """The plan's changes for the channel, by SKU (all creates on an empty store)."""
        report = make_plan(self.config, self.store, today=today)
        (chplan,) = report.cooperatives[0].channels
        return {
            op.sku: ListingChange.from_op(op)
            for op in chplan.ops
            if op.action not in (Action.HOLD, Action.UNCHANGED)
        }

    # ------------------------------------------------------------ the sandbox side
    def control(self, marketplace: str, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.sandbox.url(marketplace)}/_sandbox/{path}"
        response = httpx.request(method, url, json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.store.close()


def repriced(change: ListingChange, amount: str) -> ListingChange:
    """The same listing at another price (in the channel's currency)."""
    p = change.projection
    assert p is not None
    projection = dataclasses.replace(p, price=Money(Decimal(amount), p.price.currency))
    return dataclasses.replace(change, action=Action.REPRICE, projection=projection)


def restocked(change: ListingChange, quantity: int) -> ListingChange:
    p = change.projection
    assert p is not None
    projection = dataclasses.replace(p, quantity=quantity)
    return dataclasses.replace(change, action=Action.RESTOCK, projection=projection)


def retitled(change: ListingChange, title: str) -> ListingChange:
    p = change.projection
    assert p is not None
    projection = dataclasses.replace(p, title=title, fingerprint=p.fingerprint + "x")
    return dataclasses.replace(change, action=Action.UPDATE, projection=projection)


def delisted(change: ListingChange, remote_id: str | None = None) -> ListingChange:
    return ListingChange(
        change.sku, change.parent_sku, Action.DELIST, None, remote_id or change.remote_id
    )


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@contextmanager
def serving(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a background thread (the core's server);
    yields its base URL (``http://127.0.0.1:N``) and stops it on exit."""
    sock = listen(host, 0)
    port = sock.getsockname()[1]
    server = ServerThread(server_config(app), sock, name="test-app").start()
    try:
        yield f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    finally:
        server.stop()

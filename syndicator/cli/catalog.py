"""``syndicator validate``: check catalog files and list every problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from syndicator.catalog import CatalogLimits, load_catalog
from syndicator.catalog.loader import override_channels
from syndicator.cli.common import exit_code, load, out
from syndicator.cli.render.problems import catalog_summary, print_problems
from syndicator.common.problems import Unreadable
from syndicator.config import Config

__all__ = ["validate"]


def _channels_for(path: Path, config: Config | None) -> tuple[tuple[str, ...], str | None]:
    """The channel ids overrides may name in this catalog, and its cooperative if known."""
    if config is None:
        return override_channels(None), None
    resolved = path.resolve()
    for coop in config.cooperatives:
        if config.catalog_path(coop).resolve() == resolved:
            return tuple(c.id for c in coop.channels), coop.id
    every = sorted({c.id for coop in config.cooperatives for c in coop.channels})
    return tuple(every), None


def validate(
    catalogs: Annotated[list[Path], typer.Argument(help="Catalog files (.csv or .yaml).")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Daemon config: checks overrides against the "
            "cooperative's channel ids (else: the installed marketplaces' names).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Check catalog files and list every problem: FILE:LINE: SKU: what is wrong.

    Exit code 0: clean; 1: problems found (good rows are still usable); 2: a file cannot be
    read at all.
    """
    cfg = load(config) if config else None
    console = out()
    code = 0
    report: list[dict[str, object]] = []
    for path in catalogs:
        channels, coop = _channels_for(path, cfg)
        limits = CatalogLimits(max_bytes=cfg.max_catalog_bytes) if cfg else CatalogLimits()
        try:
            catalog = load_catalog(
                path, channels=channels, display=str(path), cooperative=coop, limits=limits
            )
        except Unreadable as exc:
            code = 2
            if as_json:
                report.append(
                    {"file": str(path), "readable": False, "problems": [exc.problem.to_json()]}
                )
            else:
                print_problems(console, [exc.problem])
                console.print(Text(f"{path}: cannot be read; nothing in it is used", style="red"))
            continue
        code = max(code, exit_code(list(catalog.problems)))
        if as_json:
            report.append(
                {
                    "file": str(path),
                    "readable": True,
                    "products": len(catalog.products),
                    "skus": sum(1 for _ in catalog.units()),
                    "held": sorted(catalog.held),
                    "problems": [p.to_json() for p in catalog.problems],
                }
            )
        else:
            print_problems(console, list(catalog.problems))
            console.print(catalog_summary(catalog))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    raise typer.Exit(code)

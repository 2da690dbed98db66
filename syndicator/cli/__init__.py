"""The ``syndicator`` command: validate catalogs, plan what each channel needs.

Exit codes, for every command: 0 all good; 1 problems were found (the rest went on);
2 an input could not be read at all (config or catalog), or the command was misused.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from syndicator import __version__
from syndicator.catalog import Catalog, CatalogLimits, load_catalog
from syndicator.catalog.loader import override_channels
from syndicator.common.problems import ConfigError, Problem, Severity, Unreadable
from syndicator.config import Config, load_config
from syndicator.errors import PluginError, QuotaWait, ScopeError
from syndicator.planning.operations import Action, PlannedOp
from syndicator.planning.plan import PlanReport, make_plan
from syndicator.plugins import load_channel_types
from syndicator.store import Store

if TYPE_CHECKING:
    from syndicator.reviews.store import ReviewFilter

__all__ = ["app", "main"]

app = typer.Typer(
    name="syndicator",
    help="One catalog file per cooperative, pushed to every marketplace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="SYNDICATOR_CONFIG",
        help="The daemon config (YAML).",
        dir_okay=False,
    ),
]
CooperativeOption = Annotated[str | None, typer.Option(help="Only this cooperative (id).")]
ChannelOption = Annotated[str | None, typer.Option(help="Only this channel (id).")]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only reviews created on or after this date (YYYY-MM-DD, UTC)."),
]


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _problem_text(p: Problem) -> Text:
    where = f"{p.file}:{p.line}" if p.line else p.file
    text = Text()
    text.append(f"{where}:", style="dim")
    if p.sku:
        text.append(f" {p.sku}:", style="bold")
    text.append(f" {p.message}")
    if p.severity is Severity.WARNING:
        text.append(" (warning)", style="yellow")
    return text


def _print_problems(console: Console, problems: list[Problem]) -> None:
    for p in problems:
        console.print(_problem_text(p))


def _exit_code(problems: list[Problem], *, errors_only: bool = False) -> int:
    if errors_only:
        return 1 if any(p.severity is Severity.ERROR for p in problems) else 0
    return 1 if problems else 0


def _load_config(path: Path) -> Config:
    try:
        return load_config(path, load_channel_types())
    except Unreadable as exc:
        _print_problems(_err(), [exc.problem])
        raise typer.Exit(2) from None
    except ConfigError as exc:
        console = _err()
        _print_problems(console, exc.problems)
        console.print(
            f"{len(exc.problems)} problem(s) in the config; nothing was done.", style="red"
        )
        raise typer.Exit(2) from None
    except PluginError as exc:
        _err().print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"syndicator {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Syndicator: listings, prices and stock from one catalog file to every channel."""


# ------------------------------------------------------------------------------- validate
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


def _summary(catalog: Catalog) -> Text:
    units = sum(1 for _ in catalog.units())
    errors = sum(p.severity is Severity.ERROR for p in catalog.problems)
    warnings = len(catalog.problems) - errors
    text = Text(f"{catalog.display}: {len(catalog.products)} products, {units} SKUs")
    if not catalog.problems:
        text.append(" — no problems", style="green")
    else:
        text.append(
            f" — {errors} error(s), {warnings} warning(s)", style="red" if errors else "yellow"
        )
        if catalog.held:
            text.append(
                f"; {len(catalog.held)} SKU(s) left out until fixed: "
                f"{', '.join(sorted(catalog.held)[:10])}"
                f"{' ...' if len(catalog.held) > 10 else ''}"
            )
    return text


@app.command()
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
    cfg = _load_config(config) if config else None
    out = _out()
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
                _print_problems(out, [exc.problem])
                out.print(Text(f"{path}: cannot be read; nothing in it is used", style="red"))
            continue
        code = max(code, _exit_code(list(catalog.problems)))
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
            _print_problems(out, list(catalog.problems))
            out.print(_summary(catalog))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    raise typer.Exit(code)


# ------------------------------------------------------------------------------- plan
_ACTION_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "cyan",
    Action.REPRICE: "magenta",
    Action.RESTOCK: "blue",
    Action.DELIST: "red",
    Action.DELETE: "red",
    Action.HOLD: "yellow",
    Action.UNCHANGED: "dim",
}


def _money(amount: Decimal | None, currency: str | None) -> str:
    return "" if amount is None or currency is None else f"{amount} {currency}"


def _plan_table(ops: list[PlannedOp]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("SKU", "action", "lang", "price", "qty", "was", "why"):
        table.add_column(name, overflow="fold")
    for op in ops:
        was = ""
        if op.previous_price or op.previous_quantity is not None:
            prev = op.previous_price
            was = (
                f"{_money(prev.amount, prev.currency) if prev else '?'} × "
                f"{'' if op.previous_quantity is None else op.previous_quantity}"
            )
        why = op.reason or ", ".join(op.changes)
        table.add_row(
            op.sku,
            Text(str(op.action), style=_ACTION_STYLE[op.action]),
            op.language or "",
            _money(op.price.amount, op.price.currency) if op.price else "",
            "" if op.quantity is None else str(op.quantity),
            was,
            why,
        )
    return table


def _print_plan(console: Console, report: PlanReport, show_all: bool) -> None:
    for cplan in report.cooperatives:
        coop = cplan.cooperative
        title = f"{coop.id}" + (f" — {coop.name}" if coop.name else "")
        console.rule(Text(title, style="bold"))
        if cplan.unreadable:
            console.print(
                Text(
                    f"catalog cannot be read: {cplan.unreadable}; nothing is planned "
                    "for this cooperative and its channels stay as they are",
                    style="red",
                )
            )
            continue
        catalog = cplan.catalog
        assert catalog is not None
        checked = sum(1 for _ in catalog.units())
        skipped = (
            f" and {cplan.unchanged} left unchanged without checking" if cplan.unchanged else ""
        )
        console.print(
            Text(
                f"catalog {catalog.display}: {checked} SKUs checked{skipped}",
                style="dim",
            )
        )
        for chplan in cplan.channels:
            ch = chplan.channel
            rate = chplan.rate
            head = Text(f"\n{ch.id} ", style="bold")
            head.append(f"({ch.type}, {ch.currency}", style="dim")
            if rate and rate.day:
                head.append(f", 1 MAD = {rate.rate} {ch.currency} as of {rate.day}", style="dim")
            head.append(f", languages {', '.join(ch.languages)})", style="dim")
            console.print(head)
            if not ch.enabled:
                console.print(Text("  turned off in the config", style="dim"))
                continue
            counts = chplan.counts()
            summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
            shown = [op for op in chplan.ops if show_all or op.action is not Action.UNCHANGED]
            if shown:
                console.print(_plan_table(shown))
            console.print(Text(f"  {summary or 'nothing to do'}", style="bold"))
    if report.warnings:
        console.print()
        for w in report.warnings:
            console.print(Text(f"warning: {w}", style="yellow"))


def _explain(console: Console, report: PlanReport, sku: str) -> bool:
    found = False
    for cplan in report.cooperatives:
        stock = cplan.stock.get(sku)
        for chplan in cplan.channels:
            for op in chplan.ops:
                if op.sku != sku:
                    continue
                found = True
                ch = chplan.channel
                console.rule(
                    Text(f"{sku} on {cplan.cooperative.id}/{ch.id}: {op.action}", style="bold")
                )
                if op.reason:
                    console.print(Text(f"why: {op.reason}"))
                p = op.projection
                if p is None:
                    continue
                console.print(
                    Text(
                        f"language: {p.language} (channel prefers "
                        f"{', '.join(ch.languages)}); title: {p.title}"
                    )
                )
                console.print(Text(f"category: {p.category}"))
                table = Table(show_edge=False, header_style="bold", title="price")
                table.add_column("step")
                table.add_column("amount", justify="right")
                for step in p.quote.steps:
                    shown = step.amount.quantize(Decimal("0.0001")).normalize()
                    exact = "" if shown == step.amount else "≈ "
                    table.add_row(step.label, f"{exact}{shown:f} {step.currency}")
                console.print(table)
                cur = p.price.currency
                console.print(
                    Text(
                        f"net after fees: {p.quote.net.quantize(Decimal('0.01'))} {cur}; wanted: "
                        f"{p.quote.wanted.quantize(Decimal('0.0001')).normalize():f} {cur}"
                    )
                )
                if stock is not None:
                    cap = ch.stock.max_quantity
                    console.print(
                        Text(
                            f"stock: {stock.count} counted at "
                            f"{stock.counted_at:%Y-%m-%d %H:%M} UTC, "
                            f"{stock.changes:+d} since (sales and cancellations), available "
                            f"{stock.available}; buffer {p.buffer}"
                            f"{f', at most {cap}' if cap else ''} -> listed {p.quantity}"
                        )
                    )
                if op.previous_price or op.previous_quantity is not None:
                    console.print(
                        Text(
                            f"last confirmed: {op.previous_price or '-'} × "
                            f"{op.previous_quantity if op.previous_quantity is not None else '-'}"
                        )
                    )
    return found


@app.command()
def plan(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    explain: Annotated[
        str | None,
        typer.Option(help="Show how the price, quantity and language of this SKU were worked out."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list unchanged SKUs.")] = False,
) -> None:
    """Show what would be sent to each channel now: create, update, reprice, restock, delist.

    Compares the catalog with what each channel last confirmed, in the state store. Never
    calls a channel.
    """
    cfg = _load_config(config)
    store = Store(cfg.database_url)
    try:
        report = make_plan(
            cfg,
            store,
            today=datetime.now(UTC).date(),
            cooperative=cooperative,
            channel=channel,
            # Listing or explaining every SKU needs every row checked and projected.
            incremental=not (show_all or explain),
        )
    except ScopeError as exc:
        _err().print(Text(str(exc), style="red"))
        raise typer.Exit(2) from None
    finally:
        store.close()
    problems = report.problems()
    if explain:
        out = _out()
        if not _explain(out, report, explain):
            _err().print(
                Text(f"SKU {explain} is not in the plan of the selected channels", style="red")
            )
            raise typer.Exit(1)
    elif as_json:
        ops = [op.to_json() for op in report.ops() if show_all or op.action is not Action.UNCHANGED]
        typer.echo(json.dumps(ops, ensure_ascii=False, indent=2))
        _print_problems(_err(), problems)
    else:
        out = _out()
        _print_plan(out, report, show_all)
        if problems:
            out.print()
            _print_problems(out, problems)
    unreadable = any(c.unreadable for c in report.cooperatives)
    raise typer.Exit(2 if unreadable else _exit_code(problems, errors_only=True))


# ------------------------------------------------------------------------------- sandbox
@app.command()
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
        _err().print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    out = _out()
    if host not in ("127.0.0.1", "localhost", "::1"):
        _err().print(
            Text(
                "warning: the sandbox accepts its demo credentials; keep it off public networks",
                style="yellow",
            )
        )

    def announce(port_: int, urls: Mapping[str, str]) -> None:
        out.print(Text(f"sandbox marketplaces on http://{host}:{port_}", style="bold"))
        for name, url in urls.items():
            out.print(Text(f"  {name}: {url}  (control: /{name}/_sandbox/state)"))
        out.file.flush()

    serving(host, port, quota_factor, announce)


@app.command()
def sync(
    config: ConfigOption,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run one pass and exit (the daemon runs them on a schedule)."),
    ] = False,
    cooperative: CooperativeOption = None,
    channel: Annotated[
        str | None, typer.Option(help="Only send to this channel (orders come from all).")
    ] = None,
    confirm_delist: Annotated[
        bool,
        typer.Option(
            "--confirm-delist",
            help="Go ahead when a pass would take many listings off sale at once.",
        ),
    ] = False,
    readback: Annotated[
        bool, typer.Option(help="Also read every listing back and report drift.")
    ] = True,
    reviews: Annotated[bool, typer.Option(help="Also pull reviews.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Reconcile every channel once: pull orders into the stock ledger, plan, send the
    changes, journal every outcome, pull reviews. Exit 0 when everything went through, 1 when
    something failed or needs a person (see `syndicator journal`), 2 when the config or a
    catalog cannot be read."""
    from rich.progress import Progress, TaskID

    from syndicator.sync.reconcile import sync_once

    if not once:
        _err().print(Text("the daemon is not built yet: run one pass with --once", style="red"))
        raise typer.Exit(2)
    cfg = _load_config(config)
    store = Store(cfg.database_url)
    try:
        with Progress(console=_err(), transient=True, disable=as_json) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(what: str, done: int, total: int) -> None:
                if what not in tasks:
                    tasks[what] = bar.add_task(what, total=total)
                bar.update(tasks[what], completed=done)

            report = sync_once(
                cfg,
                store,
                cooperative=cooperative,
                channel=channel,
                confirm_delist=confirm_delist,
                readback=readback,
                reviews=reviews,
                progress=progress,
            )
    finally:
        store.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "channels": [c.to_json() for c in report.channels],
                    "alerts": report.alerts,
                    "unreadable": report.unreadable,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        out = _out()
        table = Table(show_edge=False, header_style="bold", title=f"sync {report.run_id}")
        for name in ("channel", "orders", "sent", "failed", "drift", "reviews", "note"):
            table.add_column(name)
        for c in report.channels:
            sent = ", ".join(f"{n} {a}" for a, n in sorted(c.done.items())) or "-"
            failed = ", ".join(f"{n} {a}" for a, n in sorted(c.failed.items())) or "-"
            table.add_row(
                f"{c.cooperative}/{c.channel}",
                f"{c.orders} ({c.order_lines} new lines)",
                sent,
                failed,
                str(c.drift),
                str(c.reviews),
                c.stopped or "",
            )
        out.print(table)
        for line in report.unreadable:
            out.print(Text(f"catalog cannot be read: {line}", style="red"))
        for alert in report.alerts:
            out.print(Text(f"ALERT {alert}", style="bold red"))
    raise typer.Exit(0 if report.ok and not report.alerts else 1)


@app.command()
def journal(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="Only this outcome: ok, failed, drift, stopped, refused.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (create, reprice ...).")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Only this run id.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only from this time (UTC), e.g. 2026-11-25T08:00.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """What was sent to each channel and what it answered, in its own words."""
    from syndicator.store.journal import query_journal

    cfg = _load_config(config)
    store = Store(cfg.database_url)
    try:
        with store.read() as conn:
            entries = query_journal(
                conn,
                cooperative=cooperative,
                channel=channel,
                sku=sku,
                outcome=outcome,
                action=action,
                run_id=run,
                since=since.replace(tzinfo=UTC) if since and since.tzinfo is None else since,
                limit=limit,
            )
    finally:
        store.close()
    if as_json:
        for e in entries:
            typer.echo(json.dumps(e.to_json(), ensure_ascii=False))
        return
    table = Table(show_edge=False, header_style="bold")
    for name in ("time (UTC)", "shop", "SKU", "action", "try", "outcome", "the channel said"):
        table.add_column(name)
    styles = {"ok": "green", "failed": "red", "drift": "yellow", "stopped": "red", "refused": "red"}
    for e in entries:
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{e.cooperative}/{e.channel}",
            e.sku or "",
            e.action,
            str(e.attempt),
            Text(e.outcome, style=styles.get(e.outcome, "")),
            e.message or "",
        )
    _out().print(table)


def _ago(seconds: float) -> str:
    """A duration as an operator reads it: 40 s, 12 min, 3 h, 2 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(0.0, seconds):.0f} s"


@app.command()
def status(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """What is in sync on each channel, what is not and why, in the channel's own words.

    Reads the state store only; calls no channel. Exit 0 when all is well; 1 when a
    channel's last pass failed or stopped, a change has waited longer than
    daemon.alerts.backlog_after, or an alert is open (see docs/status.md).
    """
    from syndicator.service.status import channel_status

    cfg = _load_config(config)
    store = Store(cfg.database_url)
    try:
        report = channel_status(cfg, store, cooperative=cooperative)
    except KeyError:
        _err().print(Text(f"no cooperative {cooperative} in the config", style="red"))
        raise typer.Exit(2) from None
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        raise typer.Exit(0 if report.ok else 1)
    now, out = report.at, _out()
    styles = {"ok": "green", "partial": "yellow", "failed": "red", "stopped": "red"}
    for coop in report.cooperatives:
        table = Table(
            show_edge=False,
            header_style="bold",
            title=f"{coop.cooperative} at {now:%Y-%m-%d %H:%M} UTC",
            title_justify="left",
        )
        table.add_column("channel", no_wrap=True)
        table.add_column("last pass", min_width=12)
        table.add_column("listings", min_width=9)
        for name in ("oldest pending", "calls today", "orders", "reviews"):
            table.add_column(name, overflow="fold")
        errors: list[Text] = []
        for c in coop.channels:
            last = Text("never", style="dim")
            if c.last_pass is not None:
                p = c.last_pass
                last = Text(p.outcome, style=styles.get(p.outcome, ""))
                last.append(f", {p.kind} {_ago((now - p.finished_at).total_seconds())} ago")
            oldest = Text("-")
            if c.oldest_pending is not None:
                o = c.oldest_pending
                age = _ago(o.age(now).total_seconds())
                oldest = Text(f"{o.sku} ({age})", style="bold red" if c.backlog else "")
            calls = "-"
            if c.quota is not None:
                calls = str(c.quota.calls)
                if c.quota.throttled:
                    calls += f", {c.quota.throttled}×429"
                if c.quota.daily:
                    share = max(d.used / d.limit for d in c.quota.daily)
                    calls += f", {share:.0%} of daily"
            counts = Text(f"{c.listings.in_sync} in sync")
            if c.listings.pending:
                counts.append(f"\n{c.listings.pending} pending", style="yellow")
            if c.listings.failed:
                counts.append(f"\n{c.listings.failed} failed", style="red")
            table.add_row(
                c.channel,
                last,
                counts,
                oldest,
                calls,
                str(c.orders.count),
                str(c.reviews.count),
            )
            if c.last_error is not None:
                e = c.last_error
                current = bool(c.listings.failed) or not c.ok
                what = " ".join(part for part in (e.sku, e.action, e.outcome) if part)
                line = Text(f"{c.channel}, {_ago((now - e.at).total_seconds())} ago, {what}: ")
                line.append(e.message or "(no message)")
                line.stylize("" if current else "dim")
                errors.append(line)
        out.print(table)
        if errors:
            out.print(Text("The last error on each channel, in its own words:", style="bold"))
            for line in errors:
                out.print(line)
        for alert in coop.alerts:
            where = f" {alert.channel}" if alert.channel else ""
            out.print(Text(f"ALERT {alert.kind}{where}: {alert.message}", style="bold red"))
        out.print()
    if report.ok:
        out.print(Text("all channels ok", style="green"))
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def check(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
) -> None:
    """Check the credentials and account of each channel against the marketplace.

    Makes one or two cheap calls per channel and says, in the channel's own words, what is
    wrong. Exit 0 when every checked channel answers, 1 otherwise.
    """
    from syndicator.errors import ChannelError
    from syndicator.sync.opener import open_connector

    cfg = _load_config(config)
    store = Store(cfg.database_url)
    out, failed, checked = _out(), 0, 0
    try:
        for coop in cfg.cooperatives:
            if cooperative is not None and coop.id != cooperative:
                continue
            for ch in coop.channels:
                if (channel is not None and ch.id != channel) or not ch.enabled:
                    continue
                checked += 1
                where = f"{coop.id}/{ch.id}"
                try:
                    with open_connector(cfg, store, coop.id, ch.id, timeout=timeout) as conn:
                        described = conn.check()
                except (ChannelError, QuotaWait) as exc:
                    failed += 1
                    out.print(Text(f"{where}: FAILED: {exc}", style="red"))
                else:
                    out.print(Text(f"{where}: ok, {described}", style="green"))
    finally:
        store.close()
    if not checked:
        _err().print(Text("no channel matches", style="red"))
        raise typer.Exit(2)
    raise typer.Exit(1 if failed else 0)


@app.command()
def feed(
    config: ConfigOption,
    cooperative: Annotated[str, typer.Option(help="The cooperative (id).")],
    out: Annotated[Path, typer.Option(help="Folder to write product_data/ into.")],
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

    cfg = _load_config(config)
    try:
        coop = cfg.cooperative(cooperative)
        if channel is not None:
            coop.channel(channel)
    except KeyError as exc:
        _err().print(Text(f"not in the config: {exc}", style="red"))
        raise typer.Exit(2) from None
    feeds = {c.id: cfg.channel_types[c.type].feed for c in coop.channels}
    if channel is None:
        pulled = [cid for cid, hook in feeds.items() if hook]
        if len(pulled) != 1:
            which = ", ".join(pulled) or "none"
            _err().print(
                Text(
                    f"name the channel with --channel (channels with a feed: {which})", style="red"
                )
            )
            raise typer.Exit(2)
        channel = pulled[0]
    hook = feeds[channel]
    if hook is None:
        kind = cfg.channel_types[coop.channel(channel).type].title
        _err().print(Text(f"channel {channel} ({kind}) publishes no feed", style="red"))
        raise typer.Exit(2)
    publisher: FeedPublisher = load_hook(hook)
    store = Store(cfg.database_url)
    try:
        projections = current_projections(
            cfg, store, cooperative, channel, today=datetime.now(UTC).date()
        )
    except Unreadable as exc:
        _err().print(Text(f"catalog cannot be read: {exc.problem}", style="red"))
        raise typer.Exit(2) from None
    except LookupError as exc:
        _err().print(Text(str(exc), style="red"))
        raise typer.Exit(2) from None
    finally:
        store.close()
    index = publisher.write(
        projections,
        out,
        base_url,
        product_url=product_url,
        thumbnail_url=thumbnail_url,
        include_sold_out=include_sold_out,
        shop=cooperative,
    )
    _out().print(Text(f"{index.products} products in {index.pages} pages under {index.folder}"))
    if serve:
        publisher.serve(out, host=host, port=port, media_root=cfg.catalog_path(coop).parent)


# ------------------------------------------------------------------------------- run
@app.command()
def run(
    config_path: Annotated[Path, typer.Option("--config", help="The daemon config file.")],
    log_level: Annotated[
        str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
    ] = "INFO",
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="json, console, or auto (JSON lines unless on a terminal).",
        ),
    ] = "auto",
) -> None:
    """Run the daemon: a pass on every catalog save, orders, reviews and read-backs on
    their schedules, until SIGTERM or Ctrl-C (docs/deploy.md)."""
    import signal

    from syndicator.common.logs import configure_logging
    from syndicator.errors import DaemonStartError
    from syndicator.service.daemon import Daemon
    from syndicator.store.tokens import stored_secrets

    if log_format not in ("json", "console", "auto"):
        _err().print("--log-format takes json, console or auto", style="red")
        raise typer.Exit(2)
    config = _load_config(config_path)
    redactor = configure_logging(
        json={"json": True, "console": False, "auto": None}[log_format],
        level=log_level.upper(),
        redact=config.secret_values(),
    )
    daemon = Daemon(config)

    def _stop(signum: int, _frame: object) -> None:
        daemon.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        daemon.start()
    except DaemonStartError as exc:
        _err().print(str(exc), style="red", markup=False)
        raise typer.Exit(3) from None
    redactor.add(*daemon.config.secret_values(), *stored_secrets(daemon.store))
    try:
        while not daemon.stopping.wait(timeout=0.5):
            pass
    finally:
        daemon.shutdown()
    if not daemon.stopped.is_set() or any(w.thread.is_alive() for w in daemon.workers.values()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # a pass abandoned inside a channel call: leave now (safe, see daemon)


reviews_app = typer.Typer(
    help="Reviews pulled from every channel: export them, report on them (docs/reviews.md).",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")


@reviews_app.command("export")
def reviews_export(
    config: ConfigOption,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, parquet or jsonl (docs/reviews.md).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.", dir_okay=False)],
    since: SinceOption = None,
    channel: ChannelOption = None,
    cooperative: CooperativeOption = None,
) -> None:
    """Write the stored reviews to a CSV (safe to open in a spreadsheet), Parquet or JSON
    Lines file, streamed in batches. No buyer data and no secret is ever exported."""
    from syndicator.reviews.export import FORMATS, export_reviews

    if fmt not in FORMATS:
        _err().print(f"--format takes {', '.join(FORMATS)}", style="red", markup=False)
        raise typer.Exit(2)
    with _reviews_in_scope(config, since, cooperative, channel) as (store, where):
        written = export_reviews(store, out, fmt, where)
    _err().print(f"{written} review(s) written to {out}", markup=False)


@contextmanager
def _reviews_in_scope(
    config: Path, since: str | None, cooperative: str | None, channel: str | None
) -> Iterator[tuple[Store, ReviewFilter]]:
    """What ``reviews export`` and ``reviews report`` both start with: ``--since`` read, the
    config loaded, ``--cooperative`` and ``--channel`` checked against it (exit 2 for any of
    them wrong), then the store opened (and closed after) and the reviews those options
    select."""
    from syndicator.reviews.store import ReviewFilter

    try:
        start = _since_date(since)
    except ValueError as exc:
        _err().print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    cfg = _load_config(config)
    _check_scope(cfg, cooperative, channel)
    store = Store(cfg.database_url)
    try:
        yield store, ReviewFilter(since=start, cooperative=cooperative, channel=channel)
    finally:
        store.close()


def _since_date(text: str | None) -> datetime | None:
    """``--since``: a date (midnight UTC) or an ISO time; naive times are UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: give a date as YYYY-MM-DD") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_scope(cfg: Config, cooperative: str | None, channel: str | None) -> None:
    """``--cooperative`` and ``--channel`` name ids of the config, or the command stops (2)."""
    from syndicator.common.problems import did_you_mean

    coops = [c for c in cfg.cooperatives if cooperative in (None, c.id)]
    channels = {ch.id for c in coops for ch in c.channels}
    for flag, value, known in (
        ("cooperative", cooperative, [c.id for c in cfg.cooperatives]),
        ("channel", channel, sorted(channels)),
    ):
        if value is not None and value not in known:
            hint = did_you_mean(value, known)
            _err().print(f"no {flag} {value!r} in the config{hint}", style="red", markup=False)
            raise typer.Exit(2)


@reviews_app.command("report")
def reviews_report(
    config: ConfigOption,
    by: Annotated[
        str, typer.Option(help="Group by channel, cooperative, sku, month or language.")
    ] = "channel",
    since: SinceOption = None,
    channel: ChannelOption = None,
    cooperative: CooperativeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (one line).")
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option(help="Also draw satisfaction by month as a PNG here.", dir_okay=False),
    ] = None,
) -> None:
    """Satisfaction per channel (or cooperative, SKU, month, language): the share of 4 and 5
    star ratings among rated product reviews, with n and a 95 % Wilson interval, the mean
    rating and the trend by month. Seller feedback is counted apart, never in a rate.
    Every figure is defined in docs/reviews.md."""
    from syndicator.reviews.report import GroupBy, render_report, satisfaction_report

    if by not in set(GroupBy):
        _err().print(f"--by takes {', '.join(GroupBy)}", style="red", markup=False)
        raise typer.Exit(2)
    with (
        _reviews_in_scope(config, since, cooperative, channel) as (store, where),
        store.read() as conn,
    ):
        report = satisfaction_report(conn, GroupBy(by), where)
    if chart is not None:
        from syndicator.reviews.chart import write_chart  # matplotlib: only for a chart

        write_chart(report, chart)
    if as_json:
        # One line, written group by group as it is made: a report by SKU holds hundreds of
        # thousands of months (pipe it through `jq .` to read it).
        sys.stdout.writelines(report.iter_json())
        sys.stdout.write("\n")
        sys.stdout.flush()
    else:
        out = _out()
        for part in render_report(report):
            out.print(part)
    if chart is not None:
        _err().print(f"chart written to {chart}", markup=False)


def main() -> None:
    """Entry point of the ``syndicator`` console script."""
    if os.environ.get("PYTHONIOENCODING") is None and sys.stdout.encoding.lower() != "utf-8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
        sys.stderr.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    # What the imports made lives as long as the process: frozen, the cycle collector never
    # walks it again, neither at each full collection nor at exit, where that took 0.2 to
    # 0.3 s of every command (docs/benchmarks.md, "Reviews report").
    gc.freeze()
    app()

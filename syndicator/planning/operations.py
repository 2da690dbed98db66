"""The plan: what each channel needs now, compared with what it was last confirmed to show.

Pure: it takes projections (what the channel should show), the units held back, and the
listing states from the store, and gives one :class:`PlannedOp` per SKU. An action is the
most thorough change needed: ``create`` > ``update`` (content) > ``reprice`` > ``restock``;
``delist`` for a SKU gone from the catalog or turned off for the channel; ``hold`` for a SKU
that keeps its last good state because of a problem, or that a read-back found otherwise
on the shop and ``sync.drift: report`` leaves so; ``unchanged`` when nothing differs (no
call will be made).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from syndicator.domain.listings import LISTED_IF_REMOTE, ListingState
from syndicator.domain.money import Money
from syndicator.planning.projection import Disabled, Held, Projection, Unchanged

__all__ = ["REMOVED", "WRITE_ACTIONS", "Action", "PlannedOp", "confirmed_state", "plan_channel"]


REMOVED = "no longer in the catalog"  # the reason of a removed SKU's delist


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPRICE = "reprice"
    RESTOCK = "restock"
    DELIST = "delist"
    DELETE = "delete"  # never planned: a sync turns a removed SKU's delist into it on request
    HOLD = "hold"
    UNCHANGED = "unchanged"


# The actions that change something on the channel (hold and unchanged send nothing).
WRITE_ACTIONS = frozenset(
    (Action.CREATE, Action.UPDATE, Action.REPRICE, Action.RESTOCK, Action.DELIST, Action.DELETE)
)


@dataclass(frozen=True, slots=True)
class PlannedOp:
    cooperative: str
    channel: str
    sku: str
    parent_sku: str | None
    action: Action
    changes: tuple[str, ...] = ()
    language: str | None = None
    title: str | None = None
    price: Money | None = None
    quantity: int | None = None
    previous_price: Money | None = None
    previous_quantity: int | None = None
    reason: str | None = None
    projection: Projection | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "cooperative": self.cooperative,
            "channel": self.channel,
            "sku": self.sku,
            "parent_sku": self.parent_sku,
            "action": str(self.action),
            "changes": list(self.changes),
            "language": self.language,
            "title": self.title,
            "price": self.price.to_json() if self.price else None,
            "quantity": self.quantity,
            "previous_price": self.previous_price.to_json() if self.previous_price else None,
            "previous_quantity": self.previous_quantity,
            "reason": self.reason,
        }


def _money(state: ListingState | None) -> Money | None:
    if state is None or state.price is None or state.currency is None:
        return None
    return Money(state.price, state.currency)


def _op(
    cooperative: str,
    channel: str,
    sku: str,
    parent: str | None,
    action: Action,
    state: ListingState | None,
    *,
    projection: Projection | None = None,
    changes: tuple[str, ...] = (),
    reason: str | None = None,
) -> PlannedOp:
    previous_price = _money(state)
    p = projection
    return PlannedOp(
        cooperative,
        channel,
        sku,
        parent,
        action,
        changes=changes,
        language=p.language if p else None,
        title=p.title if p else None,
        price=p.price if p else None,
        quantity=p.quantity if p else None,
        previous_price=previous_price,
        previous_quantity=state.quantity if state else None,
        reason=reason,
        projection=p,
    )


def _diff(state: ListingState, p: Projection) -> tuple[Action, tuple[str, ...]]:
    changes = []
    if state.fingerprint != p.fingerprint:
        changes.append("content")
    if state.price != p.price.amount or state.currency != p.price.currency:
        changes.append("price")
    if state.quantity != p.quantity:
        changes.append("quantity")
    if "content" in changes:
        return Action.UPDATE, tuple(changes)
    if "price" in changes:
        return Action.REPRICE, tuple(changes)
    if changes:
        return Action.RESTOCK, tuple(changes)
    return Action.UNCHANGED, ()


def plan_channel(
    cooperative: str,
    channel: str,
    results: Iterable[Projection | Held | Disabled | Unchanged],
    held: Mapping[str, str],
    listings: Mapping[str, ListingState],
    *,
    also_seen: Collection[str] = (),
    available: Mapping[str, int] | None = None,
) -> list[PlannedOp]:
    """One operation per SKU known to the catalog or the store, in catalog order.

    ``held``: SKUs left out of the catalog because of a problem (SKU -> reason); like a
    :class:`Held` result, they keep their last good state. ``also_seen``: SKUs in the
    catalog that were left out unchecked because nothing changed (no op, never delisted).
    ``available``: what the channel may show of each SKU held by the catalog (its row is
    left out), where known. A held listing that shows more than it may (a :class:`Held`
    result says so itself) is taken off sale: a sale elsewhere must reach it even while
    its row is broken.
    """
    ops: list[PlannedOp] = []
    seen: set[str] = set(also_seen)
    available = available or {}
    op = functools.partial(_op, cooperative, channel)
    for r in results:
        seen.add(r.sku)
        state = listings.get(r.sku)
        if isinstance(r, Unchanged) and state is not None and state.drift:
            ops.append(op(r.sku, r.parent_sku, Action.HOLD, state, reason=_kept(state.drift)))
        elif isinstance(r, Unchanged):
            assert state is not None
            money = _money(state)
            ops.append(
                PlannedOp(cooperative, channel, r.sku, r.parent_sku, Action.UNCHANGED,
                          price=money, quantity=state.quantity, previous_price=money,
                          previous_quantity=state.quantity)
            )  # fmt: skip
        elif isinstance(r, Held):
            ops.append(_hold(op, r.sku, r.parent_sku, state, r.reason, r.quantity))
        elif isinstance(r, Disabled):
            if state is not None and state.listed:
                why = f"turned off for {channel} in the catalog"
                ops.append(op(r.sku, r.parent_sku, Action.DELIST, state, reason=why))
        elif (state is None or not state.listed) and r.quantity == 0 and _in_flight(state):
            # A create sent (or failed) without an answer may have gone through: with none
            # left to sell it is taken off sale, wherever it is, rather than left unknown.
            why = "none available; a create that may have gone through is taken off sale"
            ops.append(op(r.sku, r.parent_sku, Action.DELIST, state, reason=why))
        elif state is None or not state.listed:
            action, why = (
                (Action.UNCHANGED, "none available; not listed")
                if r.quantity == 0
                else (Action.CREATE, "new listing")
            )
            ops.append(op(r.sku, r.parent_sku, action, state, projection=r, reason=why))
        else:
            action, changes = _diff(state, r)
            if action is Action.UNCHANGED and state.drift:
                action, why = Action.HOLD, _kept(state.drift)
                ops.append(op(r.sku, r.parent_sku, action, state, projection=r, reason=why))
                continue
            ops.append(op(r.sku, r.parent_sku, action, state, projection=r, changes=changes))
    for sku, reason in held.items():
        if sku not in seen:
            seen.add(sku)
            state = listings.get(sku)
            parent = state.parent_sku if state else None
            ops.append(_hold(op, sku, parent, state, reason, available.get(sku)))
    for sku, state in listings.items():
        if sku not in seen and state.listed:
            why = REMOVED
            ops.append(op(sku, state.parent_sku, Action.DELIST, state, reason=why))
    return ops


def _in_flight(state: ListingState | None) -> bool:
    """A create marked before it was sent, or one that failed: the channel may have it."""
    return state is not None and state.status in LISTED_IF_REMOTE


def _kept(drift: str) -> str:
    """Why a listing a read-back found otherwise is held (``sync.drift: report``)."""
    return f"{drift}; left as the shop shows it (sync.drift: report)"


def _hold(
    op: functools.partial[PlannedOp],
    sku: str,
    parent: str | None,
    state: ListingState | None,
    reason: str,
    allowed: int | None,
) -> PlannedOp:
    """Hold: keep the last good state, unless it shows more than the channel may show now
    (``allowed``: what is left, less the channel's buffer, within its cap).

    Taken off sale rather than restocked: a held row's other values cannot be trusted, and
    a listing off sale comes back whole with the next good pass."""
    if (
        state is not None
        and state.listed
        and allowed is not None
        and (allowed == 0 or state.quantity is None or state.quantity > allowed)
    ):
        why = (
            f"{reason}; it may show only {allowed} now, fewer than it shows: taken off sale "
            "until the row is fixed"
        )
        return op(sku, parent, Action.DELIST, state, reason=why)
    return op(sku, parent, Action.HOLD, state, reason=reason)


def confirmed_state(op: PlannedOp, remote_id: str | None = None) -> ListingState | None:
    """What the store records once the channel has confirmed ``op`` (None: nothing to record).

    The one place that turns a done operation into the state later plans compare with.
    """
    if op.action is Action.DELIST:
        return ListingState(op.sku, "delisted", op.parent_sku, remote_id)
    if op.action is Action.DELETE:
        return ListingState(op.sku, "deleted", op.parent_sku, None)
    p = op.projection
    if p is None or op.action in (Action.HOLD, Action.UNCHANGED):
        return None
    return ListingState(
        sku=op.sku,
        status="active" if p.quantity > 0 else "inactive",
        parent_sku=op.parent_sku,
        remote_id=remote_id,
        fingerprint=p.fingerprint,
        price=p.price.amount,
        currency=p.price.currency,
        quantity=p.quantity,
        language=p.language,
        input_key=p.input_key,
    )

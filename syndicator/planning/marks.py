"""Quiet marks and basis marks: what lets a pass with nothing new to do read nothing.

Most passes of a daemon find nothing to do: the file is as it was, no order came in, every
channel shows what it was last confirmed to show. Planning would read and hash every row
of the catalog only to find that out (seconds for 100,000 SKUs). Instead, after a pass in
which a channel needed no change, or every change it needed was confirmed, and nothing
failed, the pass records a *quiet mark* for that channel (:func:`keep_marks`): a digest of
everything a plan of it depends on,

- the catalog file's bytes (:attr:`~syndicator.catalog.CatalogRows.digest`: the bytes the
  plan read, not whatever is on disk later);
- the channel's input-key prefix (its settings, exchange rate and Syndicator's version,
  see :func:`~syndicator.planning.projection.key_prefix`);
- the cooperative's ledger and stock counts, and the channel's listings in the store, each
  summed up by a few aggregates (:mod:`syndicator.store.marks`) that any write changes.

The next pass computes the same digest first (:mod:`syndicator.planning.selector`); when
it matches for every channel it plans, that channel is quiet and the catalog is not read at
all. Anything else (an edit, an order, a failed or marked change, a new rate) changes the
digest and the pass plans as usual.

A pass of every channel of a cooperative also keeps a *basis*
(:mod:`syndicator.planning.basis`) and, per channel, a *basis mark*: the same digest as the
basis saw the store, so that the next pass can tell whether it may start from the basis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from syndicator.catalog.loader import path_digest
from syndicator.planning.basis import Basis, save_basis
from syndicator.planning.model import CooperativePlan
from syndicator.planning.operations import Action
from syndicator.store.cursors import write_cursor
from syndicator.store.marks import cooperative_part, forget_mark, listing_part

__all__ = [
    "BASIS_STREAM",
    "QUIET_STREAM",
    "Sent",
    "basis_to_keep",
    "digest_of",
    "keep_marks",
    "mark_of",
]

QUIET_STREAM = "quiet_plan"
BASIS_STREAM = "basis_plan"  # the mark a pass leaves with its basis
MARK_VERSION = "q1"  # bump when what the mark covers changes


def digest_of(path: Path) -> str | None:
    """The digest of the file at ``path`` now (None when it cannot be read: plan as usual,
    the plan says what is wrong)."""
    try:
        return path_digest(path)
    except OSError:
        return None


def mark_of(
    digest: str, key_prefix: str, shared: tuple[object, ...], own: tuple[object, ...]
) -> str:
    """The mark of a channel with input-key prefix ``key_prefix``, the catalog file whose
    bytes have ``digest``, the cooperative's part and the channel's own part of the store
    (:mod:`syndicator.store.marks`)."""
    parts = (MARK_VERSION, digest, key_prefix, *shared, *own)
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Sent:
    """What a pass made of one channel's plan: the SKUs whose change the channel confirmed,
    and whether it went through cleanly (not stopped, nothing failed)."""

    confirmed: frozenset[str]
    clean: bool


def keep_marks(
    conn: Connection,
    cplan: CooperativePlan,
    now: datetime,
    sent: Mapping[str, Sent] | None = None,
    *,
    whole: bool = True,
) -> None:
    """What the next pass starts from, once this one has sent all it could (call it in one
    transaction after the pass's writes are saved).

    Each channel in step with the catalog gets its quiet mark, the others lose theirs. In
    step: every change the plan asked of it was confirmed (or none was needed), nothing
    failed, nothing was left for later; the store then holds what a new plan would find in
    step. ``sent``: channel id -> what the pass made of its plan (None: every change of
    every channel was confirmed). ``whole`` (every channel of the cooperative planned):
    the basis too, with each channel's basis mark.
    """
    planned = [c for c in cplan.channels if not c.quiet]
    if not planned:
        return  # every channel quiet: their marks and the basis hold as they are
    writes = {c.channel.id: c.writes() for c in planned}
    if sent is None:
        sent = {channel: Sent(frozenset(skus), True) for channel, skus in writes.items()}
    digest = cplan.digest
    basis = None
    if whole and cplan.draft is not None and digest is not None:
        unconfirmed: set[str] = set()
        for chplan in planned:
            done = sent.get(chplan.channel.id)
            if chplan.channel.enabled and (done is None or chplan.key_prefix is None):
                break  # a channel not planned: no basis
            if done is not None:
                unconfirmed |= writes[chplan.channel.id] - done.confirmed
        else:
            basis = basis_to_keep(cplan, unconfirmed)
    coop = cplan.cooperative.id
    if basis is not None:
        save_basis(conn, coop, basis, now)
    shared = cooperative_part(conn, coop)
    for chplan in planned:
        ch, done = chplan.channel, sent.get(chplan.channel.id)
        if digest is None or chplan.key_prefix is None or done is None:
            forget_mark(conn, coop, ch.id, QUIET_STREAM)
            continue
        mark = mark_of(digest, chplan.key_prefix, shared, listing_part(conn, coop, ch.id))
        if done.clean and writes[ch.id] <= done.confirmed:
            write_cursor(conn, coop, ch.id, QUIET_STREAM, mark, now)
        else:
            forget_mark(conn, coop, ch.id, QUIET_STREAM)
        if basis is not None:
            write_cursor(conn, coop, ch.id, BASIS_STREAM, mark, now)


def basis_to_keep(cplan: CooperativePlan, unconfirmed: Collection[str] = ()) -> Basis | None:
    """The basis to remember once the plan's changes were sent (see
    :mod:`syndicator.planning.basis`): the products none of whose SKUs the catalog or a channel
    holds (whether the channel keeps its last state or takes it off sale), or has a change
    not confirmed by its channel (``unconfirmed``: failed or not sent). None when the plan
    leaves none (not a whole CSV file planned)."""
    if cplan.draft is None:
        return None
    held = cplan.catalog.held.keys() if cplan.catalog else set()
    left_out = set(held)
    left_out.update(unconfirmed)
    touched: set[str] = set()  # every SKU with an op: listed somewhere, maybe
    for chplan in cplan.channels:
        left_out.update(op.sku for op in chplan.ops if op.action is Action.HOLD)
        left_out.update(chplan.held)
        touched.update(op.sku for op in chplan.ops)
    return cplan.draft.basis(left_out, held | touched)
